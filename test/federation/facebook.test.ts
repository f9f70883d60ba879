import test, { type ExecutionContext } from 'ava';
import { redeem, submit } from '../helpers/authorization.ts';
import { startFacebookStandIn } from '../helpers/facebook-stand-in.ts';
import { oauthProviderSetUp } from '../helpers/federation.ts';
import { latestCode } from '../helpers/outbox.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

const SECRET = 'facebook-app-secret-for-fairyid';

async function facebookSetUp(t: ExecutionContext) {
  const facebook = await startFacebookStandIn(t);
  return { ...(await oauthProviderSetUp(t, 'facebook', facebook, { id: '1234567890', secret: SECRET })), facebook };
}

test('Facebook signs in by its user id, and its address links to an account only after a code proves that account', async (t) => {
  const { server, facebook, config, signInPage } = await facebookSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('fay@example.com');

  // No address at all: a new account of its own.
  facebook.state.person = { id: '555', name: 'No Mail' };
  const first = await signInPage();
  t.regex(first.html, /Continue with Facebook/);
  const firstConsent = await continueWith(first.client, first, 'facebook');
  const firstClaims = await redeem(config, (await submit(first.client, firstConsent, '/confirm')).url, first.check);
  t.not(firstClaims.sub, account.id);

  facebook.state.person = { id: '777', name: 'Fay', email: 'fay@example.com' };
  const signIn = await signInPage();
  const proof = await continueWith(signIn.client, signIn, 'facebook');
  t.regex(proof.html, /To sign in to it with\s+Facebook from now on/);
  const consent = await submit(signIn.client, proof, '/federation/link', {
    code: await latestCode(server.url, 'fay@example.com'),
  });
  const claims = await redeem(config, (await submit(signIn.client, consent, '/confirm')).url, signIn.check);
  t.is(claims.sub, account.id);
  t.deepEqual(claims.amr, ['fed', 'otp']);
});

test('a code Facebook refuses (its own error shape) ends on a clear page', async (t) => {
  const { facebook, signInPage } = await facebookSetUp(t);
  facebook.state.person = { id: '888', name: 'X' };
  const signIn = await signInPage();
  const page = await continueWith(signIn.client, signIn, 'facebook', (callback) => {
    const forged = new URL(callback);
    forged.searchParams.set('code', 'not-a-code-facebook-issued');
    return forged;
  });
  t.is(page.response.status, 400);
  t.regex(page.html, /Facebook could not confirm who you are, so you are not signed in/);
});
