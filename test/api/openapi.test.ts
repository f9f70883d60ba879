import { randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import test, { type ExecutionContext } from 'ava';
import { apiToken } from '../helpers/api.ts';
import { startTestServer } from '../helpers/server.ts';

/**
 * The published OpenAPI document against a real OpenAPI 3.1 validator and against the running
 * server. Stripe is configured (pointing nowhere: no test here gets as far as calling it) so that
 * the billing routes are in the document too.
 */

type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, Record<string, unknown>>;
  required?: string[];
};
type Parameter = { name: string; in: string; required?: boolean };
type Operation = {
  summary: string;
  tags: string[];
  security: { bearer: string[] }[];
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
};
type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
};

const STRIPE_ENV = {
  STRIPE_SECRET_KEY: 'sk_test_openapi_document',
  STRIPE_WEBHOOK_SECRET: 'whsec_openapi_document',
  STRIPE_API_URL: 'http://127.0.0.1:9',
  STRIPE_PLANS: 'team:price_team:10',
};

async function serverWithDocument(t: ExecutionContext) {
  const server = await startTestServer(t, { env: STRIPE_ENV });
  const response = await fetch(`${server.url}/api/openapi.json`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
  const document = (await response.json()) as OpenApi;
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
  return { server, document, operations };
}

/** A value the schema accepts, from the JSON Schema zod emitted (names for what a schema cannot say, like a slug's pattern). */
function sample(schema: Record<string, unknown>, name?: string): unknown {
  const named: Record<string, unknown> = { email: 'someone@example.com', slug: 'some-slug' };
  if (name && name in named) return named[name];
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>).map(([key, inner]) => [
          key,
          sample(inner, key),
        ]),
      );
    case 'array':
      return Array.from({ length: Number(schema.minItems ?? 0) }, () =>
        sample((schema.items ?? {}) as Record<string, unknown>),
      );
    case 'integer':
    case 'number':
      return Math.max(Number(schema.minimum ?? 1), 1);
    case 'boolean':
      return false;
    default:
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'uri') return 'https://example.com/callback';
      return 'x'.repeat(Math.max(Number(schema.minLength ?? 1), 1));
  }
}

/** A concrete URL path for a templated one: every parameter gets a fresh UUID, a valid value for every id we take. */
const concrete = (path: string) => path.replace(/\{\w+\}/g, () => randomUUID());

test('the document is valid OpenAPI 3.1', async (t) => {
  const { document, operations } = await serverWithDocument(t);
  t.is(document.openapi, '3.1.0');
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  t.deepEqual({ valid: result.valid, errors: result.errors ?? [] }, { valid: true, errors: [] });
  t.is(validator.version, '3.1');
  // The control: the validator does look, and refuses a document with one defect.
  const broken = structuredClone(document) as unknown as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  broken.paths['/api/me']!.get!.responses = { '200': { content: 'application/json' } };
  t.false(
    (await new Validator().validate(broken)).valid,
    'a response without a description and with a malformed content is refused',
  );
  t.true(operations.length >= 20, `the document describes the API (${operations.length} operations)`);
  t.true(
    operations.some(({ path }) => path === '/api/organizations/{id}/plan'),
    'billing routes are in it when Stripe is configured',
  );

  // Rules of the specification that its JSON Schema cannot express.
  for (const { method, path, operation } of operations) {
    const label = `${method} ${path}`;
    const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
    const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
    t.deepEqual(
      declared.map((parameter) => parameter.name).sort(),
      templated,
      `${label}: each {param} is declared as a path parameter, and only those`,
    );
    t.true(
      declared.every((parameter) => parameter.required === true),
      `${label}: path parameters are required`,
    );
    const names = (operation.parameters ?? []).map((parameter) => `${parameter.in}:${parameter.name}`);
    t.is(new Set(names).size, names.length, `${label}: no parameter is declared twice`);
    for (const requirement of operation.security) {
      for (const scheme of Object.keys(requirement))
        t.true(scheme in document.components.securitySchemes, `${label}: security scheme ${scheme} is defined`);
    }
  }
});

test('every operation in the document exists on the server: without a token it asks for one, it is not a 404', async (t) => {
  const { server, operations } = await serverWithDocument(t);
  const answers: Record<string, string> = {};
  const expected: Record<string, string> = {};
  for (const { method, path, operation } of operations) {
    const label = `${method} ${path}`;
    const response = await fetch(`${server.url}${concrete(path)}`, {
      method,
      ...(operation.requestBody ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
    });
    const challenge = /^Bearer realm="fairyid"/.test(response.headers.get('www-authenticate') ?? '')
      ? 'Bearer challenge'
      : 'no challenge';
    answers[label] = `${response.status} ${((await response.json()) as { error: string }).error}, ${challenge}`;
    expected[label] = '401 invalid_token, Bearer challenge';
  }
  t.deepEqual(answers, expected);

  // The control: what the server does not have answers 404, so the 401s above are a real distinction.
  const made = await fetch(`${server.url}/api/organizations/${randomUUID()}/treasure`);
  t.is(made.status, 404);
  const wrongMethod = await fetch(`${server.url}/api/organizations/${randomUUID()}`, { method: 'PUT' });
  t.is(wrongMethod.status, 404);
});

test('/docs/api is an HTML page that lists every operation of the document', async (t) => {
  const { server, operations } = await serverWithDocument(t);
  const response = await fetch(`${server.url}/docs/api`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^text\/html/);
  const html = await response.text();
  t.regex(html, /<h1[^>]*>FairyID API<\/h1>/);
  t.regex(html, /href="\/api\/openapi\.json"/);

  const decode = (text: string) =>
    text
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&#39;', "'")
      .replaceAll('&amp;', '&')
      .trim();
  // One article per operation: its route (broken only after slashes), summary and scopes.
  const rows = [
    ...html.matchAll(
      /<article class="api-operation"[\s\S]*?<span class="api-method">(\w+)<\/span> ([\s\S]*?)<\/code><\/a><\/h3>\s*<p>([\s\S]*?)<\/p>\s*<p class="hint">Scopes: ([\s\S]*?)<\/p>/g,
    ),
  ].map(([, method, route, summary, scopes]) =>
    [
      `${method} ${decode(route!.replaceAll('<wbr>', ''))}`,
      decode(summary!),
      [...scopes!.matchAll(/<code class="api-scope">([^<]*)<\/code>/g)].map(([, scope]) => scope).join(' '),
    ].join(' | '),
  );
  const expected = operations.map(({ method, path, operation }) =>
    [`${method} ${path}`, operation.summary, operation.security[0]!.bearer.join(' ')].join(' | '),
  );
  t.deepEqual(rows.sort(), expected.sort(), 'one entry per operation, with its summary and scopes');
});

test('request bodies are documented as a client sends them: defaulted fields optional, every field typed', async (t) => {
  const { server, operations } = await serverWithDocument(t);
  // One person's token with every API scope, so that each request reaches validation.
  const scopes = [...new Set(operations.flatMap(({ operation }) => operation.security[0]!.bearer))];
  const token = await apiToken(server, 'reader@example.com', scopes);

  const problems: string[] = [];
  let checked = 0;
  for (const { method, path, operation } of operations) {
    const schema = operation.requestBody?.content['application/json'].schema;
    if (!schema) continue;
    const label = `${method} ${path}`;
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const typed = ['type', 'enum', 'const', '$ref', 'anyOf', 'oneOf', 'allOf'].some((keyword) => keyword in property);
      if (!typed)
        problems.push(
          `${label}: body field "${name}" is documented as ${JSON.stringify(property)}, which says nothing about what it takes`,
        );
    }
    // A field the document calls required must be one the server refuses to do without: a body
    // with every other field filled in is refused for lacking it. (Ids in the path are fresh, so a
    // body that passes validation only finds that there is no such thing: nothing changes.)
    const full = sample(schema) as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      const { [name]: _left, ...rest } = full;
      const response = await fetch(`${server.url}${concrete(path)}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(rest),
      });
      const body = (await response.json()) as { error: string; error_description: string };
      checked += 1;
      if (response.status !== 400 || !body.error_description.includes(`body "${name}"`)) {
        problems.push(
          `${label}: body field "${name}" is documented as required, yet a body without it is answered ${response.status} ${body.error}`,
        );
      }
    }
  }
  t.true(checked >= 10, `required fields were tried (${checked})`);
  t.deepEqual(problems, []);
});
