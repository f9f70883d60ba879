import { Cluster, Redis } from 'ioredis';
import { describeEndpoint, StartupError } from '../shared/startup-error.ts';
import { type KeyValueStore, type KeyValueWrite, windowKeySeconds } from './key-value.ts';
import { type RedisKeyWatch, watchRedisKeys } from './redis-key-watch.ts';

export type RedisSettings = { url: string; prefix: string; cluster: boolean };

/**
 * One Redis, or a Redis Cluster seeded from the URL's host. In a cluster, commands touching keys in
 * different slots cannot share a transaction, so multi-key writes become concurrent single-key
 * commands (auto-pipelined per node); keys that must change together share a hash tag instead.
 */
export async function connectRedis(settings: RedisSettings): Promise<KeyValueStore> {
  const options = {
    keyPrefix: settings.prefix,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
  };
  if (!settings.cluster) {
    const redis = new Redis(settings.url, options);
    await connectOrExplain(redis, settings.url);
    return new RedisStore(redis, settings.prefix);
  }
  const seed = new URL(settings.url);
  const cluster = new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    keyPrefix: settings.prefix,
    lazyConnect: true,
    enableAutoPipelining: true,
    // The slot map is asked of the seed node on a connection of its own, within this time; ioredis's
    // 1 s default counts that connection too, and the start fails when it runs out (seen on a loaded
    // two-core machine: "Failed to refresh slots cache"). Ten seconds means the node is hung. Later
    // refreshes keep routing by the slot map they have while they wait.
    slotsRefreshTimeout: 10_000,
    redisOptions: {
      maxRetriesPerRequest: 2,
      ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
      ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
      ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
  await connectOrExplain(cluster, settings.url);
  return new RedisStore(cluster, settings.prefix);
}

/** One line naming REDIS_URL, and no reconnect loop left running behind a failed start. */
async function connectOrExplain(client: Redis | Cluster, url: string) {
  // connect() rejects with a bare "Connection is closed"; the cause arrives as an 'error' event.
  let cause: unknown;
  const remember = (error: unknown) => {
    cause ??= error;
  };
  client.on('error', remember);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const reason = cause ?? error;
    const text = reason instanceof Error ? reason.message : String(reason);
    throw new StartupError(`Cannot reach Redis at REDIS_URL (${describeEndpoint(url)}): ${text}`);
  } finally {
    client.off('error', remember);
  }
}

/**
 * What CLIENT LIST shows for a store's watching connection: its process and key prefix (a name
 * may not hold spaces or quotes).
 */
export const watchConnectionName = (prefix: string) =>
  `fairyid-key-watch:${process.pid}:${prefix.replace(/[^\x21-\x7e]|"/g, '_')}`;

// A rate window is one hash (when it opened, its count), so a cluster keeps it in one slot. Scripts,
// so that no other instance's command runs between reading the window and changing it.
// ARGV: now (ms), window (ms), the key's expiry (s).
const COUNT_IN_WINDOW = `
local opened = tonumber(redis.call('HGET', KEYS[1], 'openedAt'))
local now = tonumber(ARGV[1])
if opened and now < opened + tonumber(ARGV[2]) then
  return {redis.call('HINCRBY', KEYS[1], 'count', 1), opened}
end
redis.call('HSET', KEYS[1], 'openedAt', ARGV[1], 'count', 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, now}`;

// A plain HINCRBY on a cleared key would create it at -1 without an expiry: a lasting credit.
const UNCOUNT_IF_POSITIVE = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if count and count > 0 then return redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 0`;

// The key an index names, read in the same step as the index. KEYS: the index. ARGV: the named
// key's prefix, the client's key prefix included (a script's own keys get none). Not for a cluster:
// the named key is not declared, and may live in another slot.
const GET_THROUGH = `
local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('GET', ARGV[1] .. id)`;

// KEYS: the key, its guard. ARGV: value, expiry (s), '1' to set only when the key is absent.
const SET_UNLESS_GUARDED = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if ARGV[3] == '1' then
  return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') and 1 or 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

class RedisStore implements KeyValueStore {
  private readonly redis: Redis | Cluster;
  private readonly prefix: string;
  private readonly watches: { prefixes: string[]; changed: (key: string) => void; watch: RedisKeyWatch }[] = [];
  readonly anySlots: boolean;

  constructor(redis: Redis | Cluster, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    this.anySlots = redis instanceof Redis;
  }

  get(key: string) {
    return this.redis.get(key);
  }

  getMany(keys: string[]) {
    return this.redis.mget(...keys);
  }

  async getThrough(indexKey: string, prefix: string) {
    if (this.anySlots) return (await this.redis.eval(GET_THROUGH, 1, indexKey, this.prefix + prefix)) as string | null;
    const id = await this.redis.get(indexKey);
    return id === null ? null : this.redis.get(prefix + id);
  }

  async write(writes: KeyValueWrite[]) {
    try {
      await this.writeAll(writes);
    } finally {
      this.wrote(writes.map((w) => w.key));
    }
  }

  private async writeAll(writes: KeyValueWrite[]) {
    if (this.anySlots) {
      const tx = this.redis.multi();
      for (const w of writes) {
        if (w.op === 'set') tx.set(w.key, w.value, 'EX', w.ttlSeconds);
        else if (w.op === 'del') tx.del(w.key);
        else if (w.op === 'setUnlessGuarded')
          tx.eval(SET_UNLESS_GUARDED, 2, w.key, w.guard, w.value, w.ttlSeconds, '1');
        else tx.sadd(w.key, w.member).expire(w.key, w.ttlSeconds, 'GT').expire(w.key, w.ttlSeconds, 'NX');
      }
      const results = await tx.exec();
      // A command refused inside a transaction is reported in its result, not thrown.
      const refused = results?.find(([error]) => error)?.[0];
      if (refused) throw refused;
      return;
    }
    await Promise.all(
      writes.map(async (w) => {
        if (w.op === 'set') return this.redis.set(w.key, w.value, 'EX', w.ttlSeconds);
        if (w.op === 'del') return this.redis.del(w.key);
        if (w.op === 'setUnlessGuarded') return this.setUnlessGuarded(w.key, w.value, w.ttlSeconds, w.guard, true);
        // Same key, so one slot: these three can share a transaction even in a cluster.
        return this.redis
          .multi()
          .sadd(w.key, w.member)
          .expire(w.key, w.ttlSeconds, 'GT')
          .expire(w.key, w.ttlSeconds, 'NX')
          .exec();
      }),
    );
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    try {
      return (await this.redis.set(key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
    } finally {
      this.wrote([key]);
    }
  }

  async setUnlessGuarded(key: string, value: string, ttlSeconds: number, guard: string, onlyIfAbsent: boolean) {
    try {
      const set = await this.redis.eval(SET_UNLESS_GUARDED, 2, key, guard, value, ttlSeconds, onlyIfAbsent ? '1' : '0');
      return set === 1;
    } finally {
      this.wrote([key]);
    }
  }

  take(key: string) {
    return this.redis.getdel(key).finally(() => this.wrote([key]));
  }

  async del(...keys: string[]) {
    try {
      return await this.delAll(keys);
    } finally {
      this.wrote(keys);
    }
  }

  private async delAll(keys: string[]) {
    if (!keys.length) return 0;
    if (this.anySlots) return this.redis.del(...keys);
    const counts = await Promise.all(keys.map((key) => this.redis.del(key)));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async increment(key: string, ttlSeconds: number) {
    const results = await this.redis.multi().incr(key).expire(key, ttlSeconds, 'NX').exec();
    return Number(results?.[0]?.[1] ?? 0);
  }

  async countInWindow(key: string, windowSeconds: number, now: number) {
    const at = Math.floor(now);
    const [count, openedAt] = (await this.redis.eval(
      COUNT_IN_WINDOW,
      1,
      key,
      at,
      windowSeconds * 1000,
      windowKeySeconds(windowSeconds),
    )) as [number, number];
    return { count, openedAt };
  }

  async windowCount(key: string, windowSeconds: number, now: number) {
    const [openedAt, count] = await this.redis.hmget(key, 'openedAt', 'count');
    return openedAt !== null && now < Number(openedAt) + windowSeconds * 1000 ? Number(count) : 0;
  }

  async uncount(key: string) {
    await this.redis.eval(UNCOUNT_IF_POSITIVE, 1, key);
  }

  async ttl(key: string) {
    return Math.max(0, await this.redis.ttl(key));
  }

  members(key: string) {
    return this.redis.smembers(key);
  }

  async pushCapped(key: string, value: string, cap: number, ttlSeconds: number) {
    await this.redis
      .multi()
      .lpush(key, value)
      .ltrim(key, 0, cap - 1)
      .expire(key, ttlSeconds)
      .exec();
  }

  list(key: string) {
    return this.redis.lrange(key, 0, -1);
  }

  /**
   * On one Redis (redis-key-watch.ts). A cluster would need a watching connection per master, kept
   * in step with slot moves: there, every read goes to Redis.
   */
  async watch(prefixes: string[], changed: (key: string | undefined) => void) {
    if (!(this.redis instanceof Redis)) return undefined;
    const { prefix } = this;
    const watch = await watchRedisKeys(
      this.redis,
      { prefixes: prefixes.map((p) => prefix + p), name: watchConnectionName(prefix) },
      (key) => changed(key?.slice(prefix.length)),
    );
    this.watches.push({ prefixes, changed, watch });
    return watch;
  }

  /**
   * This process's own writes are reported to its watches as soon as Redis has answered them, not
   * only when Redis's report arrives on the watching connection: that one may land a moment after
   * the answer, and the writer's next step (answering its client) must already see its write. The
   * string writes (write, setIfAbsent, setUnlessGuarded, take, del) are; counters and lists, which
   * no watched key is, are reported by Redis alone.
   */
  private wrote(keys: string[]) {
    for (const { prefixes, changed } of this.watches)
      for (const key of keys) if (prefixes.some((prefix) => key.startsWith(prefix))) changed(key);
  }

  async ping() {
    await this.redis.ping();
  }

  async close() {
    await Promise.all(this.watches.map(({ watch }) => watch.close()));
    await this.redis.quit();
  }
}
