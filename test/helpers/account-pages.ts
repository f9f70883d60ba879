import { csrfToken, type PageClient } from './page-client.ts';
import type { TestServer } from './server.ts';
import { signInThroughPages } from './sign-in.ts';

/** A new browser (its own cookies) that signs `email` in by email code on its way to `path`. */
export async function signedInAt(server: TestServer, path: string, email: string) {
  const { url, html, client, response } = await signInThroughPages(server.url, `${server.url}${path}`, email);
  if (url.pathname !== path)
    throw new Error(`signing in on the way to ${path} ended at ${url.href} (${response.status})`);
  return { client, html };
}

/** Posts a form of the page `html` (its CSRF token included) without following the redirect. */
export async function submitForm(
  client: PageClient,
  html: string,
  action: string,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const response = await client.request(action, { form: { _csrf: csrfToken(html), ...fields }, headers });
  return { response, html: await response.text() };
}

export async function accountByEmail(server: TestServer, email: string) {
  return server.app.services.db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
}

/**
 * Moves the sign-in of each of the account's sessions back in time, as if the person had signed in
 * `seconds` earlier (negative: later). oidc-provider measures a session's age (max_age) by the real
 * time, which the test clock does not move.
 */
export async function ageSignIn(server: TestServer, email: string, seconds: number) {
  const account = await accountByEmail(server, email);
  const rows = await server.app.services.db
    .selectFrom('account_sessions')
    .select('session_uid')
    .where('account_id', '=', account.id)
    .execute();
  for (const { session_uid } of rows) {
    const session = await server.app.provider.current().Session.findByUid(session_uid);
    if (!session) continue;
    session.loginTs = (session.loginTs ?? 0) - seconds;
    await session.persist();
  }
}
