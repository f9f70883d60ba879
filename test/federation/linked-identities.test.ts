import test from 'ava';
import { land } from '../helpers/authorization.ts';
import { signedInAt, submitForm } from '../helpers/account-pages.ts';
import { federationSetUp } from '../helpers/federation.ts';
import { PageClient } from '../helpers/page-client.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

const PAGE = '/account/providers';

test('the account page lists linked providers, unlinks one, and refuses to unlink the last way to sign in', async (t) => {
  const { server, acme, google } = await federationSetUp(t);

  // Someone who signs in only with Acme SSO: an account without an email address.
  acme.state.person = { sub: 'acme-only', email: 'only@acme.example', email_verified: true, name: 'Olly' };
  const olly = new PageClient(server.url);
  const signIn = await land(olly, PAGE);
  const ollyPage = await continueWith(olly, signIn, 'acme');
  t.is(ollyPage.url.pathname, PAGE);
  t.regex(ollyPage.html, /<h2 class="app-name">Acme SSO<\/h2>/);
  t.regex(ollyPage.html, /Olly · only@acme.example/);
  const refused = await submitForm(olly, ollyPage.html, `${PAGE}/unlink`, {
    identity: /name="identity" value="([^"]+)"/.exec(ollyPage.html)?.[1] ?? '',
  });
  t.is(refused.response.status, 409);
  t.regex(refused.html, /This is the only way you sign in/);
  t.regex(refused.html, /Acme SSO/);

  // Someone with an email address who also linked Google can unlink it.
  google.state.person = { sub: 'google-rae', email: 'rae@example.com', email_verified: true };
  const { client: rae } = await signedInAt(server, '/account', 'rae@example.com');
  const raeSignIn = await land(rae, `${PAGE}`);
  t.regex(raeSignIn.html, /No sign-in provider is linked/);
  // Signing in again through Google (a fresh sign-in of the same browser) links it by its verified address.
  const fresh = new PageClient(server.url);
  const googleSignIn = await land(fresh, PAGE);
  const raePage = await continueWith(fresh, googleSignIn, 'google');
  t.regex(raePage.html, /<h2 class="app-name">Google<\/h2>/);
  const identity = /name="identity" value="([^"]+)"/.exec(raePage.html)?.[1] ?? '';

  // Another person's identity is not theirs to unlink.
  const stranger = await submitForm(olly, ollyPage.html, `${PAGE}/unlink`, { identity });
  t.is(stranger.response.status, 404);

  const unlinked = await submitForm(fresh, raePage.html, `${PAGE}/unlink`, { identity });
  t.is(unlinked.response.status, 303);
  const after = await land(fresh, `${PAGE}?unlinked=1`);
  t.regex(after.html, /Unlinked\. That account no longer signs you in here/);
  t.regex(after.html, /No sign-in provider is linked/);
  const events = await server.app.services.db
    .selectFrom('audit_events')
    .select(['event', 'detail'])
    .where('event', 'in', ['identity_linked', 'identity_unlinked'])
    .orderBy('id')
    .execute();
  t.deepEqual(
    events.map((row) => [row.event, (row.detail as { provider?: string }).provider]),
    [
      ['identity_linked', 'google'],
      ['identity_unlinked', 'google'],
    ],
  );
  t.is(raeSignIn.response.status, 200);
});
