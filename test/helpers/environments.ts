import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import ssh2 from 'ssh2';
import type { EnvironmentDriver } from '../../src/environments/driver.ts';
import { trailText } from '../../src/environments/trail-text.ts';
import type { TestClock } from './clock.ts';
import type { TerminalLimits } from '../../src/environments/terminal/terminal-session.ts';
import { callApi } from './api.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { clearRedisPrefix, startServer, type TestServer, testRedisEnv } from './server.ts';

export const TEST_TEMPLATES = fileURLToPath(new URL('../environments/templates/', import.meta.url));
export const ENVIRONMENT_SCOPES = ['environments:read', 'environments:write', 'dust:read', 'dust:manage'];

/**
 * The app on a loopback port with environment overrides (a driver, a clock), on the database
 * given (so a second instance or a restart shares it). Environments are reconciled every 50 ms.
 */
export async function startEnvironmentServer(
  env: Record<string, string>,
  overrides: { driver?: EnvironmentDriver & { close?(): Promise<void> }; clock?: TestClock } = {},
  /**
   * A restarted server takes its predecessor's port, so the issuer and its tokens stay the same;
   * the terminal tests shrink its limits; a second instance behind the same balancer shares `issuer`.
   */
  options: { port?: number; issuer?: string; terminalLimits?: Partial<TerminalLimits> } = {},
): Promise<TestServer> {
  return startServer(
    {
      ORG_APPROVAL: 'auto',
      TEMPLATES_DIR: TEST_TEMPLATES,
      ENVIRONMENT_RECONCILE_MS: '50',
      ...env,
    },
    {
      ...(options.port ? { port: options.port } : {}),
      ...(options.issuer ? { issuer: options.issuer } : {}),
      overrides: {
        ...(overrides.clock ? { clock: overrides.clock } : {}),
        ...(overrides.driver ? { environmentDriver: overrides.driver } : {}),
        ...(options.terminalLimits ? { terminalLimits: options.terminalLimits } : {}),
      },
    },
  );
}

/** Storage of a test file's own (database and Redis prefix), dropped when the test ends. */
export async function environmentStorage(t: ExecutionContext, options: { persisted?: boolean } = {}) {
  const database: TestDatabase = await createTestDatabase(options);
  const redis = testRedisEnv();
  t.teardown(async () => {
    await database.drop();
    await clearRedisPrefix(redis);
  });
  return { ...database.env, ...redis };
}

/**
 * A driver with no machines: `create` decides what asking for one does (fail the test when no
 * request may get that far, throw a provider's refusal); every machine it is asked about is missing.
 */
export function machinelessDriver(create: EnvironmentDriver['create']): EnvironmentDriver {
  return {
    name: 'local',
    create,
    inspect: async () => ({ status: 'missing' }),
    stop: async (ids) => ids,
    destroy: async () => {},
  };
}

/** Polls the API until the environment is in `state` (the reconciler works in the background). */
export async function waitForState(
  server: TestServer,
  token: string,
  id: string,
  state: string,
  // Minutes: a limit that only catches a hung reconciler, never a slow one on a busy machine.
  timeoutMs = 300_000,
): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, any> | undefined;
  while (Date.now() < deadline) {
    const response = await callApi(server, token, 'GET', `/api/environments/${id}`);
    last = response.body;
    if (last?.state === state) return last;
    if (last?.state === 'error' && state !== 'error') throw new Error(`environment failed: ${last.last_error}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const trail = await callApi(server, token, 'GET', `/api/environments/${id}/events?limit=100`);
  const events = (trail.body?.data ?? []) as { kind: string; message: string | null; created_at: string }[];
  throw new Error(
    `environment ${id} never became ${state}; last seen ${JSON.stringify(last)}; trail:\n${events
      .map((event) => `  ${event.created_at} ${event.kind} ${event.message ?? ''}`)
      .join('\n')}`,
  );
}

/**
 * The entries of an environment's trail that a page could not word in its language (trail-text.ts),
 * as `kind: message`: FairyID's own entries all have words; only the machine's output is as printed.
 */
export async function unworded(server: TestServer, environmentId: string): Promise<string[]> {
  const rows = await server.app.services.db
    .selectFrom('environment_events')
    .selectAll()
    .where('environment_id', '=', environmentId)
    .execute();
  return rows
    .filter((row) => row.kind !== 'machine_output' && !trailText(row))
    .map((row) => `${row.kind}: ${row.message}`);
}

/** POST /api/environments with an Idempotency-Key. */
export async function createEnvironment(
  server: TestServer,
  token: string,
  body: Record<string, unknown>,
  key: string | null = crypto.randomUUID(),
) {
  const response = await fetch(`${server.url}/api/environments`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed'),
    body: (await response.json()) as Record<string, any>,
  };
}

/**
 * Runs `command` over SSH as the environment's user with the environment's private key, accepting
 * only the host key FairyID generated; resolves with stdout.
 */
export function sshRun(input: {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  hostPublicKey: string;
  command: string;
}): Promise<string> {
  const expected = ssh2.utils.parseKey(input.hostPublicKey);
  if (expected instanceof Error) return Promise.reject(expected);
  const blob = (Array.isArray(expected) ? expected[0] : expected).getPublicSSH();
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(input.command, (error, stream) => {
        if (error) return reject(error);
        let out = '';
        stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
        stream.stderr.resume();
        stream.on('close', () => {
          client.end();
          resolve(out);
        });
      });
    });
    client.connect({
      host: input.host,
      port: input.port,
      username: input.username,
      privateKey: input.privateKey,
      // The handshake's limit catches a dead sshd; a loaded machine can take tens of seconds.
      readyTimeout: 120_000,
      hostVerifier: (key: Buffer) => Buffer.compare(key, blob) === 0,
    });
  });
}
