import test from 'ava';
import { signedInAt, submitForm } from '../helpers/account-pages.ts';
import { apiToken } from '../helpers/api.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  machinelessDriver,
  startEnvironmentServer,
  waitForState,
} from '../helpers/environments.ts';
import { ProviderError } from '../../src/environments/driver.ts';
import { csrfToken } from '../helpers/page-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const FRENCH = { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' };
const ENGLISH = { 'accept-language': 'en-US,en;q=0.9' };

/** The page's text as a reader gets it: entities decoded, whitespace collapsed. */
const readable = (html: string) =>
  html
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    // Only HTML's whitespace: French's narrow no-break spaces are part of the words.
    .replace(/[ \t\r\n]+/g, ' ');

/** An /api call as a French-speaking developer's program would make it. */
async function apiInFrench(server: TestServer, token: string, path: string, body: unknown, extra = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...FRENCH, ...extra },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

test('the developer page says a builder refusal in the reader’s language; /api keeps its English', async (t) => {
  const server = await startTestServer(t, { env: { BUILDER_CLIENTS_PER_PERSON: '1' } });
  const form = { name: 'Worker', kind: 'service' };

  // Not a builder.
  const { client, html } = await signedInAt(server, '/account/developer', 'plain@example.com');
  const french = await submitForm(client, html, '/account/developer/clients', form, FRENCH);
  t.is(french.response.status, 403);
  t.is(french.response.headers.get('content-language'), 'fr');
  t.true(
    readable(french.html).includes(
      'Seuls les builders enregistrent leurs propres applications. Devenez d’abord builder sur cette page.',
    ),
  );
  t.false(french.html.includes('Only builders'));
  const english = await submitForm(client, french.html, '/account/developer/clients', form, ENGLISH);
  t.is(english.response.status, 403);
  t.true(
    readable(english.html).includes('Only builders register apps of their own. Become a builder on this page first.'),
  );
  const token = await apiToken(server, 'plain@example.com', ['clients:write']);
  const service = { client_name: 'Worker', grant_types: ['client_credentials'], scope: 'account:read' };
  t.deepEqual(await apiInFrench(server, token, '/api/clients', service), {
    status: 403,
    body: {
      error: 'builder_required',
      error_description: 'Only builders register apps of their own: turn it on at /account/developer first.',
    },
  });

  // A builder at the per-person limit (the refusal comes from the shared client rules).
  const turnedOn = await submitForm(client, english.html, '/account/developer/builder', { builder: 'on' });
  t.is(turnedOn.response.status, 303);
  const page = await (await client.request('/account/developer', { headers: FRENCH })).text();
  // The client rules' own detail is quoted as it is, after a lead sentence in the reader's language.
  const web = { name: 'Web', kind: 'web', redirect_uris: 'http://app.example.com/callback' };
  const unsaved = await submitForm(client, page, '/account/developer/clients', web, FRENCH);
  t.is(unsaved.response.status, 400);
  t.regex(readable(unsaved.html), /Cette application n’a pas pu être enregistrée\u202f: redirect_uris: \S/);
  const first = await submitForm(client, page, '/account/developer/clients', form, FRENCH);
  t.is(first.response.status, 201);
  const again = await (await client.request('/account/developer', { headers: FRENCH })).text();
  const full = await submitForm(client, again, '/account/developer/clients', { ...form, name: 'Other' }, FRENCH);
  t.is(full.response.status, 409);
  t.true(readable(full.html).includes('Vous pouvez avoir au plus 1 application à vous. Supprimez-en une d’abord.'));
  const fullEnglish = await submitForm(client, full.html, '/account/developer/clients', form, ENGLISH);
  t.is(fullEnglish.response.status, 409);
  t.true(readable(fullEnglish.html).includes('You may have at most 1 app of your own. Delete one first.'));
  t.deepEqual(await apiInFrench(server, token, '/api/clients', service), {
    status: 409,
    body: {
      error: 'client_limit_reached',
      error_description: 'You may have at most 1 app of your own; delete one first.',
    },
  });
});

test('the environments page says “not enough DUST” in the reader’s language; /api keeps its English', async (t) => {
  const server = await startEnvironmentServer(
    { ...(await environmentStorage(t)), ENVIRONMENT_PRICES: 'free:1,starter:2,pro:100' },
    {
      // Every create here is refused before a machine is asked for.
      driver: machinelessDriver(async () => t.fail('create must not be called') as never),
    },
  );
  t.teardown(() => server.stop());
  const { client, html } = await signedInAt(server, '/account/environments', 'poor@example.com');
  const create = (page: string, headers: Record<string, string>) =>
    submitForm(
      client,
      page,
      '/account/environments',
      { name: 'Big', template: 'test-box', tier: 'pro', owner: 'me', idempotency_key: crypto.randomUUID() },
      headers,
    );

  const french = await create(html, FRENCH);
  t.is(french.response.status, 402);
  t.is(french.response.headers.get('content-language'), 'fr');
  t.true(
    readable(french.html).includes(
      'Cet environnement coûte 100 DUST par heure entamée, et le portefeuille n’en contient pas assez.',
    ),
  );
  t.false(french.html.includes('per started hour, and the wallet'));
  t.truthy(csrfToken(french.html));
  const english = await create(french.html, ENGLISH);
  t.is(english.response.status, 402);
  t.true(
    readable(english.html).includes(
      'Running this environment costs 100 DUST per started hour, and the wallet does not hold that much.',
    ),
  );

  const token = await apiToken(server, 'poor@example.com', ENVIRONMENT_SCOPES);
  const api = await apiInFrench(
    server,
    token,
    '/api/environments',
    { name: 'Big', template: 'test-box', tier: 'pro' },
    { 'idempotency-key': crypto.randomUUID() },
  );
  t.deepEqual(api, {
    status: 402,
    body: {
      error: 'insufficient_funds',
      error_description:
        'Running this environment costs 100 DUST per started hour, and the wallet does not hold that much.',
    },
  });
});

test('an environment the provider refused shows why on the environments page in the reader’s language', async (t) => {
  const server = await startEnvironmentServer(await environmentStorage(t), {
    driver: machinelessDriver(async () => {
      throw new ProviderError('region is out of capacity', false);
    }),
  });
  t.teardown(() => server.stop());
  const token = await apiToken(server, 'unlucky@example.com', ENVIRONMENT_SCOPES);
  const created = await createEnvironment(server, token, { name: 'Box', template: 'test-box', tier: 'free' });
  t.is(created.status, 201);
  const failed = await waitForState(server, token, created.body.id, 'error');
  t.is(failed.last_error, 'region is out of capacity', '/api keeps the provider’s words as they came');

  const { client } = await signedInAt(server, '/account/environments', 'unlucky@example.com');
  const page = async (headers: Record<string, string>) =>
    readable(await (await client.request('/account/environments', { headers })).text());
  t.true(
    (await page(FRENCH)).includes('Échec\u202f: le fournisseur a répondu «\u202fregion is out of capacity\u202f»'),
  );
  t.true((await page(ENGLISH)).includes('Failed: the provider answered “region is out of capacity”'));
});
