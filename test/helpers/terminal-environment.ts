import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { createLocalDriver } from '../../src/environments/local.driver.ts';
import type { TerminalLimits } from '../../src/environments/terminal/terminal-session.ts';
import { apiTokens, callApi } from './api.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  startEnvironmentServer,
  waitForState,
} from './environments.ts';
import type { TestServer } from './server.ts';

export const TERMINAL_SCOPES = [...ENVIRONMENT_SCOPES, 'environments:connect', 'offline_access'];

/** The app with the local driver (a real sshd per environment) and terminal checks every 100 ms. */
export async function startTerminalServer(
  t: ExecutionContext,
  options: {
    storage?: Record<string, string>;
    env?: Record<string, string>;
    limits?: Partial<TerminalLimits>;
    /** Another address for the issuer (a proxy in front of the server), which tickets' URLs then name. */
    issuer?: string;
  } = {},
) {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-terminal-env-'));
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const storage = options.storage ?? (await environmentStorage(t));
  const server = await startEnvironmentServer(
    { TERMINAL_CHECK_MS: '100', TERMINALS_PER_ENVIRONMENT: '20', ...storage, ...options.env },
    { driver },
    {
      ...(options.limits ? { terminalLimits: options.limits } : {}),
      ...(options.issuer ? { issuer: options.issuer } : {}),
    },
  );
  t.teardown(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { server, storage };
}

/** A person with a token (and the token response, for revoking) and a running environment of theirs. */
export async function runningEnvironment(server: TestServer, email: string) {
  const tokens = await apiTokens(server, email, TERMINAL_SCOPES);
  const token = tokens.tokens.access_token;
  const created = await createEnvironment(server, token, { name: 'Terminal box', template: 'test-box' });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const id = created.body.id as string;
  await waitForState(server, token, id, 'running');
  return { id, token, tokens };
}

export async function ticketFor(server: TestServer, token: string, id: string, body: Record<string, unknown> = {}) {
  return callApi(server, token, 'POST', `/api/environments/${id}/terminal-sessions`, body);
}
