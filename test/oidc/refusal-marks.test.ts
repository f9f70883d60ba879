import test, { type ExecutionContext } from 'ava';
import type { KeyValueStore } from '../../src/db/key-value.ts';
import { watchConnectionName } from '../../src/db/redis-store.ts';
import { blockedAccountKey } from '../../src/oidc/blocked-accounts.ts';
import { createRefusalMarks } from '../../src/oidc/refusal-marks.ts';
import { revokedGrantKey } from '../../src/oidc/revoked-grants.ts';
import { testClock } from '../helpers/clock.ts';
import { storeOnRedis } from '../helpers/redis-store.ts';

// The /api guard's memory of marks found absent, on a real Redis: whatever writes a mark (here a
// plain Redis client, not our code), the next read refuses. The clock stands still, so nothing is
// forgotten by age: only Redis's report can make a remembered absence go.
const withRedis = process.env.REDIS_URL ? test : test.skip;

/** A store on its own prefix, counting the reads that reach Redis, and a plain client beside it. */
async function marksOnRedis(t: ExecutionContext) {
  const { store, plain, prefix } = await storeOnRedis(t, 'marks');
  const reads = { count: 0 };
  const counted: KeyValueStore = Object.create(store, {
    get: { value: (key: string) => store.get(key).finally(() => reads.count++) },
    getMany: { value: (keys: string[]) => store.getMany(keys).finally(() => reads.count++) },
    watch: { value: store.watch.bind(store) },
  });
  const marks = await createRefusalMarks(counted, testClock({ frozen: true }));
  return { marks, reads, prefix, plain, store };
}

/**
 * Reads until refused: the report travels on a connection of its own and may land a moment after
 * the write's answer. Half a minute without it means it never came.
 */
async function untilRefused(read: () => Promise<{ revoked: boolean; blocked: boolean }>) {
  const hung = Date.now() + 30_000;
  while (Date.now() < hung) {
    const refusal = await read();
    if (refusal.revoked || refusal.blocked) return refusal;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('still taken as absent half a minute after the write');
}

withRedis('an absence is read from Redis once, then from memory until a write to the mark', async (t) => {
  const { marks, reads, prefix, plain } = await marksOnRedis(t);
  t.deepEqual(await marks.of('g1', 'a1'), { revoked: false, blocked: false });
  t.is(reads.count, 1, 'both marks in one read');
  t.deepEqual(await marks.of('g1', 'a1'), { revoked: false, blocked: false });
  t.deepEqual(await marks.of(undefined, 'a1'), { revoked: false, blocked: false });
  t.is(reads.count, 1, 'remembered');

  await plain.set(`${prefix}${revokedGrantKey('g1')}`, '1');
  t.deepEqual(await untilRefused(() => marks.of('g1', 'a1')), { revoked: true, blocked: false });
  t.deepEqual(await marks.of('g1', 'a1'), { revoked: true, blocked: false }, 'a refusal is read each time');

  await plain.set(`${prefix}${blockedAccountKey('a1')}`, '1');
  t.deepEqual(await untilRefused(() => marks.of('g2', 'a1')), { revoked: false, blocked: true });
  await plain.del(`${prefix}${blockedAccountKey('a1')}`);
  t.deepEqual(await marks.of('g2', 'a1'), { revoked: false, blocked: false }, 'a lifted suspension at once');
});

withRedis('a mark written while the watching connection is down is not missed', async (t) => {
  const { marks, prefix, plain } = await marksOnRedis(t);
  t.deepEqual(await marks.of('g1', 'a1'), { revoked: false, blocked: false });
  t.deepEqual(await marks.of('g1', 'a1'), { revoked: false, blocked: false });
  const watcher = ((await plain.client('LIST')) as string)
    .split('\n')
    .find((line) => line.includes(` name=${watchConnectionName(prefix)} `));
  const id = /^id=(\d+) /.exec(watcher ?? '')?.[1];
  if (!id) return t.fail('no watching connection of this process in CLIENT LIST');
  // One pipeline: Redis runs the write right after dropping the watcher, which never hears of it.
  await plain
    .pipeline()
    .client('KILL', 'ID', id)
    .set(`${prefix}${revokedGrantKey('g1')}`, '1')
    .exec();
  t.deepEqual(await untilRefused(() => marks.of('g1', 'a1')), { revoked: true, blocked: false });
});

withRedis('a mark this process writes refuses the very next read, before Redis’s report arrives', async (t) => {
  const { marks, store } = await marksOnRedis(t);
  // Redis's report and its answer to the write leave together, and the answer is often read first:
  // a single try could pass by luck, a hundred cannot.
  for (let index = 0; index < 100; index++) {
    const grant = `g${index}`;
    t.deepEqual(await marks.of(grant, 'a1'), { revoked: false, blocked: false });
    await store.write([{ op: 'set', key: revokedGrantKey(grant), value: '1', ttlSeconds: 60 }]);
    t.deepEqual(await marks.of(grant, 'a1'), { revoked: true, blocked: false });
  }
});
