import type { Message } from './define-messages.ts';
import type { Locale } from './locales.ts';
import { activityMessages } from './messages/activity.ts';
import { apiErrorMessages } from './messages/api-errors.ts';
import { emailMessages } from './messages/email.ts';
import { errorMessages } from './messages/errors.ts';
import { noticeMessages } from './messages/notices.ts';
import { scopeMessages } from './messages/scopes.ts';
import { signInFormMessages } from './messages/sign-in-form.ts';
import { smsMessages } from './messages/sms.ts';
import { timeMessages } from './messages/time.ts';
import { upstreamMessages } from './messages/upstream.ts';
import { platformMessages } from './messages/platform.ts';
import { verificationMessages } from './messages/verification.ts';
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
  // What routes and services say (src/i18n/README.md): pages' problems and notices, emails, texts.
  activityMessages,
  apiErrorMessages,
  emailMessages,
  errorMessages,
  noticeMessages,
  scopeMessages,
  signInFormMessages,
  smsMessages,
  timeMessages,
  upstreamMessages,
  verificationMessages,
  // The pages' own words (views/).
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
  // The platform console's pages.
  platformMessages,
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
