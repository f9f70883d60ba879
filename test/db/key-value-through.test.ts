import test, { type ExecutionContext } from 'ava';
import type { KeyValueStore } from '../../src/db/key-value.ts';
import { MemoryStore } from '../../src/db/memory-store.ts';
import { storeOnRedis } from '../helpers/redis-store.ts';

// getThrough reads the key an index names (a session by its uid): the same answers in memory and on
// Redis, where the read is one script and the store's key prefix must apply to the named key too.
const withRedis = process.env.REDIS_URL ? test : test.skip;

async function readsThroughTheIndex(t: ExecutionContext, store: KeyValueStore) {
  await store.write([
    { op: 'set', key: 'session:uid:u1', value: 's1', ttlSeconds: 60 },
    { op: 'set', key: 'session:s1', value: 'the session', ttlSeconds: 60 },
    { op: 'set', key: 'session:uid:u2', value: 'gone', ttlSeconds: 60 },
  ]);
  t.is(await store.getThrough('session:uid:u1', 'session:'), 'the session');
  t.is(await store.getThrough('session:uid:u2', 'session:'), null, 'the index names a key that is absent');
  t.is(await store.getThrough('session:uid:u3', 'session:'), null, 'no index');
  t.is(await store.getThrough('session:uid:u1', 'other:'), null, 'the named key is looked up behind the prefix given');
}

test('in memory, getThrough answers the value of the key the index names, or null', async (t) => {
  const store = new MemoryStore();
  t.teardown(() => store.close());
  await readsThroughTheIndex(t, store);
});

withRedis('on Redis, getThrough answers the value of the key the index names, or null', async (t) => {
  const { store } = await storeOnRedis(t, 'through');
  await readsThroughTheIndex(t, store);
});

withRedis('on Redis, getThrough reads the named key under the store’s own key prefix only', async (t) => {
  const { store, plain, prefix } = await storeOnRedis(t, 'through');
  // The same names outside the store's prefix must not be read: a script's keys built from ARGV get
  // no prefix from the client, so the store adds it.
  await plain.set('session:s9', 'outside the prefix', 'EX', 60);
  t.teardown(() => plain.del('session:s9'));
  await plain.set(`${prefix}session:uid:u9`, 's9', 'EX', 60);
  t.is(await store.getThrough('session:uid:u9', 'session:'), null);
  await plain.set(`${prefix}session:s9`, 'inside', 'EX', 60);
  t.is(await store.getThrough('session:uid:u9', 'session:'), 'inside');
});
