import type { Message } from './define-messages.ts';
import type { Locale } from './locales.ts';
import { commonMessages } from './messages/common.ts';
import { platformMessages } from './messages/platform.ts';

/**
 * Every area's messages joined per language. An area is one file in messages/, named after the
 * pages or messages it serves; keys start with the area's name so two areas never collide.
 */
const areas = [commonMessages, platformMessages] as const;

type Area = (typeof areas)[number];
type KeysOf<A> = A extends { readonly en: Record<infer K, Message> } ? K : never;
export type MessageKey = KeysOf<Area> & string;

export const catalogs: Readonly<Record<Locale, Readonly<Record<MessageKey, Message>>>> = {
  en: Object.assign({}, ...areas.map((area) => area.en)),
  fr: Object.assign({}, ...areas.map((area) => area.fr)),
};

/** Each area's own key list, for the test that no two areas define the same key. */
export const areaKeys: readonly (readonly string[])[] = areas.map((area) => Object.keys(area.en));
