import { connect } from 'node:net';
import test from 'ava';
import { generate } from 'otplib';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { secretFromPage } from '../helpers/authenticator-app.ts';
import { invitationLink } from '../helpers/organizations.ts';
import { latestCode } from '../helpers/outbox.ts';
import { csrfToken, formAction, PageClient } from '../helpers/page-client.ts';
import { RP_REDIRECT, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { stripeEvent } from '../helpers/stripe-events.ts';
import { signatureFor, startStripeStandIn, stripeEnv } from '../helpers/stripe-stand-in.ts';

/**
 * Malformed input to every operation of the OpenAPI document, every oidc-provider endpoint of the
 * discovery document, every form and script endpoint on the pages, and the Stripe webhook: the
 * server may refuse all of it, but never with a 5xx, and always with an answer. Operations, forms
 * and endpoints are read from what the server publishes, so new ones are fuzzed without a change
 * here. Deterministic: the "random" strings come from a seeded generator, and requests go one at a time.
 */

const EMAIL = 'fuzz@example.com';
const INVITEE = 'invitee@example.com';
const SEED = 0x5eed_f00d;

const NUL = 'a\u0000b';
const LONE_SURROGATE = 'a\ud800b';
// UTF-8 bytes can only carry a surrogate as its CESU-8 encoding, which is no valid UTF-8.
const SURROGATE_BYTES = '%ED%A0%80';
const WRONG_TYPES: unknown[] = [null, 123, -1.5, true, [], {}, ['x'], { nested: NUL }];
const MALFORMED_JSON = ['{', '{"a":', 'null', '"str"', '123', '[]', 'true', '{"a":1}}', '\u0000', '['.repeat(3000)];
// Just over the largest body limit (64 kB), and well over it.
const HUGE_SIZES = [70 * 1024, 600 * 1024];

type Probe = { label: string; method: string; path: string; headers?: Record<string, string>; body?: string | Buffer };

/** mulberry32: a small seeded generator, so every run sends the same "random" strings. */
function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(SEED);

/** Any UTF-16 code units at all: controls, NUL, lone halves of surrogate pairs, private use. */
function junk(length = 12) {
  return String.fromCharCode(...Array.from({ length }, () => Math.floor(random() * 0x10000)));
}

/** Junk that survives percent-encoding as bytes: control characters and NUL included. */
function junkBytes(length = 12) {
  return Array.from(
    { length },
    () =>
      `%${Math.floor(random() * 256)
        .toString(16)
        .padStart(2, '0')}`,
  ).join('');
}

const base64url = (text: string) => Buffer.from(text).toString('base64url');

/** Cursors we never issued: out-of-range and impossible timestamps, bad ids, no JSON at all. */
const BAD_CURSORS = [
  base64url(JSON.stringify({ at: '+275760-09-13T00:00:00.000Z', id: '00000000-0000-4000-8000-000000000000' })),
  base64url(JSON.stringify({ at: '-271821-04-20T00:00:00.000Z', id: 'x' })),
  base64url(JSON.stringify({ at: '2026-02-31T25:61:00.000Z', id: 'x' })),
  base64url(JSON.stringify({ at: '1', id: 'x' })),
  base64url(JSON.stringify({ at: '2026-01-01T00:00:00.000Z', id: NUL })),
  base64url(JSON.stringify({ at: '2026-01-01T00:00:00.000Z', id: LONE_SURROGATE })),
  base64url(JSON.stringify({ at: '2026-01-01T00:00:00.000Z', id: 42 })),
  base64url(JSON.stringify({ at: '2026-01-01T00:00:00.000Z', id: 'x'.repeat(300) })),
  base64url('null'),
  base64url('[]'),
  base64url('{"at":'),
  'not-a-cursor!',
  '%00',
];

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  minimum?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

/** A plausible value for a schema, so that each probe is wrong in one place only. */
function sample(schema: JsonSchema | undefined): unknown {
  if (!schema) return 'x';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  const alternative = (schema.anyOf ?? schema.oneOf)?.find((option) => option.type !== 'null');
  if (alternative) return sample(alternative);
  const type = Array.isArray(schema.type) ? schema.type.find((option) => option !== 'null') : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, 1);
    case 'boolean':
      return true;
    case 'array':
      return [sample(schema.items)];
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([name]) => schema.required?.includes(name))
          .map(([name, property]) => [name, sample(property)]),
      );
    default:
      if (schema.format === 'email') return 'someone@example.com';
      if (schema.format === 'uri') return 'https://app.example.com/callback';
      return 'x'.repeat(Math.max(schema.minLength ?? 0, 3));
  }
}

/** Probes for one operation of the OpenAPI document. */
function apiProbes(
  method: string,
  template: string,
  operation: { parameters?: { name: string; in: string; schema: JsonSchema }[]; requestBody?: unknown },
  pathValues: Record<string, string>,
  token: string,
): Probe[] {
  const auth = { authorization: `Bearer ${token}` };
  const label = `${method.toUpperCase()} ${template}`;
  const parameters = operation.parameters ?? [];
  const fill = (overrides: Record<string, string> = {}) =>
    template.replace(
      /\{(\w+)\}/g,
      (_match, name: string) => overrides[name] ?? pathValues[name] ?? crypto.randomUUID(),
    );
  const validQuery = new URLSearchParams();
  for (const parameter of parameters)
    if (parameter.in === 'query' && (parameter.schema.enum || parameter.name === 'limit'))
      validQuery.set(parameter.name, String(sample(parameter.schema)));

  const probes: Probe[] = [];
  const bodySchema = (operation.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)
    ?.content?.['application/json']?.schema;
  const validBody = bodySchema ? JSON.stringify(sample(bodySchema)) : undefined;
  const withBody = (headers: Record<string, string> = {}) =>
    validBody === undefined
      ? { headers: auth }
      : { headers: { ...auth, 'content-type': 'application/json', ...headers }, body: validBody };

  for (const parameter of parameters) {
    const bad =
      parameter.name === 'cursor'
        ? BAD_CURSORS.map((cursor) => encodeURIComponent(cursor))
        : ['%00', `a%00b`, SURROGATE_BYTES, junkBytes(), '%', encodeURIComponent('x'.repeat(600)), '-1', '1e309'];
    for (const value of bad) {
      if (parameter.in === 'path') {
        probes.push({
          label: `${label} path ${parameter.name}=${value}`,
          method,
          path: fill({ [parameter.name]: value }),
          ...withBody(),
        });
      } else {
        const query = `${validQuery.toString()}${validQuery.size ? '&' : ''}${parameter.name}=${value}`;
        probes.push({
          label: `${label} query ${parameter.name}=${value}`,
          method,
          path: `${fill()}?${query}`,
          ...withBody(),
        });
      }
    }
  }
  probes.push({
    label: `${label} query junk`,
    method,
    path: `${fill()}?${junkBytes(4)}=${junkBytes()}`,
    ...withBody(),
  });
  if (!bodySchema) return probes;

  const body = sample(bodySchema) as Record<string, unknown>;
  const fields = Object.keys(bodySchema.properties ?? {});
  for (const field of fields) {
    for (const value of [NUL, LONE_SURROGATE, junk(), junk(40), ...WRONG_TYPES]) {
      probes.push({
        label: `${label} body ${field}=${JSON.stringify(value)}`,
        method,
        path: fill(),
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, [field]: value }),
      });
    }
  }
  probes.push({
    label: `${label} body with a NUL key`,
    method,
    path: fill(),
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, [NUL]: 1 }),
  });
  for (const text of MALFORMED_JSON)
    probes.push({
      label: `${label} body ${JSON.stringify(text.slice(0, 12))}`,
      method,
      path: fill(),
      headers: { ...auth, 'content-type': 'application/json' },
      body: text,
    });
  for (const size of HUGE_SIZES)
    probes.push({
      label: `${label} body of ${size} bytes`,
      method,
      path: fill(),
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, padding: 'x'.repeat(size) }),
    });
  probes.push(...wrongContentTypes(label, method, fill(), auth, body));
  return probes;
}

/** The same fields as a form, as text, with no type, in a charset we do not speak, compressed. */
function wrongContentTypes(
  label: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  fields: Record<string, unknown>,
): Probe[] {
  const form = new URLSearchParams(
    Object.entries(fields).map(([key, value]): [string, string] => [key, String(value)]),
  ).toString();
  return [
    {
      label: `${label} as a form`,
      method,
      path,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    },
    {
      label: `${label} as text`,
      method,
      path,
      headers: { ...headers, 'content-type': 'text/plain' },
      body: JSON.stringify(fields),
    },
    { label: `${label} without a type`, method, path, headers, body: JSON.stringify(fields) },
    {
      label: `${label} as multipart`,
      method,
      path,
      headers: { ...headers, 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x\r\n\r\n',
    },
    {
      label: `${label} as UTF-16 JSON`,
      method,
      path,
      headers: { ...headers, 'content-type': 'application/json; charset=utf-16le' },
      body: Buffer.from(JSON.stringify(fields), 'utf16le'),
    },
    {
      label: `${label} as gzip JSON`,
      method,
      path,
      headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: JSON.stringify(fields),
    },
  ];
}

/** Probes for a form: each field wrong in turn, then the whole body. `fields` include the CSRF token. */
function formProbes(
  label: string,
  action: string,
  fields: Record<string, string>,
  headers: Record<string, string>,
): Probe[] {
  const form = (values: Record<string, string>) => new URLSearchParams(values).toString();
  const asForm = { ...headers, 'content-type': 'application/x-www-form-urlencoded' };
  const probes: Probe[] = [];
  const names = Object.keys(fields).filter((name) => name !== '_csrf');
  for (const name of names.length ? names : ['extra']) {
    for (const value of [NUL, junk(), '\u0000'.repeat(3), 'x'.repeat(5000)])
      probes.push({
        label: `${label} ${name}=${JSON.stringify(value.slice(0, 8))}`,
        method: 'POST',
        path: action,
        headers: asForm,
        body: form({ ...fields, [name]: value }),
      });
    const rest = form(fields);
    for (const raw of [SURROGATE_BYTES, junkBytes(), `${name}[a]=%00`])
      probes.push({
        label: `${label} ${name} as ${raw.slice(0, 12)}`,
        method: 'POST',
        path: action,
        headers: asForm,
        body: `${rest}&${raw.includes('=') ? raw : `${encodeURIComponent(name)}=${raw}`}`,
      });
    probes.push({
      label: `${label} ${name} with a raw NUL byte`,
      method: 'POST',
      path: action,
      headers: asForm,
      body: Buffer.concat([Buffer.from(`${rest}&${name}=a`), Buffer.from([0]), Buffer.from('b')]),
    });
  }
  for (const size of HUGE_SIZES)
    probes.push({
      label: `${label} ${size} bytes`,
      method: 'POST',
      path: action,
      headers: asForm,
      body: form({ ...fields, padding: 'x'.repeat(size) }),
    });
  probes.push({
    label: `${label} bad percent-encoding`,
    method: 'POST',
    path: action,
    headers: asForm,
    body: `${form(fields)}&x=%E0%A4%A&y=%`,
  });
  probes.push({
    label: `${label} path with NUL`,
    method: 'POST',
    path: `${action}%00`,
    headers: asForm,
    body: form(fields),
  });
  probes.push({
    label: `${label} query with NUL`,
    method: 'POST',
    path: `${action}${action.includes('?') ? '&' : '?'}x=%00`,
    headers: asForm,
    body: form(fields),
  });
  for (const text of MALFORMED_JSON.slice(0, 4))
    probes.push({
      label: `${label} JSON ${text}`,
      method: 'POST',
      path: action,
      headers: { ...headers, 'content-type': 'application/json' },
      body: text,
    });
  probes.push({
    label: `${label} JSON with NUL`,
    method: 'POST',
    path: action,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ ...fields, [names[0] ?? 'extra']: NUL }),
  });
  probes.push(...wrongContentTypes(label, 'POST', action, headers, { ...fields, [names[0] ?? 'extra']: NUL }));
  return probes;
}

/** Probes for a JSON endpoint a page's script calls (the passkey ceremonies). */
function scriptProbes(label: string, path: string, headers: Record<string, string>): Probe[] {
  const json = { ...headers, 'content-type': 'application/json' };
  const probes: Probe[] = MALFORMED_JSON.map((text) => ({
    label: `${label} ${JSON.stringify(text.slice(0, 12))}`,
    method: 'POST',
    path,
    headers: json,
    body: text,
  }));
  for (const value of [NUL, LONE_SURROGATE, junk(), ...WRONG_TYPES]) {
    probes.push({
      label: `${label} credential=${JSON.stringify(value)}`,
      method: 'POST',
      path,
      headers: json,
      body: JSON.stringify({ credential: value, name: 'x' }),
    });
    probes.push({
      label: `${label} name=${JSON.stringify(value)}`,
      method: 'POST',
      path,
      headers: json,
      body: JSON.stringify({ credential: { id: 'x', rawId: 'x', type: 'public-key', response: {} }, name: value }),
    });
  }
  for (const size of HUGE_SIZES)
    probes.push({
      label: `${label} ${size} bytes`,
      method: 'POST',
      path,
      headers: json,
      body: JSON.stringify({ padding: 'x'.repeat(size) }),
    });
  probes.push(...wrongContentTypes(label, 'POST', path, headers, { credential: 'x', name: 'x' }));
  probes.push({
    label: `${label} a form with the token`,
    method: 'POST',
    path,
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: `_csrf=${encodeURIComponent(headers['x-csrf-token'] ?? '')}&name=x`,
  });
  return probes;
}

type PageForm = { page: string; action: string; fields: Record<string, string> };

/** The POST forms on a page (action, and every named field with its value or a stand-in), and its script endpoints. */
function readPage(page: string, html: string) {
  const forms: PageForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const [, attributes, body] = match;
    if (!/method="post"/i.test(attributes!)) continue;
    const action = decode(/action="([^"]*)"/.exec(attributes!)?.[1] ?? page);
    const fields: Record<string, string> = {};
    for (const field of body!.matchAll(/<(input|textarea|select)\b([^>]*)>/g)) {
      const name = /\bname="([^"]*)"/.exec(field[2]!)?.[1];
      if (!name) continue;
      fields[name] = decode(/\bvalue="([^"]*)"/.exec(field[2]!)?.[1] ?? 'x');
    }
    forms.push({ page, action, fields });
  }
  const scripts = [...html.matchAll(/data-(?:options|verify)-url="([^"]+)"/g)].map((match) => decode(match[1]!));
  const csrf = /data-csrf="([^"]+)"/.exec(html)?.[1];
  const links = [...html.matchAll(/href="(\/[^"#]*)"/g)].map((match) => decode(match[1]!));
  return { forms, scripts, csrf, links };
}

function decode(value: string) {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** Sends one probe; what came back, or why nothing did. */
async function send(server: TestServer, probe: Probe): Promise<number | string> {
  try {
    const response = await fetch(new URL(probe.path, server.url), {
      method: probe.method,
      headers: probe.headers ?? {},
      ...(probe.body === undefined || probe.method === 'GET' ? {} : { body: probe.body }),
      redirect: 'manual',
    });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    return `no answer (${(error as Error).cause ?? (error as Error).message})`;
  }
}

/** A request with a NUL in a header value, which fetch will not send: written to the socket by hand. */
function rawRequest(server: TestServer, request: string): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

test('no request a client can send gets a 5xx, at any operation, endpoint or form', async (t) => {
  const standIn = await startStripeStandIn(t);
  const server = await startTestServer(t, {
    hostname: 'localhost',
    env: { ...stripeEnv(standIn), PLATFORM_OWNER_EMAIL: EMAIL },
  });

  // The API as its document describes it, and a person holding every scope it names.
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<string, { security: { bearer: string[] }[]; parameters?: never[]; requestBody?: unknown }>
    >;
  };
  const scopes = new Set(
    Object.values(document.paths).flatMap((operations) =>
      Object.values(operations).flatMap((operation) => operation.security.flatMap((entry) => entry.bearer)),
    ),
  );
  const token = await apiToken(server, EMAIL, [...scopes]);
  const organization = await callApi(server, token, 'POST', '/api/organizations', { name: 'Fuzz', slug: 'fuzz' });
  t.is(organization.status, 201);
  const organizationId = organization.body!.id as string;
  t.is((await callApi(server, token, 'POST', `/api/platform/organizations/${organizationId}/approve`, {})).status, 200);
  const account = await accountByEmail(server, EMAIL);
  const invited = await callApi(server, token, 'POST', `/api/organizations/${organizationId}/invitations`, {
    email: INVITEE,
    role: 'member',
  });
  t.is(invited.status, 201);
  const pathValues = { id: organizationId, accountId: account.id, invitationId: invited.body!.id as string };

  const probes: Probe[] = [];
  let operations = 0;
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      operations += 1;
      probes.push(...apiProbes(method.toUpperCase(), template, operation, pathValues, token));
    }
  }

  // oidc-provider's endpoints, as discovery names them, with the parameters each one reads.
  const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<
    string,
    string
  >;
  const { clientId, clientSecret } = await registerClient(server.app);
  const basic = { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` };
  const oauthForms: Record<string, Record<string, string>> = {
    token_endpoint: {
      grant_type: 'client_credentials',
      client_id: clientId,
      scope: 'openid',
      code: 'x',
      refresh_token: 'x',
      redirect_uri: RP_REDIRECT,
      code_verifier: 'x',
      device_code: 'x',
    },
    introspection_endpoint: { token: 'x', token_type_hint: 'access_token', client_id: clientId },
    revocation_endpoint: { token: 'x', token_type_hint: 'refresh_token', client_id: clientId },
    device_authorization_endpoint: { client_id: clientId, scope: 'openid' },
    pushed_authorization_request_endpoint: {
      client_id: clientId,
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      scope: 'openid',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    },
    userinfo_endpoint: { access_token: 'x' },
    end_session_endpoint: {
      client_id: clientId,
      post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out',
      id_token_hint: 'x',
    },
  };
  let endpoints = 0;
  for (const [name, fields] of Object.entries(oauthForms)) {
    const endpoint = discovery[name];
    if (!endpoint) continue;
    endpoints += 1;
    const path = new URL(endpoint).pathname;
    probes.push(
      ...formProbes(`oauth ${name}`, path, fields, {}),
      ...formProbes(`oauth ${name} (client authenticated)`, path, fields, basic).slice(0, 8),
    );
    for (const [field, value] of Object.entries(fields)) {
      for (const bad of ['%00', SURROGATE_BYTES, junkBytes()])
        probes.push({
          label: `oauth ${name} GET ${field}=${bad}`,
          method: 'GET',
          path: `${path}?${new URLSearchParams({ ...fields, [field]: value })}&${field}=${bad}`,
        });
    }
  }
  const authorize = new URL(discovery.authorization_endpoint!).pathname;
  const authorizeParams = {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    state: 's',
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
  };
  for (const field of Object.keys(authorizeParams)) {
    for (const bad of ['%00', `a%00b`, SURROGATE_BYTES, junkBytes()]) {
      const query = new URLSearchParams(Object.entries(authorizeParams).filter(([key]) => key !== field));
      probes.push({
        label: `oauth authorization ${field}=${bad}`,
        method: 'GET',
        path: `${authorize}?${query}&${field}=${bad}`,
      });
    }
  }
  probes.push(...formProbes('oauth authorization (POST)', authorize, authorizeParams, {}));

  // The pages: a signed-in person's account pages, crawled from /account; the sign-in, code and
  // second-step pages of a new sign-in; the device and invitation pages. Every POST form on them,
  // and every script endpoint they name.
  const { client } = await signedInAt(server, '/account', EMAIL);
  const totpPage = await (await client.request('/account/security/totp')).text();
  const secret = secretFromPage(totpPage);
  const pending = /name="pending" value="([^"]+)"/.exec(totpPage)?.[1] ?? '';
  const enrolled = await submitForm(client, totpPage, '/account/security/totp', {
    pending,
    code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) }),
  });
  t.true(enrolled.response.status < 400, 'an authenticator app is enrolled, so its forms are on the pages');

  const pages = new Map<string, { forms: PageForm[]; scripts: string[]; csrf: string | undefined }>();
  const queue = ['/account'];
  while (queue.length) {
    const page = queue.shift()!;
    if (pages.has(page)) continue;
    const response = await client.request(page);
    const html = await response.text();
    const found = readPage(page, html);
    pages.set(page, found);
    for (const link of found.links)
      if (link.startsWith('/account') && !link.includes('?') && !pages.has(link)) queue.push(link);
  }

  // A second browser signs in again: the sign-in page, the code page, and (the account has an
  // authenticator app now) the second-step page.
  const visitor = new PageClient(server.url);
  const interactionPages: { page: string; html: string; client: PageClient }[] = [];
  const start = await visitor.follow(`${server.url}${authorize}?${new URLSearchParams(authorizeParams)}`);
  const login = await start.response.text();
  interactionPages.push({ page: start.url.pathname, html: login, client: visitor });
  const codeStep = await visitor.follow(formAction(login, '/email'), {
    form: { _csrf: csrfToken(login), email: EMAIL },
  });
  const codeHtml = await codeStep.response.text();
  interactionPages.push({ page: codeStep.url.pathname, html: codeHtml, client: visitor });
  const mfa = await visitor.follow(formAction(codeHtml, '/code'), {
    form: { _csrf: csrfToken(codeHtml), code: await latestCode(server.url, EMAIL) },
  });
  interactionPages.push({ page: mfa.url.pathname, html: await mfa.response.text(), client: visitor });
  const device = new PageClient(server.url);
  const devicePage = await (
    await device.request(new URL(discovery.device_authorization_endpoint!).pathname.replace(/\/auth$/, ''))
  ).text();
  interactionPages.push({ page: '/device', html: devicePage, client: device });
  const guest = new PageClient(server.url);
  const invitation = new URL(await invitationLink(server, INVITEE)).pathname;
  interactionPages.push({ page: invitation, html: await (await guest.request(invitation)).text(), client: guest });

  let forms = 0;
  let scripts = 0;
  const pageProbes: { client: PageClient; probe: Probe }[] = [];
  const addPage = (browser: PageClient, page: string, found: ReturnType<typeof readPage>) => {
    for (const bad of ['%00', SURROGATE_BYTES, junkBytes()])
      pageProbes.push({
        client: browser,
        probe: { label: `page GET ${page}?x=${bad}`, method: 'GET', path: `${page}?x=${bad}` },
      });
    pageProbes.push({ client: browser, probe: { label: `page GET ${page}/%00`, method: 'GET', path: `${page}/%00` } });
    for (const form of found.forms) {
      forms += 1;
      for (const probe of formProbes(`form ${form.action} (on ${page})`, form.action, form.fields, {}))
        pageProbes.push({ client: browser, probe });
    }
    for (const script of new Set(found.scripts)) {
      scripts += 1;
      for (const probe of scriptProbes(`script ${script}`, script, { 'x-csrf-token': found.csrf ?? '' }))
        pageProbes.push({ client: browser, probe });
    }
  };
  for (const [page, found] of pages) addPage(client, page, { ...found, links: [] });
  for (const { page, html, client: browser } of interactionPages) addPage(browser, page, readPage(page, html));
  // Forms that show only with a passkey (which takes a browser to create): a maintained list.
  // One CSRF token serves every form of a browser (it is bound to the browser's cookie).
  const accountCsrf = csrfToken(await (await client.request('/account/security')).text());
  for (const action of ['/account/passkeys/%00/rename', '/account/passkeys/x/rename', '/account/passkeys/x/remove'])
    addPage(client, '/account/passkeys', {
      forms: [{ page: '/account/passkeys', action, fields: { _csrf: accountCsrf, name: 'x' } }],
      scripts: [],
      csrf: undefined,
      links: [],
    });

  // The Stripe webhook: signed, but not events we can read, or signed in the future.
  const webhook = (label: string, payload: string, signature = signatureFor(payload)): Probe => ({
    label: `stripe ${label}`,
    method: 'POST',
    path: '/webhooks/stripe',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  const event = stripeEvent('checkout.session.completed', { id: 'cs_x', object: 'checkout.session' });
  const { id: _id, ...withoutId } = event;
  for (const [label, payload] of Object.entries({
    null: 'null',
    'a string': '"str"',
    'an array': '[]',
    'no id': JSON.stringify(withoutId),
    'data null': JSON.stringify({ ...event, data: null }),
    'object null': JSON.stringify({ ...event, data: { object: null } }),
    'NUL id': JSON.stringify({ ...event, id: NUL }),
    'lone surrogate type': JSON.stringify({ ...event, type: LONE_SURROGATE }),
    'created in letters': JSON.stringify({ ...event, created: 'soon' }),
    'unreadable session': JSON.stringify({ ...event, data: { object: { id: NUL, metadata: [] } } }),
  }))
    probes.push(webhook(label, payload));
  const future = JSON.stringify(stripeEvent('customer.created', { id: 'cus_x' }));
  probes.push(
    webhook(
      'from the future',
      future,
      signatureFor(future).replace(/t=\d+/, `t=${Math.floor(Date.now() / 1000) + 86_400}`),
    ),
  );

  const failures: string[] = [];
  const statuses = new Map<number | string, number>();
  let sent = 0;
  for (const probe of probes) {
    const status = await send(server, probe);
    sent += 1;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (typeof status === 'string' || status >= 500) failures.push(`${probe.label}: ${status}`);
  }
  for (const { client: browser, probe } of pageProbes) {
    const cookie = browser.cookieHeader(new URL(probe.path, server.url).pathname);
    const status = await send(server, { ...probe, headers: { ...probe.headers, ...(cookie ? { cookie } : {}) } });
    sent += 1;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (typeof status === 'string' || status >= 500) failures.push(`${probe.label}: ${status}`);
  }
  // Node's HTTP parser refuses a NUL in a header before any code of ours runs; this keeps it so.
  const header = await rawRequest(
    server,
    'GET /api/whoami HTTP/1.1\r\nHost: localhost\r\nX-Fuzz: a\u0000b\r\nConnection: close\r\n\r\n',
  );
  if (!/^HTTP\/1\.1 4\d\d/.test(header)) failures.push(`a NUL in a header: ${header}`);

  t.log(
    `${sent} requests: ${operations} API operations, ${endpoints} OAuth endpoints, ${forms} forms, ${scripts} script endpoints`,
  );
  t.true(
    operations >= 20 && endpoints >= 5 && forms >= 15 && scripts >= 3,
    'the fuzzer found what the server publishes',
  );
  t.deepEqual(failures, []);
});
