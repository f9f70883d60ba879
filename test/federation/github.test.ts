import test, { type ExecutionContext } from 'ava';
import { redeem, submit } from '../helpers/authorization.ts';
import { oauthProviderSetUp } from '../helpers/federation.ts';
import { startGitHubStandIn } from '../helpers/github-stand-in.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

const SECRET = 'github-client-secret-for-fairyid';

async function gitHubSetUp(t: ExecutionContext) {
  const github = await startGitHubStandIn(t);
  return { ...(await oauthProviderSetUp(t, 'github', github, { id: 'Iv1.fairyid', secret: SECRET })), github };
}

test('GitHub signs in by its numeric user id, and only its verified primary address links to an account', async (t) => {
  const { server, github, config, signInPage } = await gitHubSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('octo@example.com');

  // A verified address that is not the primary one, and an unverified primary one: neither links.
  github.state.person = {
    id: 101,
    login: 'someone-else',
    name: null,
    emails: [
      { email: 'stranger@example.com', primary: true, verified: false, visibility: 'private' },
      { email: 'octo@example.com', primary: false, verified: true, visibility: null },
    ],
  };
  const first = await signInPage();
  t.regex(first.html, /Continue with GitHub/);
  const firstConsent = await continueWith(first.client, first, 'github');
  const firstClaims = await redeem(config, (await submit(first.client, firstConsent, '/confirm')).url, first.check);
  t.not(firstClaims.sub, account.id);
  t.is((await server.app.services.accounts.findById(firstClaims.sub))?.email, null);

  // The verified primary address links to the account that signs in with it.
  github.state.person = {
    id: 202,
    login: 'octo',
    name: 'Octo Cat',
    emails: [{ email: 'Octo@Example.com', primary: true, verified: true, visibility: 'public' }],
  };
  const second = await signInPage();
  const consent = await continueWith(second.client, second, 'github');
  const claims = await redeem(config, (await submit(second.client, consent, '/confirm')).url, second.check);
  t.is(claims.sub, account.id);
  t.deepEqual(claims.amr, ['fed']);

  // A renamed login is the same person: the id, not the login, is the subject.
  github.state.person = { ...github.state.person, login: 'octo-renamed', emails: [] };
  const third = await signInPage();
  const thirdConsent = await continueWith(third.client, third, 'github');
  t.is((await redeem(config, (await submit(third.client, thirdConsent, '/confirm')).url, third.check)).sub, account.id);
});

test('a code GitHub refuses (bad_verification_code, answered with a 200) ends on a clear page', async (t) => {
  const { github, signInPage } = await gitHubSetUp(t);
  github.state.person = { id: 303, login: 'x', name: null, emails: [] };
  const signIn = await signInPage();
  const page = await continueWith(signIn.client, signIn, 'github', (callback) => {
    const forged = new URL(callback);
    forged.searchParams.set('code', 'not-a-code-github-issued');
    return forged;
  });
  t.is(page.response.status, 400);
  t.regex(page.html, /GitHub could not confirm who you are, so you are not signed in/);
  t.is(github.state.tokenRequests, 1);
});
