import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { readForm } from '../helpers/html-form.ts';
import { outboxMessages } from '../helpers/outbox.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage } from '../helpers/sign-in-pages.ts';

// Long windows: every budget here is spent within one, and no test waits for it to end.
const SENDS = { LIMIT_SENDS_PER_IP: '2/3600' };

/** What a client typed into X-Forwarded-For, followed by what the proxies in front of us appended. */
const chain = (...entries: string[]) => ({ 'x-forwarded-for': entries.join(', ') });

async function askFrom(server: TestServer, identifier: string, headers: Record<string, string>) {
  const page = await openSignInPage(server);
  return askForCode(page.client, page.html, identifier, headers);
}

test('behind one trusted proxy, a client that spent its send budget is refused whatever it writes in front of the address the proxy appended', async (t) => {
  const server = await startTestServer(t, { env: { ...SENDS, TRUST_PROXY: 'true' } });
  t.is((await askFrom(server, 'one@example.com', chain('198.51.100.7'))).status, 303);
  t.is((await askFrom(server, 'two@example.com', chain('198.51.100.7'))).status, 303);
  for (let n = 1; n <= 5; n += 1) {
    const spoofed = await askFrom(server, `spoof${n}@example.com`, chain(`203.0.113.${n}`, '198.51.100.7'));
    t.is(spoofed.status, 429, `X-Forwarded-For: 203.0.113.${n}, 198.51.100.7`);
  }
  t.is(
    (await askFrom(server, 'three@example.com', chain('198.51.100.7', '198.51.100.8'))).status,
    303,
    'the address the proxy appended is the client, even when another comes before it',
  );
  t.is((await outboxMessages(server.url)).length, 3);
});

test('behind two trusted proxies (TRUSTED_PROXY_HOPS=2), the entry the outer proxy appended is the client', async (t) => {
  const server = await startTestServer(t, { env: { ...SENDS, TRUST_PROXY: 'true', TRUSTED_PROXY_HOPS: '2' } });
  // The outer proxy appends the client, the inner one appends the outer proxy (10.0.0.1).
  t.is((await askFrom(server, 'one@example.com', chain('198.51.100.7', '10.0.0.1'))).status, 303);
  t.is((await askFrom(server, 'two@example.com', chain('203.0.113.1', '198.51.100.7', '10.0.0.1'))).status, 303);
  const spoofed = await askFrom(server, 'three@example.com', chain('203.0.113.2', '198.51.100.7', '10.0.0.1'));
  t.is(spoofed.status, 429, 'the client, not what it wrote, has spent its budget');
  t.is(
    (await askFrom(server, 'four@example.com', chain('198.51.100.8', '10.0.0.1'))).status,
    303,
    'another client behind the same inner proxy is not held back: the proxy is not the client',
  );
});

test('without TRUST_PROXY, X-Forwarded-For is ignored: every request counts against the connection address', async (t) => {
  const server = await startTestServer(t, { env: SENDS });
  t.is((await askFrom(server, 'one@example.com', chain('203.0.113.1'))).status, 303);
  t.is((await askFrom(server, 'two@example.com', chain('203.0.113.2'))).status, 303);
  t.is((await askFrom(server, 'three@example.com', chain('203.0.113.3'))).status, 429);
  t.is((await askFrom(server, 'four@example.com', chain('203.0.113.4', '203.0.113.5'))).status, 429);
});

/** A device flow to guess at, behind one trusted proxy. */
async function deviceFlow(t: ExecutionContext) {
  const server = await startTestServer(t, {
    env: { LIMIT_DEVICE_CODE_GUESSES_PER_IP: '2/3600', TRUST_PROXY: 'true' },
  });
  const { clientId } = await registerClient(server.app, {
    authMethod: 'none',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'],
  });
  return oidc.initiateDeviceAuthorization(await discover(server.url, clientId), { scope: 'openid' });
}

async function guess(device: oidc.DeviceAuthorizationResponse, userCode: string, headers: Record<string, string>) {
  const browser = new PageClient(device.verification_uri);
  const input = readForm(await (await browser.request(device.verification_uri, { headers })).text());
  return browser.request(input.action, { form: { ...input.fields, user_code: userCode }, headers });
}

test('a client that spent its device-code guesses gets no more by writing addresses in front of the one the proxy appended', async (t) => {
  const device = await deviceFlow(t);
  const wrong = device.user_code === 'BCDF-GHJK' ? 'KJHG-FDCB' : 'BCDF-GHJK';
  t.is((await guess(device, wrong, chain('198.51.100.7'))).status, 400);
  t.is((await guess(device, wrong, chain('198.51.100.7'))).status, 400);
  for (let n = 1; n <= 5; n += 1) {
    const spoofed = await guess(device, wrong, chain(`203.0.113.${n}`, '198.51.100.7'));
    t.is(spoofed.status, 429, `X-Forwarded-For: 203.0.113.${n}, 198.51.100.7`);
  }
  t.is((await guess(device, device.user_code, chain('198.51.100.8'))).status, 200, 'another client still gets in');
});
