import test from 'ava';
import { CLOSE } from '../../../src/environments/terminal/close-codes.ts';
import { signedInAt } from '../../helpers/account-pages.ts';
import { readForm } from '../../helpers/html-form.ts';
import { csrfToken, type PageClient } from '../../helpers/page-client.ts';
import type { TestServer } from '../../helpers/server.ts';
import { openTerminal } from '../../helpers/terminal-client.ts';
import { runningEnvironment, startTerminalServer } from '../../helpers/terminal-environment.ts';

const asRoot = process.getuid?.() === 0;
// Serial: local machines started side by side have tripped over each other's run folders.
const rootTest = asRoot ? test.serial : test.skip;

/** The terminal page's own way in: a ticket through the signed-in page session, then the socket. */
async function pageTerminal(server: TestServer, email: string) {
  const environment = await runningEnvironment(server, email);
  const before = await sessionsOf(server, email);
  const path = `/account/environments/${environment.id}/terminal`;
  const { client, html } = await signedInAt(server, path, email);
  // The app's sign-in (for the token) is a session of its own; the page's is the new one.
  const pageSession = (await sessionsOf(server, email)).find((uid) => !before.includes(uid)) ?? '';
  const csrf = /data-csrf="([^"]+)"/.exec(html)?.[1] ?? '';
  const ticket = await pageTicket(client, path, csrf);
  if (ticket.status !== 201) throw new Error(`the page's ticket answered ${ticket.status}`);
  const { url } = (await ticket.json()) as { url: string };
  const terminal = await openTerminal(url, { origin: server.url });
  await terminal.hello();
  terminal.type('echo "page-$((3*5))"\r');
  await terminal.waitFor('page-15');
  return { client, terminal, path, csrf, pageSession };
}

/** What the page's script does: POST .../terminal/ticket with the page's CSRF token in a header. */
const pageTicket = (client: PageClient, path: string, csrf: string) =>
  client.request(`${path}/ticket`, { method: 'POST', headers: { 'x-csrf-token': csrf } });

/** The uids of the person's open sessions, as the Devices page lists them. */
async function sessionsOf(server: TestServer, email: string): Promise<string[]> {
  const rows = await server.app.services.db
    .selectFrom('account_sessions')
    .innerJoin('accounts', 'accounts.id', 'account_sessions.account_id')
    .select('account_sessions.session_uid')
    .where('accounts.email', '=', email)
    .where('account_sessions.ended_at', 'is', null)
    .execute();
  return rows.map((row) => row.session_uid);
}

async function signOutHere(client: PageClient) {
  const confirm = await client.request('/session/end');
  const form = readForm(await confirm.text(), 'op.logoutForm');
  const { url } = await client.follow(form.action, { form: { ...form.fields, logout: 'yes' } });
  if (url.pathname !== '/session/end/success') throw new Error(`the sign-out ended at ${url.pathname}`);
}

rootTest('signing out on the page’s device closes its terminal with 4003 "access revoked"', async (t) => {
  const { server } = await startTerminalServer(t);
  const { client, terminal, path, csrf } = await pageTerminal(server, 'leaving@example.com');
  await signOutHere(client);
  t.deepEqual(await terminal.closedPromise, { code: CLOSE.revoked.code, reason: 'access revoked' });
  const again = await pageTicket(client, path, csrf);
  t.is(again.status, 401, 'no new ticket without signing in again');
});

rootTest(
  'signing the page’s session out from another device closes its terminal, and its ticket opens nothing',
  async (t) => {
    const { server } = await startTerminalServer(t);
    const email = 'two-devices@example.com';
    const { terminal, path, client, csrf, pageSession } = await pageTerminal(server, email);
    // A ticket fetched before the sign-out and presented after it is refused.
    const unused = await pageTicket(client, path, csrf);
    t.is(unused.status, 201);
    const { url: unusedUrl } = (await unused.json()) as { url: string };

    const other = await signedInAt(server, '/account/sessions', email);
    const signOut = await other.client.request('/account/sessions/sign-out', {
      form: { _csrf: csrfToken(other.html), session: pageSession },
    });
    t.is(signOut.status, 303);
    t.deepEqual(await terminal.closedPromise, { code: CLOSE.revoked.code, reason: 'access revoked' });
    const refused = await t.throwsAsync(openTerminal(unusedUrl, { origin: server.url }));
    t.is((refused as Error & { status?: number }).status, 401);
  },
);

rootTest(
  'a page session that disappears without a sign-out (the store forgot it) ends its terminal at the next check',
  async (t) => {
    const { server } = await startTerminalServer(t);
    const email = 'forgotten@example.com';
    const { terminal, pageSession } = await pageTerminal(server, email);
    // As the embedded store does at a restart: the session is simply gone, and no grant was revoked.
    const session = await server.app.provider.current().Session.findByUid(pageSession);
    t.truthy(session);
    await session?.destroy();
    t.deepEqual(await terminal.closedPromise, { code: CLOSE.revoked.code, reason: 'access revoked' });
  },
);
