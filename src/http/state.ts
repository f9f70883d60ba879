import type { Logger } from 'pino';
import type { Locale } from '../i18n/locales.ts';
import type { Caller } from '../oidc/caller.ts';

// What our middleware leaves on ctx.state, typed once here instead of cast in every route (Koa's
// own DefaultState is `any`).
declare module 'koa' {
  interface DefaultState {
    /** request-frame.ts, for every request. */
    requestId: string;
    log: Logger;
    /** The bearer guard, on /api routes that declare scopes. */
    caller?: Caller;
    /** The platform console's guard: the signed-in platform owner, with a recent second factor. */
    platformOwner?: string;
    /** csrf.ts, for the forms a page renders. */
    csrf?: string;
    /** A page that shows pictures from other origins (security-headers.ts loosens its policy). */
    remoteImages?: boolean;
    /** The one origin a sign-in or consent page shows an app's logo from (security-headers.ts). */
    imageOrigin?: string;
    /** page-locale.ts: the language this request's page is written in, once decided. */
    locale?: Locale;
  }
}
