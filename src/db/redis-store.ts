import { Redis } from 'ioredis';
import type { KeyValueStore, KeyValueWrite } from './key-value.ts';

export async function connectRedis(url: string, prefix: string): Promise<KeyValueStore> {
  const redis = new Redis(url, { keyPrefix: prefix, lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  return new RedisStore(redis);
}

class RedisStore implements KeyValueStore {
  constructor(private readonly redis: Redis) {}

  get(key: string) {
    return this.redis.get(key);
  }

  async write(writes: KeyValueWrite[]) {
    const tx = this.redis.multi();
    for (const w of writes) {
      if (w.op === 'set') tx.set(w.key, w.value, 'EX', w.ttlSeconds);
      else tx.sadd(w.key, w.member).expire(w.key, w.ttlSeconds, 'GT').expire(w.key, w.ttlSeconds, 'NX');
    }
    await tx.exec();
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    return (await this.redis.set(key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  del(...keys: string[]) {
    return keys.length ? this.redis.del(...keys) : Promise.resolve(0);
  }

  async increment(key: string, ttlSeconds: number) {
    const results = await this.redis.multi().incr(key).expire(key, ttlSeconds, 'NX').exec();
    return Number(results?.[0]?.[1] ?? 0);
  }

  async ttl(key: string) {
    return Math.max(0, await this.redis.ttl(key));
  }

  members(key: string) {
    return this.redis.smembers(key);
  }

  async pushCapped(key: string, value: string, cap: number, ttlSeconds: number) {
    await this.redis.multi().lpush(key, value).ltrim(key, 0, cap - 1).expire(key, ttlSeconds).exec();
  }

  list(key: string) {
    return this.redis.lrange(key, 0, -1);
  }

  async ping() {
    await this.redis.ping();
  }

  async close() {
    await this.redis.quit();
  }
}
