import { startServerProcess } from '../helpers/server-process.ts';
import test from 'ava';
import { createTestDatabase } from '../helpers/database.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { clearRedisPrefix, startServer, testRedisEnv } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';

// Killing a process right after a commit is a claim about Postgres' durability; PGlite in a folder
// makes no such promise, so this runs where CI runs it: on real Postgres.
const onPostgres = process.env.DATABASE_URL ? test : test.skip;

const PEOPLE = 3;
const ROTATIONS_BEFORE_KILL = 7;

type Refreshed = { refresh_token: string; access_token: string };

onPostgres(
  'a server killed right after a refresh rotation neither revives the old token nor revokes the new one',
  async (t) => {
    const database = await createTestDatabase();
    const redis = testRedisEnv();
    const env = { ...database.env, ...redis };
    t.teardown(async () => {
      await database.drop();
      await clearRedisPrefix(redis);
    });

    // Set up in process: a client and people with refresh tokens, on the port the child will take over.
    const setup = await startServer(env);
    const { clientId, clientSecret } = await registerClient(setup.app);
    const config = await discover(setup.url, clientId, clientSecret);
    const chains: Array<{ current: string; previous?: string; accessToken?: string }> = [];
    for (let person = 0; person < PEOPLE; person += 1) {
      const tokens = await codeFlowWithOfflineAccess(setup.url, config, `crash-${person}@example.com`);
      chains.push({ current: tokens.refresh_token! });
    }
    await setup.stop();

    const { child, exited } = await startServerProcess(env, setup.url);

    const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret ?? '')}`).toString('base64')}`;
    const refresh = (refreshToken: string) =>
      fetch(`${setup.url}/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });

    // One rotation at a time, round the chains: the kill comes the moment a rotation's answer arrives,
    // with no other request in flight, so every chain's newest token is one its client really holds.
    for (let rotation = 0; rotation < ROTATIONS_BEFORE_KILL; rotation += 1) {
      const chain = chains[rotation % PEOPLE]!;
      const response = await refresh(chain.current);
      t.is(response.status, 200);
      const body = (await response.json()) as Refreshed;
      if (rotation === ROTATIONS_BEFORE_KILL - 1) child.kill('SIGKILL');
      chain.previous = chain.current;
      chain.current = body.refresh_token;
      chain.accessToken = body.access_token;
    }
    await exited;

    const after = await startServer(env, { port: Number(new URL(setup.url).port) });
    t.teardown(() => after.stop());
    for (const [index, chain] of chains.entries()) {
      // The newest token and its access token work: nothing the client did wrong, nothing revoked.
      const userinfo = await fetch(`${after.url}/me`, { headers: { authorization: `Bearer ${chain.accessToken}` } });
      t.is(userinfo.status, 200, `person ${index}: the access token from the last rotation works`);
      const next = await refresh(chain.current);
      t.is(next.status, 200, `person ${index}: the newest refresh token still refreshes`);
      // The token it replaced stays spent: the rotation was committed before its answer went out.
      const old = await refresh(required(chain.previous));
      t.is(old.status, 400, `person ${index}: the rotated token does not work again`);
      t.like(await old.json(), { error: 'invalid_grant' });
    }
  },
);

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('every chain rotated at least once');
  return value;
}
