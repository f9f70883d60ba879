import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { submitForm } from '../helpers/account-pages.ts';
import { redeem, submit } from '../helpers/authorization.ts';
import { federationSetUp } from '../helpers/federation.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

const QUEEN = 'queen@example.com';
const ADA = { sub: 'acme-ada', email: 'ada@acme.example', email_verified: true, name: 'Ada' };

test('a suspended account cannot sign in through an upstream provider either', async (t) => {
  const { server, acme, config, signInPage } = await federationSetUp(t, { PLATFORM_OWNER_EMAIL: QUEEN });
  acme.state.person = ADA;
  const first = await signInPage({ scope: 'openid' });
  const consent = await continueWith(first.client, first, 'acme');
  const { sub } = await redeem(config, (await submit(first.client, consent, '/confirm')).url, first.check);

  const queen = await apiToken(server, QUEEN, ['platform:manage']);
  const suspended = await callApi(server, queen, 'POST', `/api/platform/accounts/${sub}/suspend`, { reason: 'Spam' });
  t.is(suspended.status, 200);

  const again = await signInPage({ scope: 'openid' });
  const refused = await continueWith(again.client, again, 'acme');
  t.is(refused.response.status, 403);
  t.regex(refused.html, /This account is suspended by the FairyID platform owner/);
  const events = await server.app.services.audit.recentFor(sub, 20);
  t.like(events.find((event) => event.event === 'sign_in_refused')?.detail, { method: 'federated', provider: 'acme' });
});

test('an account that signs in only through a provider deletes itself, and the same upstream identity then makes a new account', async (t) => {
  const { server, acme, config, signInPage } = await federationSetUp(t);
  acme.state.person = ADA;
  const first = await signInPage({ scope: 'openid' });
  const consent = await continueWith(first.client, first, 'acme');
  const { sub } = await redeem(config, (await submit(first.client, consent, '/confirm')).url, first.check);

  // The same browser is signed in to FairyID's own pages.
  const overview = await (await first.client.request('/account')).text();
  const deleted = await submitForm(first.client, overview, '/account/data/delete', { confirm: 'delete my account' });
  t.is(deleted.response.status, 200);
  t.regex(deleted.html, /Your account is deleted/);
  t.notRegex(deleted.html, /We sent a note/, 'it had no address to tell');
  const linked = await server.app.services.db.selectFrom('linked_identities').selectAll().execute();
  t.deepEqual(linked, []);

  const again = await signInPage({ scope: 'openid' });
  const consentAgain = await continueWith(again.client, again, 'acme');
  const { sub: newSub } = await redeem(config, (await submit(again.client, consentAgain, '/confirm')).url, again.check);
  t.not(newSub, sub);
  t.is((await server.app.services.accounts.findById(sub))?.status, 'deleted');
});
