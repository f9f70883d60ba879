import { spawn } from 'node:child_process';
import test from 'ava';
import { sql } from 'kysely';
import { startTestServer } from '../helpers/server.ts';

type Readiness = { status: string; database: boolean; schema: boolean; redis: boolean };

async function readiness(url: string) {
  const response = await fetch(`${url}/ready`);
  return { status: response.status, body: (await response.json()) as Readiness };
}

test('readiness says ready when the database holds the schema this build needs', async (t) => {
  const server = await startTestServer(t);
  const { status, body } = await readiness(server.url);
  t.is(status, 200);
  t.deepEqual(body, { status: 'ready', database: true, schema: true, redis: true });
});

test('readiness says unavailable on a database that lost its schema, though the database answers', async (t) => {
  const server = await startTestServer(t);
  // As after a drop and re-create: the database answers, but none of the migrations are there.
  await sql`drop table kysely_migration`.execute(server.app.services.db);
  const { status, body } = await readiness(server.url);
  t.is(status, 503);
  t.like(body, { status: 'unavailable', database: true, schema: false });
});

/** Runs the real entry point as an operator would, and collects what it prints. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, NODE_ENV: '', LOG_LEVEL: 'silent', PORT: '0', DATABASE_URL: '', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr: stderr.trim() })),
  );
}

test('a start against a Postgres that does not answer names DATABASE_URL in one line', async (t) => {
  const { code, stderr } = await start({ DATABASE_URL: 'postgres://fairy:secret@127.0.0.1:1/fairyid' });
  t.is(code, 1);
  t.is(stderr.split('\n').length, 1, stderr);
  t.regex(stderr, /^Cannot reach Postgres at DATABASE_URL \(127\.0\.0\.1:1\/fairyid\): .*ECONNREFUSED/);
  t.false(stderr.includes('secret'), 'the password stays out of the message');
});

test('a start against a Redis that does not answer names REDIS_URL in one line', async (t) => {
  const { code, stderr } = await start({ DATA_DIR: 'memory://', REDIS_URL: 'redis://127.0.0.1:1' });
  t.is(code, 1);
  t.is(stderr.split('\n').length, 1, stderr);
  t.regex(stderr, /^Cannot reach Redis at REDIS_URL \(127\.0\.0\.1:1\): .*ECONNREFUSED/);
});
