import type { Message } from './define-messages.ts';
import type { Locale } from './locales.ts';
import { apiReferenceMessages } from './messages/api-reference.ts';
import { accountMessages } from './messages/account.ts';
import { commonMessages } from './messages/common.ts';
import { consentMessages } from './messages/consent.ts';
import { developerMessages } from './messages/developer.ts';
import { devMessages } from './messages/dev.ts';
import { deviceMessages } from './messages/device.ts';
import { environmentMessages } from './messages/environments.ts';
import { errorPageMessages } from './messages/error-page.ts';
import { homeMessages } from './messages/home.ts';
import { invitationMessages } from './messages/invitation.ts';
import { loginMessages } from './messages/login.ts';
import { mfaMessages } from './messages/mfa.ts';
import { passkeyMessages } from './messages/passkeys.ts';
import { securityMessages } from './messages/security.ts';
import { signOutMessages } from './messages/sign-out.ts';

/**
 * Every area's messages joined per language. An area is one file in messages/, named after the
 * pages or messages it serves; keys start with the area's name so two areas never collide.
 */
const areas = [
  commonMessages,
  loginMessages,
  mfaMessages,
  passkeyMessages,
  securityMessages,
  consentMessages,
  deviceMessages,
  signOutMessages,
  errorPageMessages,
  homeMessages,
  apiReferenceMessages,
  invitationMessages,
  devMessages,
  accountMessages,
  developerMessages,
  environmentMessages,
] as const;

type Area = (typeof areas)[number];
type KeysOf<A> = A extends { readonly en: Record<infer K, Message> } ? K : never;
export type MessageKey = KeysOf<Area> & string;

export const catalogs: Readonly<Record<Locale, Readonly<Record<MessageKey, Message>>>> = {
  en: Object.assign({}, ...areas.map((area) => area.en)),
  fr: Object.assign({}, ...areas.map((area) => area.fr)),
};

/** Each area's own key list, for the test that no two areas define the same key. */
export const areaKeys: readonly (readonly string[])[] = areas.map((area) => Object.keys(area.en));
