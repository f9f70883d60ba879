import test from 'ava';
import { redeem, submit } from '../helpers/authorization.ts';
import { federationSetUp } from '../helpers/federation.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

test('a first sign-in through a generic OpenID provider creates an account with its sign-up DUST', async (t) => {
  const { server, acme, config, signInPage } = await federationSetUp(t);
  acme.state.person = { sub: 'acme-ada', email: 'ada@acme.example', email_verified: true, name: 'Ada' };
  const signIn = await signInPage({ scope: 'openid email' });
  t.regex(signIn.html, /Continue with Acme SSO/);
  t.regex(signIn.html, /Continue with Google/);

  const consent = await continueWith(signIn.client, signIn, 'acme');
  t.is(consent.url.pathname.startsWith('/interaction/'), true, consent.url.href);
  const done = await submit(signIn.client, consent, '/confirm');
  const claims = await redeem(config, done.url, signIn.check);
  t.deepEqual(claims.amr, ['fed']);
  t.is(claims.acr, '1fa');

  const account = await server.app.services.accounts.findById(claims.sub);
  // A generic provider's address is not one FairyID may vouch for: the account does not take it.
  t.is(account?.email, null);
  t.is(await server.app.services.ledger.balance('person', claims.sub), 25);
  t.is(acme.state.tokenRequests, 1);

  // The next sign-in with the same upstream identity is the same account, and no second grant of DUST.
  const again = await signInPage({ scope: 'openid email' });
  const consentAgain = await continueWith(again.client, again, 'acme');
  const doneAgain = await submit(again.client, consentAgain, '/confirm');
  t.is((await redeem(config, doneAgain.url, again.check)).sub, claims.sub);
  t.is(await server.app.services.ledger.balance('person', claims.sub), 25);
});
