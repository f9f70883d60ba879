import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { apiToken, callApi } from '../helpers/api.ts';
import { invitationLink, joinByInvitation } from '../helpers/organizations.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startStripeStandIn, stripeEnv, type StripeStandIn } from '../helpers/stripe-stand-in.ts';

/**
 * Tenant isolation, driven by the OpenAPI document: every route under /api/organizations/{id}
 * is tried, so a route added later is covered without touching this file. The server runs with
 * Stripe configured (against a local stand-in) so the billing routes are in the document too, and
 * organizations are approved at once so that nothing but isolation stands in the way.
 */

const SCOPES = ['account:read', 'organizations:read', 'organizations:write'];
const ORG_PREFIX = '/api/organizations';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  format?: string;
  minimum?: number;
  minLength?: number;
  minItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
};
type Parameter = { name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema };
type Operation = {
  security: { bearer: string[] }[];
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
};
type OpenApi = { paths: Record<string, Record<string, Operation>> };
type Call = { method: string; template: string; operation: Operation };

/**
 * Values for a request that passes validation and, were isolation broken, would really change
 * something: a role that differs from the target's, a real address, a fresh name.
 */
const NAMED: Record<string, unknown> = {
  email: 'target@example.com',
  role: 'admin',
  name: 'Hijacked',
  slug: 'hijacked',
  client_name: 'Hijacker',
};

/** A minimal value the schema accepts, from the JSON Schema zod emitted. */
function sample(schema: JsonSchema, name?: string): unknown {
  if (name && name in NAMED) return NAMED[name];
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.anyOf?.length) return sample(schema.anyOf[0]!, name);
  const type = Array.isArray(schema.type) ? schema.type.find((candidate) => candidate !== 'null') : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, inner]) => [key, sample(inner, key)]),
      );
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items ?? {}));
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, 1);
    case 'boolean':
      return false;
    default:
      if (schema.format === 'email') return 'target@example.com';
      if (schema.format === 'uri') return 'https://example.com/callback';
      if (schema.format === 'uuid') return randomUUID();
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
  }
}

async function openApi(server: TestServer): Promise<OpenApi> {
  const response = await fetch(`${server.url}/api/openapi.json`);
  if (response.status !== 200) throw new Error(`/api/openapi.json answered ${response.status}`);
  return (await response.json()) as OpenApi;
}

/** Every operation whose path starts with `prefix`; deletions last, the organization's own last of all. */
function operations(document: OpenApi, prefix: string): Call[] {
  const calls = Object.entries(document.paths).flatMap(([template, methods]) =>
    template.startsWith(prefix)
      ? Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), template, operation }))
      : [],
  );
  const weight = (call: Call) => (call.method === 'DELETE' ? 1_000 - call.template.length : 0);
  return calls.sort((a, b) => weight(a) - weight(b));
}

/** The request for `call`, with path parameters from `params` (a random UUID for any it lacks). */
function request(call: Call, params: Record<string, string>) {
  const path = call.template.replace(/\{(\w+)\}/g, (_match, name: string) =>
    encodeURIComponent(params[name] ?? randomUUID()),
  );
  const query = new URLSearchParams();
  for (const parameter of call.operation.parameters ?? []) {
    if (parameter.in === 'query' && parameter.required)
      query.set(parameter.name, String(sample(parameter.schema, parameter.name)));
  }
  const schema = call.operation.requestBody?.content['application/json'].schema;
  return {
    path: query.size ? `${path}?${query}` : path,
    body: schema ? sample(schema) : undefined,
    label: `${call.method} ${call.template}`,
  };
}

/** The same answer expected of every call, keyed like the answers a test collects. */
const expectAll = (calls: Call[], answer: string) =>
  Object.fromEntries(calls.map((call) => [`${call.method} ${call.template}`, answer]));

/**
 * Organization B as its owner sees it, and an organization A whose owner is the intruder. B has
 * something behind every kind of id a route takes: a member, an open invitation and a client.
 */
async function twoOrganizations(t: ExecutionContext) {
  const standIn = await startStripeStandIn(t);
  const server = await startTestServer(t, {
    env: stripeEnv(standIn, { ORG_APPROVAL: 'auto', STRIPE_PLANS: 'team:price_team:10' }),
  });

  const ownerB = await apiToken(server, 'owner-b@example.com', SCOPES);
  const orgB = (await callApi(server, ownerB, 'POST', ORG_PREFIX, { name: 'Bramble Co', slug: 'bramble' })).body!;
  const { accountId: memberB } = await joinByInvitation(server, ownerB, orgB.id, 'member-b@example.com', 'member');
  const invitation = await callApi(server, ownerB, 'POST', `${ORG_PREFIX}/${orgB.id}/invitations`, {
    email: 'pending-b@example.com',
  });
  const link = await invitationLink(server, 'pending-b@example.com');
  const client = await callApi(server, ownerB, 'POST', `${ORG_PREFIX}/${orgB.id}/clients`, {
    client_name: 'Bramble Worker',
    grant_types: ['client_credentials'],
    scope: 'account:read',
  });
  if (invitation.status !== 201 || client.status !== 201) throw new Error('setting up organization B failed');

  const intruder = await apiToken(server, 'owner-a@example.com', SCOPES);
  const orgA = (await callApi(server, intruder, 'POST', ORG_PREFIX, { name: 'Acorn Ltd', slug: 'acorn' })).body!;
  t.is(orgA.role, 'owner', 'the intruder owns an organization of their own');

  const b = {
    id: orgB.id as string,
    owner: ownerB,
    /** Path parameters naming real things in B. */
    params: {
      id: orgB.id as string,
      accountId: memberB,
      invitationId: invitation.body!.id as string,
      clientId: client.body!.client_id as string,
    },
    link,
    clientSecret: client.body!.client_secret as string,
  };
  return { server, standIn, b, orgA: orgA as { id: string }, intruder, document: await openApi(server) };
}

/** Everything B's owner can read about B: every GET route of the organization that needs only its id. */
async function snapshot(server: TestServer, b: { id: string; owner: string }, document: OpenApi) {
  const reads = operations(document, `${ORG_PREFIX}/{id}`).filter(
    (call) => call.method === 'GET' && !/\{(?!id\})\w+\}/.test(call.template),
  );
  const state: Record<string, unknown> = {};
  for (const call of reads) {
    const { path, label } = request(call, { id: b.id });
    const read = await callApi(server, b.owner, 'GET', path);
    state[label] = { status: read.status, body: read.body };
  }
  return state;
}

/** B is exactly as before: same reads, the old invitation link and client secret still work, no checkout was opened. */
async function assertUnchanged(
  t: ExecutionContext,
  setup: {
    server: TestServer;
    standIn: StripeStandIn;
    b: Awaited<ReturnType<typeof twoOrganizations>>['b'];
    document: OpenApi;
  },
  before: Record<string, unknown>,
) {
  const { server, standIn, b, document } = setup;
  t.deepEqual(await snapshot(server, b, document), before, 'B reads the same as before');
  const link = await fetch(b.link);
  t.is(link.status, 200, 'B’s invitation link still works (it was not resent, revoked or answered)');
  await link.body?.cancel();
  const config = await discover(server.url, b.params.clientId, b.clientSecret);
  await t.notThrowsAsync(
    oidc.clientCredentialsGrant(config, { scope: 'account:read' }),
    'B’s client secret was not rotated',
  );
  t.deepEqual(standIn.checkoutRequests(), [], 'no Stripe checkout was opened');
}

test('an owner of one organization gets 404 on every route of another, and nothing there changes', async (t) => {
  const setup = await twoOrganizations(t);
  const { server, b, intruder, document } = setup;
  const calls = operations(document, `${ORG_PREFIX}/{id}`);
  const covered = new Set(calls.map((call) => `${call.method} ${call.template}`));
  for (const route of [
    'GET /api/organizations/{id}',
    'PATCH /api/organizations/{id}',
    'DELETE /api/organizations/{id}',
    'GET /api/organizations/{id}/members',
    'PATCH /api/organizations/{id}/members/{accountId}',
    'DELETE /api/organizations/{id}/members/{accountId}',
    'GET /api/organizations/{id}/events',
    'GET /api/organizations/{id}/invitations',
    'POST /api/organizations/{id}/invitations',
    'POST /api/organizations/{id}/invitations/{invitationId}/resend',
    'DELETE /api/organizations/{id}/invitations/{invitationId}',
  ]) {
    t.true(covered.has(route), `the document declares ${route}`);
  }

  const before = await snapshot(server, b, document);
  for (const value of Object.values(before))
    t.is((value as { status: number }).status, 200, 'B’s owner reads every part of B');

  const answers: Record<string, string> = {};
  for (const call of calls) {
    const { path, body, label } = request(call, b.params);
    const response = await callApi(server, intruder, call.method, path, body);
    answers[label] = `${response.status} ${response.body?.error}`;
  }
  t.deepEqual(answers, expectAll(calls, '404 organization_not_found'));
  await assertUnchanged(t, setup, before);
});

test('ids of another organization’s members, invitations and clients do nothing through your own organization', async (t) => {
  const setup = await twoOrganizations(t);
  const { server, b, orgA, intruder, document } = setup;
  // Only routes that name something inside the organization: B's ids, under A's id.
  const calls = operations(document, `${ORG_PREFIX}/{id}/`).filter((call) => /\{(?!id\})\w+\}/.test(call.template));
  t.true(calls.length >= 4, 'members, invitations and clients routes take ids of their own');
  const before = await snapshot(server, b, document);

  const answers: Record<string, string> = {};
  for (const call of calls) {
    const { path, body, label } = request(call, { ...b.params, id: orgA.id });
    const response = await callApi(server, intruder, call.method, path, body);
    // A exists and the intruder owns it; what B owns is simply not there, in A.
    answers[label] = /^(?!organization_)\w+_not_found$/.test(String(response.body?.error))
      ? `${response.status} something_not_found`
      : `${response.status} ${response.body?.error}`;
  }
  t.deepEqual(answers, expectAll(calls, '404 something_not_found'));
  await assertUnchanged(t, setup, before);
});

test('a token without organizations:write (or :read) gets 403 insufficient_scope, even from the owner', async (t) => {
  const setup = await twoOrganizations(t);
  const { server, b, document } = setup;
  const readOnly = await apiToken(server, 'owner-b@example.com', ['account:read', 'organizations:read']);
  const writeOnly = await apiToken(server, 'owner-b@example.com', ['account:read', 'organizations:write']);
  const calls = operations(document, ORG_PREFIX);
  t.true(
    calls.some((call) => call.operation.security[0]!.bearer.includes('organizations:write')),
    'there are write routes',
  );
  const before = await snapshot(server, b, document);

  const answers: Record<string, string> = {};
  const expected: Record<string, string> = {};
  for (const call of calls) {
    const required = call.operation.security[0]!.bearer;
    const writes = required.includes('organizations:write');
    const { path, body, label } = request(call, b.params);
    const response = await fetch(`${server.url}${path}`, {
      method: call.method,
      headers: {
        authorization: `Bearer ${writes ? readOnly : writeOnly}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const challenge = /error="insufficient_scope", scope="([^"]*)"/.exec(
      response.headers.get('www-authenticate') ?? '',
    )?.[1];
    answers[label] =
      `${response.status} ${((await response.json()) as { error: string }).error} (challenge names ${challenge})`;
    expected[label] =
      `403 insufficient_scope (challenge names ${writes ? 'organizations:write' : 'organizations:read'})`;
  }
  t.deepEqual(answers, expected);
  await assertUnchanged(t, setup, before);
});

test('a client-credentials token (no person) gets 403 person_required on every organization route', async (t) => {
  const setup = await twoOrganizations(t);
  const { server, b, document } = setup;
  const { clientId, clientSecret } = await registerClient(server.app, {
    grantTypes: ['client_credentials'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    scope: 'organizations:read organizations:write',
  });
  const config = await discover(server.url, clientId, clientSecret);
  const machine = (await oidc.clientCredentialsGrant(config, { scope: 'organizations:read organizations:write' }))
    .access_token;
  const whoami = await callApi(server, machine, 'GET', '/api/whoami');
  t.like(
    whoami.body,
    { account_id: null, scope: 'organizations:read organizations:write' },
    'a valid token with both scopes',
  );
  const before = await snapshot(server, b, document);

  const calls = operations(document, ORG_PREFIX);
  const answers: Record<string, string> = {};
  for (const call of calls) {
    const { path, body, label } = request(call, b.params);
    const response = await callApi(server, machine, call.method, path, body);
    answers[label] = `${response.status} ${response.body?.error}`;
  }
  t.deepEqual(answers, expectAll(calls, '403 person_required'));
  await assertUnchanged(t, setup, before);
});
