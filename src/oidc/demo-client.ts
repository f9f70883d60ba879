import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Renderer } from '../http/render.ts';
import type { ClientRegistry } from './client-registry.ts';

export const DEMO_CLIENT_ID = 'demo';

export const demoRedirectUri = (issuer: string) => `${issuer}/dev/callback`;
/** Where the demo client's RP-initiated logout ends: a page of ours standing in for the app's own. */
export const demoPostLogoutUri = (issuer: string) => `${issuer}/dev/signed-out`;

/** Development only: a public client whose redirect lands on a page of ours, so sign-in can be tried with no app. */
export async function ensureDemoClient(clients: ClientRegistry, issuer: string): Promise<void> {
  await clients.ensure({
    clientId: DEMO_CLIENT_ID,
    name: 'FairyID demo',
    redirectUris: [demoRedirectUri(issuer)],
    postLogoutRedirectUris: [demoPostLogoutUri(issuer)],
    grantTypes: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    authMethod: 'none',
    firstParty: false,
  });
}

/** Lines `npm start` prints so a newcomer can sign in within a minute. */
export function demoInstructions(issuer: string): string {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = new URL('/auth', issuer);
  authorize.search = new URLSearchParams({
    client_id: DEMO_CLIENT_ID,
    response_type: 'code',
    scope: 'openid email profile offline_access',
    prompt: 'consent',
    redirect_uri: demoRedirectUri(issuer),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  }).toString();
  return [
    'Try it:',
    `  1. Open ${authorize.href}`,
    `     Sign in with any email; the code appears in this log and at ${issuer}/dev/outbox`,
    '  2. Exchange the code shown on the callback page:',
    `     curl -s ${issuer}/token -d grant_type=authorization_code -d client_id=${DEMO_CLIENT_ID} \\`,
    `       -d redirect_uri=${demoRedirectUri(issuer)} -d code_verifier=${verifier} -d code=CODE`,
    '  Device flow (as a CLI would):',
    `     curl -s ${issuer}/device/auth -d client_id=${DEMO_CLIENT_ID} -d scope="openid email"`,
    '     Open its verification_uri_complete and approve; meanwhile poll for the tokens every `interval` seconds',
    '     (authorization_pending until you approve), with the device_code it returned:',
    `     curl -s ${issuer}/token -d grant_type=urn:ietf:params:oauth:grant-type:device_code \\`,
    `       -d client_id=${DEMO_CLIENT_ID} -d device_code=DEVICE_CODE`,
    `  Discovery: ${issuer}/.well-known/openid-configuration`,
  ].join('\n');
}

export function demoCallbackRoutes(renderer: Renderer) {
  const router = new Router();
  router.get('/dev/callback', async (ctx) => {
    const { code, error, error_description: errorDescription } = ctx.query;
    await renderer.render(ctx, 'dev-callback', { code, error, errorDescription });
  });
  router.get('/dev/signed-out', async (ctx) => {
    await renderer.render(ctx, 'dev-signed-out', { state: typeof ctx.query.state === 'string' ? ctx.query.state : '' });
  });
  return router.routes();
}
