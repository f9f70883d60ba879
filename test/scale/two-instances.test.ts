import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { readForm } from '../helpers/html-form.ts';
import { latestCode } from '../helpers/outbox.ts';
import { csrfToken, PageClient } from '../helpers/page-client.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { type TestServer, twoInstances } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

// Instances are stateless only over shared storage: these tests need real Postgres and Redis.
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

const instances = (t: ExecutionContext) => twoInstances(t, { KEYS_REFRESH_SECONDS: '1' });

/** The same path on the other instance: the balancer chose another backend for this request. */
const on = (server: TestServer, url: string | URL) => {
  const parsed = new URL(url, server.url);
  return `${server.url}${parsed.pathname}${parsed.search}`;
};

async function expectRedirect(response: Response) {
  if (response.status < 300 || response.status >= 400)
    throw new Error(`expected a redirect, got ${response.status}: ${await response.text()}`);
  return response.headers.get('location')!;
}

shared('an authorization flow started on one instance completes on the other', async (t) => {
  const { a, b } = await instances(t);
  const { clientId, clientSecret } = await registerClient(a.app);
  const config = await discover(a.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const browser = new PageClient(a.url);
  const authorize = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });

  const interaction = await expectRedirect(await browser.request(on(a, authorize)));
  const loginPage = await browser.request(on(b, interaction));
  t.is(loginPage.status, 200, 'B reads the interaction A created');
  const sent = await browser.request(on(b, `${interaction}/email`), {
    form: { _csrf: csrfToken(await loginPage.text()), email: 'roam@example.com' },
  });
  const codePage = await browser.request(on(a, await expectRedirect(sent)));
  const code = await latestCode(a.url, 'roam@example.com');
  const signedIn = await browser.request(on(b, `${interaction}/code`), {
    form: { _csrf: csrfToken(await codePage.text()), code },
  });
  const consentInteraction = await expectRedirect(await browser.request(on(a, await expectRedirect(signedIn))));
  const consentPage = await (await browser.request(on(b, consentInteraction))).text();
  t.regex(consentPage, /Allow access\?/);
  const allowed = await browser.request(on(a, `${consentInteraction}/confirm`), {
    form: { _csrf: csrfToken(consentPage) },
  });
  const callback = await expectRedirect(await browser.request(on(b, await expectRedirect(allowed))));
  t.true(callback.startsWith(RP_REDIRECT), 'B resumes with the session A wrote');

  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier });
  const userinfo = await (
    await fetch(`${b.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  ).json();
  t.is((userinfo as { email: string }).email, 'roam@example.com');
});

shared('one-time-code attempts and resend limits are counted across instances', async (t) => {
  const { a, b } = await instances(t);
  const { clientId, clientSecret } = await registerClient(a.app);
  const config = await discover(a.url, clientId, clientSecret);
  const { challenge } = await pkcePair();
  const browser = new PageClient(a.url);
  const authorize = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const interaction = await expectRedirect(await browser.request(on(a, authorize)));
  const csrf = csrfToken(await (await browser.request(on(a, interaction))).text());
  await browser.request(on(a, `${interaction}/email`), { form: { _csrf: csrf, email: 'counted@example.com' } });

  const resend = await browser.request(on(b, `${interaction}/resend`), { form: { _csrf: csrf } });
  t.is(resend.status, 429, 'the resend throttle set on A holds on B');
  t.regex(await resend.text(), /A code was just sent/);

  const code = await latestCode(a.url, 'counted@example.com');
  const wrong = code === '000000' ? '111111' : '000000';
  for (const server of [a, b, a, b]) {
    const attempt = await browser.request(on(server, `${interaction}/code`), { form: { _csrf: csrf, code: wrong } });
    t.is(attempt.status, 400);
  }
  const fifth = await browser.request(on(a, `${interaction}/code`), { form: { _csrf: csrf, code: wrong } });
  t.is(fifth.status, 429, 'five wrong codes in all, on two instances, lock the code');
  const late = await browser.request(on(b, `${interaction}/code`), { form: { _csrf: csrf, code } });
  t.not(late.status, 303, 'the right code no longer works');
});

shared('a device approved through one instance is redeemed on the other', async (t) => {
  const { a, b } = await instances(t);
  const { clientId } = await registerClient(a.app, {
    authMethod: 'none',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'],
  });
  const config = await discover(a.url, clientId);
  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });

  const browser = new PageClient(b.url);
  const autoSubmit = readForm(await (await browser.request(on(b, device.verification_uri_complete!))).text());
  const confirmPage = await browser.request(on(b, autoSubmit.action), { form: autoSubmit.fields });
  const confirm = readForm(await confirmPage.text(), 'op.deviceConfirmForm');
  const { url } = await browser.follow(on(b, confirm.action), { form: confirm.fields });
  const { html } = await signInThroughPages(b.url, url.href, 'device@example.com', { client: browser });
  t.regex(html, /Device connected/);

  const token = await fetch(`${a.url}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: device.device_code,
      client_id: clientId,
    }),
  });
  t.is(token.status, 200, 'A redeems the device code B approved');
  t.truthy(((await token.json()) as { id_token?: string }).id_token);
});

shared('a key rotated through one instance is served by the other within seconds', async (t) => {
  const { a, b } = await instances(t);
  const kids = async (server: TestServer) =>
    ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
  const before = await kids(b);
  const added = await a.app.services.keys.rotate();
  let seen: string[] = before;
  for (let attempt = 0; attempt < 240 && !added.every((kid) => seen.includes(kid)); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    seen = await kids(b);
  }
  t.true(
    added.every((kid) => seen.includes(kid)),
    'B publishes the keys A added',
  );
  t.true(
    before.every((kid) => seen.includes(kid)),
    'the old keys stay published',
  );
});
