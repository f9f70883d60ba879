import { accountByEmail, signedInAt } from '../helpers/account-pages.ts';
import { nextAppCode } from '../helpers/authenticator-app.ts';
import { csrfToken, formAction, PageClient } from '../helpers/page-client.ts';
import type { TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

/** An authenticator app as a phone holds it: the key, and the last step it showed. */
export type App = { secret: string; step: number };

/**
 * An account for `email` (made by signing in once) with an authenticator app enrolled through the
 * service, as /account/security would: its own codes are computed here.
 */
export async function accountWithApp(server: TestServer, email: string): Promise<{ id: string; app: App }> {
  await signedInAt(server, '/account', email);
  const { id } = await accountByEmail(server, email);
  const { totp } = server.app.services;
  const enrollment = await totp.beginEnrollment(id, email);
  const { code, step } = await nextAppCode(enrollment.secret, 0, server.clock);
  const confirmed = await totp.confirmEnrollment(id, enrollment.pending, code);
  if (confirmed !== 'ok') throw new Error(`enrollment ${confirmed}`);
  return { id, app: { secret: enrollment.secret, step } };
}

/**
 * Signs in without JavaScript from `start` (a page that sends the browser to sign in), by email code
 * and then the app's code when the second step asks for it; where the browser ends up.
 */
export async function signInWithApp(server: TestServer, start: string, email: string, app: App, client?: PageClient) {
  const signedIn = await signInThroughPages(server.url, new URL(start, server.url).href, email, {
    client: client ?? new PageClient(server.url),
  });
  let { url, html, response } = signedIn;
  if (html.includes('/mfa/totp"')) {
    const next = await nextAppCode(app.secret, app.step, server.clock);
    app.step = next.step;
    ({ response, url } = await signedIn.client.follow(formAction(html, '/mfa/totp'), {
      form: { _csrf: csrfToken(html), code: next.code },
    }));
    html = await response.text();
  }
  return { url, html, response, client: signedIn.client };
}

export async function createOrganization(server: TestServer, email: string, name: string, slug: string) {
  const { id } = await accountByEmail(server, email);
  const { organization } = await server.app.services.organizations.create(id, { name, slug });
  return organization;
}
