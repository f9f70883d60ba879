import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { land, redeem, submit } from '../helpers/authorization.ts';
import { federationSetUp } from '../helpers/federation.ts';
import { CONSUMERS_TENANT, startMicrosoftStandIn } from '../helpers/microsoft-stand-in.ts';
import { outboxMessages } from '../helpers/outbox.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

const SECRET = 'microsoft-client-secret~for.fairyid';

async function microsoftSetUp(t: ExecutionContext, env: Record<string, string> = {}) {
  const microsoft = await startMicrosoftStandIn(t);
  const setUp = await federationSetUp(t, {
    MICROSOFT_CLIENT_ID: 'b5a2c2f1-0000-4000-8000-fa1e1d000001',
    MICROSOFT_CLIENT_SECRET: SECRET,
    MICROSOFT_URL: microsoft.url,
    ...env,
  });
  microsoft.state.client = {
    id: 'b5a2c2f1-0000-4000-8000-fa1e1d000001',
    secret: SECRET,
    redirectUri: `${setUp.server.url}/federation/microsoft/callback`,
  };
  return { ...setUp, microsoft };
}

const REFUSED = /Microsoft could not confirm who you are, so you are not signed in/;

test('Microsoft signs in through the common endpoint with each tenant’s own issuer, by tenant and object id', async (t) => {
  const { server, microsoft, config, signInPage } = await microsoftSetUp(t);
  const tenant = randomUUID();
  microsoft.state.person = { tid: tenant, oid: randomUUID(), sub: 'pairwise-a', name: 'Mia Work' };

  const signIn = await signInPage();
  t.regex(signIn.html, /Continue with Microsoft/);
  const consent = await continueWith(signIn.client, signIn, 'microsoft');
  const claims = await redeem(config, (await submit(signIn.client, consent, '/confirm')).url, signIn.check);
  t.deepEqual(claims.amr, ['fed']);
  t.is(claims.acr, '1fa');
  // The request carried state, nonce and PKCE, for openid email profile.
  const [request] = microsoft.state.authorizeRequests;
  t.is(request?.get('scope'), 'openid email profile');
  t.is(request?.get('code_challenge_method'), 'S256');
  t.truthy(request?.get('nonce'));
  t.truthy(request?.get('state'));
  const [linked] = await server.app.services.federation.linkedTo(claims.sub);
  t.is(linked?.subject, `${tenant}:${microsoft.state.person.oid}`);
  t.is(linked?.display_name, 'Mia Work');

  // A personal account signs in too: another tenant (consumers), another issuer, another account.
  microsoft.state.person = { tid: CONSUMERS_TENANT, oid: randomUUID(), sub: 'pairwise-b', name: 'Mia Home' };
  const personal = await signInPage();
  const personalConsent = await continueWith(personal.client, personal, 'microsoft');
  const personalClaims = await redeem(
    config,
    (await submit(personal.client, personalConsent, '/confirm')).url,
    personal.check,
  );
  t.not(personalClaims.sub, claims.sub);

  // The identity is the tenant and the object id: the same person signs in to the same account.
  microsoft.state.person = { tid: tenant, oid: String(linked?.subject.split(':')[1]), sub: 'pairwise-a', name: 'Mia' };
  const again = await signInPage();
  const againConsent = await continueWith(again.client, again, 'microsoft');
  t.is((await redeem(config, (await submit(again.client, againConsent, '/confirm')).url, again.check)).sub, claims.sub);
});

test('an ID token whose iss names another tenant than its tid is refused', async (t) => {
  const { microsoft, signInPage } = await microsoftSetUp(t);
  microsoft.state.person = { tid: randomUUID(), oid: randomUUID(), sub: 'pairwise-c', name: 'Eve' };
  // Signed by Microsoft's own key, for our client, with the nonce: only the tenant in iss is wrong.
  microsoft.state.issuerTenant = randomUUID();
  const signIn = await signInPage();
  const page = await continueWith(signIn.client, signIn, 'microsoft');
  t.is(page.response.status, 400);
  t.regex(page.html, REFUSED);
  const uid = signIn.url.pathname.split('/')[2];
  t.true(page.html.includes(`href="/interaction/${uid}"`));
  t.regex((await land(signIn.client, `/interaction/${uid}`)).html, /action="\/interaction\/[^/]+\/email"/);

  // The template itself, unfilled, is no issuer either.
  microsoft.state.issuerTenant = '{tenantid}';
  const again = await signInPage();
  const refused = await continueWith(again.client, again, 'microsoft');
  t.is(refused.response.status, 400);
  t.regex(refused.html, REFUSED);
});

test('Microsoft’s email claim never links to an account, asks for no code, and is not taken as an address', async (t) => {
  const { server, microsoft, config, signInPage } = await microsoftSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('boss@contoso.example');
  // A tenant administrator can give any address to a user of theirs.
  microsoft.state.person = {
    tid: randomUUID(),
    oid: randomUUID(),
    sub: 'pairwise-d',
    name: 'Not the boss',
    email: 'Boss@Contoso.example',
  };
  const signIn = await signInPage();
  const consent = await continueWith(signIn.client, signIn, 'microsoft');
  t.regex(consent.url.pathname, /^\/interaction\/[^/]+$/);
  const { sub } = await redeem(config, (await submit(signIn.client, consent, '/confirm')).url, signIn.check);
  t.not(sub, account.id);
  t.is((await server.app.services.accounts.findById(sub))?.email, null);
  t.deepEqual(await outboxMessages(server.url), []);
  // The address is kept with the linked identity, for the account pages only.
  t.is((await server.app.services.federation.linkedTo(sub))[0]?.email, 'boss@contoso.example');
});

test('a person who declines at Microsoft, or a client secret Microsoft refuses, ends on a clear page', async (t) => {
  const { microsoft, signInPage } = await microsoftSetUp(t);
  microsoft.state.deny = true;
  const declined = await signInPage();
  const page = await continueWith(declined.client, declined, 'microsoft');
  t.is(page.response.status, 400);
  t.regex(page.html, /You did not allow signing in with Microsoft/);

  microsoft.state.deny = false;
  microsoft.state.client = { ...microsoft.state.client, secret: 'rotated-at-microsoft' };
  const refused = await signInPage();
  const refusedPage = await continueWith(refused.client, refused, 'microsoft');
  t.is(refusedPage.response.status, 400);
  t.regex(refusedPage.html, REFUSED);
  t.regex(refusedPage.html, /AADSTS7000215: Invalid client secret provided\./);
});
