import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { connectRedis } from '../../src/db/redis-store.ts';

/**
 * Our store on REDIS_URL under a prefix of the test's own, and a plain client beside it (for writes
 * that are not ours); both closed and the prefix's keys deleted with ava.
 */
export async function storeOnRedis(t: ExecutionContext, name: string) {
  const url = process.env.REDIS_URL!;
  const prefix = `fairyid-${name}-test:${randomBytes(6).toString('hex')}:`;
  const store = await connectRedis({ url, prefix, cluster: false });
  const plain = new Redis(url);
  t.teardown(async () => {
    await store.close();
    const keys = await plain.keys(`${prefix}*`);
    if (keys.length) await plain.del(...keys);
    plain.disconnect();
  });
  return { store, plain, prefix };
}
