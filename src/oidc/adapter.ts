import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { KeyValueStore, KeyValueWrite } from '../db/key-value.ts';
import type { ClientRepository } from './client.repository.ts';

/** Models that must outlive a restart of the embedded store; everything else is short-lived state. */
const DURABLE_MODELS = new Set(['Grant', 'RefreshToken', 'AccessToken', 'ClientCredentials']);

const SWEEP_BATCH = 500;

export type AdapterDeps = { db: Db; kv: KeyValueStore; clients: ClientRepository };

export function createAdapterFactory(deps: AdapterDeps) {
  return (model: string): Adapter => {
    if (model === 'Client') return new ClientAdapter(deps.clients);
    return DURABLE_MODELS.has(model) ? new SqlAdapter(model, deps.db) : new KeyValueAdapter(model, deps.kv);
  };
}

/** Deletes expired durable rows in small batches, so the sweep never holds long locks. */
export async function sweepExpiredPayloads(db: Db): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db
      .deleteFrom('oidc_payloads')
      .where(
        sql<boolean>`(model, id) in (select model, id from oidc_payloads where expires_at < now() limit ${SWEEP_BATCH})`,
      )
      .executeTakeFirst();
    const deleted = Number(result.numDeletedRows);
    total += deleted;
    if (deleted < SWEEP_BATCH) return total;
  }
}

class ClientAdapter implements Adapter {
  constructor(private readonly clients: ClientRepository) {}

  async find(id: string) {
    return (await this.clients.find(id)) as AdapterPayload | undefined;
  }

  // Clients are managed with `npm run cli -- clients`, never through the protocol.
  async upsert() {}
  async findByUserCode() {
    return undefined;
  }
  async findByUid() {
    return undefined;
  }
  async consume() {}
  async destroy() {}
  async revokeByGrantId() {}
}

class SqlAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly db: Db,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
    const row = {
      payload: JSON.stringify(payload),
      grant_id: payload.grantId ?? null,
      expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
    };
    await this.db
      .insertInto('oidc_payloads')
      .values({ model: this.model, id, consumed_at: null, ...row })
      .onConflict((c) => c.columns(['model', 'id']).doUpdateSet(row))
      .execute();
  }

  async find(id: string) {
    const row = await this.db
      .selectFrom('oidc_payloads')
      .select(['payload', 'consumed_at'])
      .where('model', '=', this.model)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
      .executeTakeFirst();
    if (!row) return undefined;
    const payload = row.payload as AdapterPayload;
    return row.consumed_at ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : payload;
  }

  async findByUserCode() {
    return undefined;
  }

  async findByUid() {
    return undefined;
  }

  async consume(id: string) {
    await this.db
      .updateTable('oidc_payloads')
      .set({ consumed_at: sql<Date>`now()` })
      .where('model', '=', this.model)
      .where('id', '=', id)
      .execute();
  }

  async destroy(id: string) {
    await this.db.deleteFrom('oidc_payloads').where('model', '=', this.model).where('id', '=', id).execute();
  }

  async revokeByGrantId(grantId: string) {
    await this.db.deleteFrom('oidc_payloads').where('model', '=', this.model).where('grant_id', '=', grantId).execute();
  }
}

type Stored = { payload: AdapterPayload; consumed?: number };

class KeyValueAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly kv: KeyValueStore,
  ) {}

  private key(id: string) {
    return `oidc:${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
    const key = this.key(id);
    const writes: KeyValueWrite[] = [{ op: 'set', key, value: JSON.stringify({ payload }), ttlSeconds: expiresIn }];
    if (payload.grantId)
      writes.push({ op: 'sadd', key: grantKey(payload.grantId), member: key, ttlSeconds: expiresIn });
    if (payload.uid)
      writes.push({ op: 'set', key: `oidc:${this.model}:uid:${payload.uid}`, value: id, ttlSeconds: expiresIn });
    if (payload.userCode) {
      writes.push({
        op: 'set',
        key: `oidc:${this.model}:user_code:${payload.userCode}`,
        value: id,
        ttlSeconds: expiresIn,
      });
    }
    await this.kv.write(writes);
  }

  async find(id: string) {
    const raw = await this.kv.get(this.key(id));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as Stored;
    return stored.consumed ? { ...stored.payload, consumed: stored.consumed } : stored.payload;
  }

  async findByUid(uid: string) {
    const id = await this.kv.get(`oidc:${this.model}:uid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string) {
    const id = await this.kv.get(`oidc:${this.model}:user_code:${userCode}`);
    return id ? this.find(id) : undefined;
  }

  async consume(id: string) {
    const key = this.key(id);
    const [raw, ttl] = await Promise.all([this.kv.get(key), this.kv.ttl(key)]);
    if (!raw || ttl <= 0) return;
    const stored = JSON.parse(raw) as Stored;
    stored.consumed = Math.floor(Date.now() / 1000);
    await this.kv.write([{ op: 'set', key, value: JSON.stringify(stored), ttlSeconds: ttl }]);
  }

  async destroy(id: string) {
    await this.kv.del(this.key(id));
  }

  async revokeByGrantId(grantId: string) {
    const keys = await this.kv.members(grantKey(grantId));
    await this.kv.del(...keys, grantKey(grantId));
  }
}

function grantKey(grantId: string) {
  return `oidc:grant:${grantId}`;
}
