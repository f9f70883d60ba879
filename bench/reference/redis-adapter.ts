// A minimal oidc-provider adapter over Redis, in the spirit of oidc-provider's example adapter: every
// model is a JSON string with a TTL, plus the three indexes the provider needs (grant, uid, user
// code). It stores even grants and refresh tokens in Redis, where FairyID keeps those in Postgres.
// Written with erasable TypeScript only, so plain `node` (type stripping) can run it.
import { Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';

export function createRedisAdapterFactory(url: string, prefix: string) {
  const redis = new Redis(url, { keyPrefix: prefix, maxRetriesPerRequest: 2 });
  const factory = (model: string): Adapter => redisAdapter(redis, model);
  return { factory, close: () => redis.quit() };
}

function redisAdapter(redis: Redis, model: string): Adapter {
  const key = (id: string) => `${model}:${id}`;
  const grantKey = (grantId: string) => `grant:${grantId}`;

  async function find(id: string): Promise<AdapterPayload | undefined> {
    const raw = await redis.get(key(id));
    return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
  }

  async function findByIndex(index: string): Promise<AdapterPayload | undefined> {
    const id = await redis.get(index);
    return id ? find(id) : undefined;
  }

  return {
    async upsert(id, payload, expiresIn) {
      const ttl = expiresIn && expiresIn > 0 ? expiresIn : undefined;
      const tx = redis.multi();
      if (ttl) tx.set(key(id), JSON.stringify(payload), 'EX', ttl);
      else tx.set(key(id), JSON.stringify(payload));
      if (payload.grantId) {
        tx.sadd(grantKey(payload.grantId), key(id));
        if (ttl) tx.expire(grantKey(payload.grantId), ttl, 'GT').expire(grantKey(payload.grantId), ttl, 'NX');
      }
      if (payload.uid) {
        if (ttl) tx.set(`${model}:uid:${payload.uid}`, id, 'EX', ttl);
        else tx.set(`${model}:uid:${payload.uid}`, id);
      }
      if (payload.userCode) {
        if (ttl) tx.set(`${model}:user_code:${payload.userCode}`, id, 'EX', ttl);
        else tx.set(`${model}:user_code:${payload.userCode}`, id);
      }
      await tx.exec();
    },
    find,
    findByUid: (uid) => findByIndex(`${model}:uid:${uid}`),
    findByUserCode: (userCode) => findByIndex(`${model}:user_code:${userCode}`),
    async consume(id) {
      const payload = await find(id);
      if (!payload) return;
      payload.consumed = Math.floor(Date.now() / 1000);
      await redis.set(key(id), JSON.stringify(payload), 'KEEPTTL');
    },
    async destroy(id) {
      await redis.del(key(id));
    },
    async revokeByGrantId(grantId) {
      const keys = await redis.smembers(grantKey(grantId));
      // Members are stored without the keyPrefix, which ioredis adds again on del.
      await redis.del(...keys, grantKey(grantId));
    },
  };
}
