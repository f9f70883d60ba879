import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { latestCode } from '../helpers/outbox.ts';
import { formAction } from '../helpers/page-client.ts';
import { type Family, parsePrometheusText, sampleValue, seriesOf } from '../helpers/prometheus-text.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { askForCode, finishAtRelyingParty, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

const TOKEN = 'metrics-token-for-the-tests-0123456789abcdef';

async function scrape(url: string, token: string | null = TOKEN) {
  const response = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { response, text: await response.text() };
}

async function families(server: TestServer): Promise<Map<string, Family>> {
  const { response, text } = await scrape(server.url);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parsePrometheusText(text);
}

const FAMILIES = {
  fairyid_http_request_duration_seconds: 'histogram',
  fairyid_tokens_issued_total: 'counter',
  fairyid_token_errors_total: 'counter',
  fairyid_sign_ins_total: 'counter',
  fairyid_second_factors_total: 'counter',
  fairyid_codes_sent_total: 'counter',
  fairyid_lockouts_total: 'counter',
  fairyid_dust_moved_total: 'counter',
  fairyid_outbox_backlog: 'gauge',
  fairyid_webhook_attempts_total: 'counter',
  fairyid_database_up: 'gauge',
  fairyid_redis_up: 'gauge',
  // prom-client's process defaults
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
};

test('/metrics refuses a request without the token, or with another, and answers Prometheus text with it', async (t) => {
  const server = await startTestServer(t, { env: { METRICS_TOKEN: TOKEN } });

  const bare = await scrape(server.url, null);
  t.is(bare.response.status, 401);
  t.is(bare.response.headers.get('www-authenticate'), 'Bearer realm="metrics"');
  t.false(bare.text.includes('fairyid_'), 'nothing of the metrics leaks into the refusal');
  const wrong = await scrape(server.url, `${TOKEN.slice(0, -1)}x`);
  t.is(wrong.response.status, 401);
  t.regex(wrong.response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  const prefix = await scrape(server.url, TOKEN.slice(0, 10));
  t.is(prefix.response.status, 401, 'a prefix of the token is not the token');
  const basic = await fetch(`${server.url}/metrics`, {
    headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
  });
  t.is(basic.status, 401, 'only the Bearer scheme carries it');
  const inQuery = await fetch(`${server.url}/metrics?token=${TOKEN}`);
  t.is(inQuery.status, 401, 'nor does the query string');

  const { response, text } = await scrape(server.url);
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  t.is(response.headers.get('cache-control'), 'no-store');
  const parsed = parsePrometheusText(text);
  for (const [name, type] of Object.entries(FAMILIES)) t.is(parsed.get(name)?.type, type, name);
});

test('the families count sign-ins, failures, lockouts, codes, tokens, DUST and requests by route', async (t) => {
  const server = await startTestServer(t, { env: { METRICS_TOKEN: TOKEN, LOCKOUT_AFTER_FAILURES: '2/900' } });

  // One wrong code, then the right one, then the app redeems its code for tokens.
  const page = await openSignInPage(server);
  const codePage = await askForCode(page.client, page.html, 'metered@example.com');
  const code = await latestCode(server.url, 'metered@example.com');
  const wrong = await submitCode(page.client, codePage.html, otherThan(code));
  t.is(wrong.response.status, 400);
  const signedIn = await submitCode(page.client, codePage.html, code);
  t.is(signedIn.response.status, 303);
  const tokens = await finishAtRelyingParty(page, signedIn.response);

  // DUST: a charge, its replay (same idempotency key: nothing moves again), one refused for want of funds.
  const { ledger } = server.app.services;
  const accountId = tokens.claims()!.sub;
  t.is(await ledger.balance('person', accountId), 25);
  const actor = { clientId: 'metered-app', accountId };
  const charge = { accountId, amount: 5, description: 'metered' };
  await ledger.charge(actor, charge, { key: 'charge-1', request: charge });
  const replay = await ledger.charge(actor, charge, { key: 'charge-1', request: charge });
  t.true(replay.replayed);
  const tooMuch = { accountId, amount: 1000, description: 'too much' };
  await t.throwsAsync(ledger.charge(actor, tooMuch, { key: 'charge-2', request: tooMuch }));

  // Someone else keeps guessing until the recipient is locked out.
  const guesser = await openSignInPage(server);
  const guessPage = await askForCode(guesser.client, guesser.html, 'guessed@example.com');
  const realCode = await latestCode(server.url, 'guessed@example.com');
  for (let attempt = 0; attempt < 3; attempt += 1)
    await submitCode(guesser.client, guessPage.html, otherThan(realCode));

  // A token request with a grant type nobody supports is one `other` series, whatever it was called.
  const tokenEndpoint = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=urn:made-up:grant-for-the-test',
  });
  t.true(tokenEndpoint.status >= 400 && tokenEndpoint.status < 500);

  const metrics = await families(server);
  t.is(sampleValue(metrics, 'fairyid_tokens_issued_total', { grant_type: 'authorization_code' }), 1);
  t.is(sampleValue(metrics, 'fairyid_token_errors_total', { grant_type: 'other' }), 1);
  t.is(sampleValue(metrics, 'fairyid_sign_ins_total', { method: 'email', outcome: 'success' }), 1);
  t.true(sampleValue(metrics, 'fairyid_sign_ins_total', { method: 'email', outcome: 'failure' }) >= 3);
  t.true(sampleValue(metrics, 'fairyid_lockouts_total', { channel: 'email' }) >= 1);
  t.is(sampleValue(metrics, 'fairyid_codes_sent_total', { channel: 'email', purpose: 'sign_in', outcome: 'sent' }), 2);
  t.is(
    sampleValue(metrics, 'fairyid_dust_moved_total', { kind: 'signup_grant' }),
    25,
    "the new account's welcome DUST",
  );
  t.is(sampleValue(metrics, 'fairyid_database_up'), 1);
  t.is(sampleValue(metrics, 'fairyid_redis_up', { store: process.env.REDIS_URL ? 'redis' : 'memory' }), 1);
  if (process.env.DATABASE_URL) {
    t.true(sampleValue(metrics, 'fairyid_database_pool_connections', { state: 'max' }) >= 1);
  }
  const requests = (route: string, status: string) =>
    sampleValue(metrics, 'fairyid_http_request_duration_seconds_count', { route, status });
  t.true(requests('/interaction/:uid/code', '400') >= 1, 'the wrong codes, by their route pattern');
  t.is(requests('/interaction/:uid/code', '303'), 1);
  t.is(requests('oidc:token', '200'), 1, "oidc-provider's endpoints by route name");
  t.true(sampleValue(metrics, 'fairyid_http_request_duration_seconds_count', { route: 'oidc:authorization' }) >= 2);

  // The interaction's uid was in every path of the sign-in; it is in no label.
  const uid = /\/interaction\/([^/]+)\//.exec(formAction(codePage.html, '/code'))?.[1];
  t.truthy(uid);
  for (const family of metrics.values()) {
    for (const sample of family.samples) {
      const values = Object.values(sample.labels).join(' ');
      t.false(values.includes(uid!) || values.includes('@'), `${sample.name} ${values}`);
    }
  }
  t.true(sampleValue(metrics, 'process_cpu_seconds_total') > 0);
});

test('requests to a thousand different paths leave the number of series bounded', async (t) => {
  const server = await startTestServer(t, { env: { METRICS_TOKEN: TOKEN } });
  const marker = 'zq7marker';
  // Every kind of place a made-up path can land: nowhere, under /api, under our routers' patterns,
  // oidc-provider's parameter routes, its discovery prefix, assets; with queries and odd methods.
  const paths = Array.from({ length: 1000 }, (_, i) => {
    const at = [
      `/${marker}-${i}`,
      `/api/${marker}/${i}`,
      `/interaction/${marker}${i}`,
      `/auth/${marker}${i}`,
      `/device/${marker}${i}`,
      `/.well-known/${marker}-${i}`,
      `/assets/${marker}-${i}.js`,
      `/account/${marker}-${i}?${marker}=${i}`,
      `/invitations/${marker}${i}`,
      `/token/${marker}${i}`,
    ][i % 10];
    return { path: at!, method: ['GET', 'POST', 'DELETE', 'PROPFIND'][i % 4]! };
  });
  const before = seriesOf((await families(server)).get('fairyid_http_request_duration_seconds')!).length;
  for (let start = 0; start < paths.length; start += 25) {
    await Promise.all(
      paths.slice(start, start + 25).map(async ({ path, method }) => {
        const response = await fetch(`${server.url}${path}`, { method, redirect: 'manual' });
        await response.arrayBuffer();
      }),
    );
  }
  const { text } = await scrape(server.url);
  t.false(text.includes(marker), 'nothing of a path, query or method a client chose is in any label');
  const metrics = parsePrometheusText(text);
  const after = seriesOf(metrics.get('fairyid_http_request_duration_seconds')!);
  t.true(after.length - before <= 60, `${after.length - before} new series for 1,000 paths`);
  t.true(
    after.every((labels) =>
      ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'].includes(labels.method!),
    ),
  );
  t.true(after.some((labels) => labels.route === 'unmatched'));
  t.true(
    after.some((labels) => labels.method === 'other'),
    'PROPFIND is "other"',
  );
  const total = [...metrics.values()].reduce((sum, family) => sum + family.samples.length, 0);
  t.true(total < 3000, `${total} samples in all`);
});

test('with METRICS_PORT, /metrics is served on its own port and not on the main one', async (t) => {
  const server = await startTestServer(t, { env: { METRICS_PORT: '9464' } });
  t.is((await scrape(server.url, null)).response.status, 404);
  const handler = server.app.metricsHandler;
  if (!handler) return t.fail('no metrics handler with METRICS_PORT');
  const metricsServer = createServer(handler);
  await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => metricsServer.close(() => resolve())));
  const url = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
  const { response, text } = await scrape(url, null);
  t.is(response.status, 200);
  t.is(parsePrometheusText(text).get('fairyid_http_request_duration_seconds')?.type, 'histogram');
  t.is((await fetch(`${url}/health`)).status, 404, 'the metrics port serves nothing else');

  const guarded = await startTestServer(t, { env: { METRICS_PORT: '9465', METRICS_TOKEN: TOKEN } });
  const guardedServer = createServer(guarded.app.metricsHandler!);
  await new Promise<void>((resolve) => guardedServer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => guardedServer.close(() => resolve())));
  const guardedUrl = `http://127.0.0.1:${(guardedServer.address() as AddressInfo).port}`;
  t.is((await scrape(guardedUrl, null)).response.status, 401, 'with a token too, the port needs it');
  t.is((await scrape(guardedUrl)).response.status, 200);
});

test('without METRICS_TOKEN or METRICS_PORT there is no /metrics at all', async (t) => {
  const server = await startTestServer(t);
  t.is((await scrape(server.url)).response.status, 404);
  t.is(server.app.metricsHandler, undefined);
});

test('a short METRICS_TOKEN, or a METRICS_PORT equal to PORT, is refused at start', (t) => {
  for (const env of [{ METRICS_TOKEN: 'short' }, { PORT: '4000', METRICS_PORT: '4000' }, { METRICS_PORT: '0' }]) {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.regex(error?.message ?? '', /METRICS_(TOKEN|PORT)/);
  }
});

test('every metric the Grafana dashboard queries is one /metrics exposes', async (t) => {
  const server = await startTestServer(t, { env: { METRICS_TOKEN: TOKEN } });
  const exposed = await families(server);
  const dashboard = JSON.parse(await readFile(new URL('../../ops/grafana/fairyid.json', import.meta.url), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const queried = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      for (const [name] of target.expr.matchAll(/\b(?:fairyid|nodejs|process)_[a-z0-9_]+/g)) queried.add(name);
    }
  }
  t.true(queried.size >= 10, `${queried.size} metrics queried`);
  for (const name of queried) {
    const family = name.replace(/_(bucket|sum|count)$/, '');
    t.true(exposed.has(name) || exposed.get(family)?.type === 'histogram', `${name} is exposed`);
  }
});
