import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { apiToken, apiTokens, callApi } from '../helpers/api.ts';
import { browserTest, phonePage } from '../helpers/browser.ts';
import { RP_REDIRECT } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { signedInAt, submitForm } from '../helpers/account-pages.ts';

// What the app's page does: call /api/me with its token (the Authorization header makes the browser
// send a preflight first), then refresh at the token endpoint; each answer, or the browser's refusal.
const SPA_SCRIPT = `
window.callFairy = async function (issuer, token, refreshToken, clientId) {
  async function attempt(request) {
    try {
      const response = await request();
      return { status: response.status, body: await response.json() };
    } catch (error) {
      return { failed: String(error) };
    }
  }
  return [
    await attempt(() => fetch(issuer + '/api/me', { headers: { authorization: 'Bearer ' + token } })),
    await attempt(() =>
      fetch(issuer + '/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
      }),
    ),
  ];
};`;

/** A single-page app's host: another port on localhost, serving one empty page. */
async function spaHost(t: ExecutionContext) {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>SPA</title><p>A single-page app</p><script>${SPA_SCRIPT}</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

type Answer = { status: number; body: Record<string, unknown> } | { failed: string };

browserTest(
  'a page at a registered origin calls /api/me and refreshes its token; another origin cannot read either',
  async (t) => {
    const server = await startTestServer(t);
    const [registered, stranger] = [await spaHost(t), await spaHost(t)];

    // A builder registers a single-page app (public, PKCE) whose redirect URI is on the first host.
    const { client: page, html } = await signedInAt(server, '/account/developer', 'maker@example.com');
    await submitForm(page, html, '/account/developer/builder', { builder: 'on' });
    const maker = await apiToken(server, 'maker@example.com', ['clients:write']);
    const spa = await callApi(server, maker, 'POST', '/api/clients', {
      client_name: 'Wren SPA',
      redirect_uris: [`${registered}/callback`, RP_REDIRECT],
      token_endpoint_auth_method: 'none',
    });
    t.is(spa.status, 201);
    const clientId = spa.body!.client_id as string;
    const { tokens } = await apiTokens(server, 'reader@example.com', ['account:read', 'offline_access'], {
      client: { clientId },
    });

    const browser = await phonePage(t);
    const call = (token: string, refreshToken: string) =>
      browser.evaluate(
        (args) => (globalThis as unknown as { callFairy(...a: string[]): Promise<Answer[]> }).callFairy(...args),
        [server.url, token, refreshToken, clientId],
      );

    await browser.goto(`${stranger}/`);
    const [strangerMe, strangerRefresh] = await call(tokens.access_token, tokens.refresh_token!);
    t.true('failed' in strangerMe!, 'the browser keeps /api/me from a page at an unregistered origin');
    t.true('failed' in strangerRefresh!, 'and the token endpoint');

    await browser.goto(`${registered}/`);
    const [me, refreshed] = await call(tokens.access_token, tokens.refresh_token!);
    t.like(me, { status: 200 });
    t.is((me as { body: { email?: string } } | undefined)?.body.email, 'reader@example.com');
    t.like(refreshed, { status: 200 });
    t.truthy(
      (refreshed as { body: { access_token?: string } } | undefined)?.body.access_token,
      'a refresh from the page works',
    );
    t.truthy((refreshed as { body: { refresh_token?: string } } | undefined)?.body.refresh_token);
  },
);
