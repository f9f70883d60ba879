import { type CompiledQuery, type Compilable, sql } from 'kysely';
import { type Db, prepareOnEveryConnection } from '../db/database.ts';
import Provider, { type Adapter, type AdapterPayload, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { KeyValueStore, KeyValueWrite } from '../db/key-value.ts';
import type { ClientRepository } from './client.repository.ts';
import { revokedGrantKey, revokedGrantSeconds } from './revoked-grants.ts';

/**
 * Models that must outlive a restart of the embedded store; everything else is short-lived state.
 * A refresh token's rotation (the old one consumed, the new one inserted) is committed before the
 * response goes out, so a crash can neither bring a rotated token back nor lose the new one; and it
 * is committed as one statement (see `SqlAdapter.consume`), so a crash cannot keep one half either.
 */
const DURABLE_MODELS = new Set(['Grant', 'RefreshToken', 'AccessToken']);

/**
 * With Redis, opaque access tokens (an hour at most, only for userinfo and introspection) live there
 * as in oidc-provider's own Redis adapter: a lookup is a Redis GET instead of a Postgres query, and
 * issuing one costs no commit. Revocation deletes them through the grant's set of keys; Redis expires
 * them with the token. Without Redis they stay in the database, which then is the only shared store.
 */
const KEY_VALUE_WITH_REDIS = new Set(['AccessToken']);

const SWEEP_BATCH = 500;

export type AdapterDeps = {
  db: Db;
  kv: KeyValueStore;
  clients: ClientRepository;
  /** True when `kv` is Redis, shared by every instance and outliving them. */
  sharedKeyValue: boolean;
  /**
   * Set when `kv` can guard a write by another key (one Redis, or the embedded store; not a Redis
   * Cluster, where a grant's copy and its revocation mark fall in different slots): grants are then
   * read through a copy in `kv` (GrantCopyAdapter), and so is the refresh token a refresh grant
   * presents (RefreshCopyAdapter), whose copy is guarded by its grant's revocation mark.
   */
  grantCopies?: { accessTokenTtl: number } | undefined;
};

export function createAdapterFactory(deps: AdapterDeps) {
  return (model: string): Adapter => {
    if (model === 'Client') return new ClientAdapter(deps.clients);
    if (model === 'ClientCredentials') return new UnstoredAdapter(model);
    if (model === 'Grant' && deps.grantCopies)
      return new GrantCopyAdapter(new SqlAdapter(model, deps.db), deps.kv, deps.grantCopies.accessTokenTtl);
    if (model === 'RefreshToken' && deps.grantCopies)
      return new RefreshCopyAdapter(new SqlAdapter(model, deps.db), deps.kv, deps.grantCopies.accessTokenTtl);
    const adapter =
      deps.sharedKeyValue && KEY_VALUE_WITH_REDIS.has(model)
        ? new KeyValueAdapter(model, deps.kv)
        : DURABLE_MODELS.has(model)
          ? new SqlAdapter(model, deps.db)
          : new KeyValueAdapter(model, deps.kv);
    return model === 'AccessToken' ? rememberingAccessTokenFinds(adapter) : adapter;
  };
}

/**
 * Access-token lookups by request, for the refresh-token lookup of the same value that may follow.
 * Introspection and revocation without a token_type_hint (the usual case) look a value up as an
 * access token and as a refresh token at once (oidc-provider's helpers/token_find.js). Token values
 * are random 256-bit ids, so a value stored as an access token is no refresh token: when the access
 * token lookup found it, the refresh-token lookup answers "none" without its Postgres query.
 */
const accessTokenFinds = new WeakMap<object, Map<string, Promise<boolean>>>();

function rememberingAccessTokenFinds(adapter: Adapter): Adapter {
  const find = adapter.find.bind(adapter);
  adapter.find = (id: string) => {
    const found = find(id);
    const ctx = Provider.ctx;
    if (ctx) {
      const finds = accessTokenFinds.get(ctx) ?? new Map<string, Promise<boolean>>();
      accessTokenFinds.set(ctx, finds);
      finds.set(
        id,
        Promise.resolve(found).then(
          (payload) => !!payload,
          () => false,
        ),
      );
    }
    return found;
  };
  return adapter;
}

/** True when this request already found `id` stored as an access token. */
async function foundAsAccessToken(id: string): Promise<boolean> {
  const ctx = Provider.ctx;
  const found = ctx && accessTokenFinds.get(ctx)?.get(id);
  return found ? await found : false;
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
  private readonly clients: ClientRepository;

  constructor(clients: ClientRepository) {
    this.clients = clients;
  }

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

/**
 * Client-credentials tokens are always RFC 9068 JWTs (the API is their only resource, and it asks
 * for JWTs: api-resource.ts), which oidc-provider never stores: looking one up, as introspection
 * without a token_type_hint does for every token, could only find nothing.
 */
class UnstoredAdapter implements Adapter {
  private readonly model: string;

  constructor(model: string) {
    this.model = model;
  }

  async upsert(): Promise<never> {
    throw new Error(`${this.model} tokens are JWTs and never stored; an opaque one would be lost`);
  }
  async find() {
    return undefined;
  }
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

// Stand-ins for the values of a statement compiled once: never a real id, payload or time.
const ID = '\u0000id';
const CONSUMED_ID = '\u0000consumed_id';
const PAYLOAD = '\u0000payload';
const GRANT_ID = '\u0000grant_id';
const EXPIRES_AT = '\u0000expires_at';

/**
 * A statement compiled once; each run puts its values where the stand-ins were. Its text never
 * changes, so Postgres prepares it once per connection too (database.ts).
 */
function prepared<R>(db: Db, query: Compilable<R>) {
  const compiled = query.compile();
  prepareOnEveryConnection(compiled.sql);
  return (values: Record<string, unknown>) =>
    db.executeQuery<R>({
      ...compiled,
      parameters: compiled.parameters.map((value) =>
        typeof value === 'string' && value in values ? values[value] : value,
      ),
    } as CompiledQuery<R>);
}

/**
 * Refresh-token rotations whose consumption waits for the successor's save (SqlAdapter.consume), by
 * request. settleDeferredConsume writes any left over before the token response goes out.
 */
const deferredConsumes = new WeakMap<object, { id: string; grantId: string; write: () => Promise<unknown> }>();

/**
 * Writes a rotated refresh token's consumption that no successor's save carried (none should be left:
 * oidc-provider saves the successor right after consuming). The refresh grant calls it after
 * oidc-provider's handler succeeded, before the answer is sent (refresh-grace.ts).
 */
export async function settleDeferredConsume(ctx: object) {
  const deferred = deferredConsumes.get(ctx);
  if (!deferred) return;
  deferredConsumes.delete(ctx);
  await deferred.write();
}

/**
 * The grants a request deleted, with whose they were: grant.revoked is published for a grant only by
 * the request whose DELETE removed its row, so two revocations of one grant at once (a reused token
 * and a suspension, say) publish it once; and oidc-provider reports a revocation after the grant is
 * gone, with nothing else naming its person when a code was reused. Kept by oidc-provider request (a
 * failed revocation's entry goes with its request); our own revoker, outside one, takes its entry on
 * the very next step (grant-revoker.ts).
 */
const deletedGrants = new WeakMap<object, Map<string, { accountId: string; clientId: string }>>();
const OUTSIDE_PROVIDER_REQUESTS = {};

function deletedGrantsOf(ctx: object | undefined) {
  const scope = ctx ?? OUTSIDE_PROVIDER_REQUESTS;
  const grants = deletedGrants.get(scope) ?? new Map<string, { accountId: string; clientId: string }>();
  deletedGrants.set(scope, grants);
  return grants;
}

/** Whose the grant was, if this request (or our revoker outside one) just deleted it; once. */
export function takeDeletedGrant(grantId: string): { accountId: string; clientId: string } | undefined {
  const grants = deletedGrantsOf(Provider.ctx);
  const owner = grants.get(grantId);
  grants.delete(grantId);
  return owner;
}

/**
 * The presented refresh token was consumed (or deleted) between oidc-provider's read and the rotation:
 * it was used twice. Answered as oidc-provider answers a token it reads consumed
 * (lib/actions/grants/refresh_token.js, lib/helpers/revoke.js): the grant and every token issued under
 * it are deleted and grant.revoked is emitted, which provider-revocations.ts audits and publishes as a
 * reuse. Nothing was issued yet: the successor's save comes before the access and ID tokens.
 */
async function refuseLostRotation(ctx: KoaContextWithOIDC, grantId: string): Promise<never> {
  const { provider } = ctx.oidc;
  await Promise.all(
    [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode, provider.DeviceCode].map((model) =>
      model.revokeByGrantId(grantId),
    ),
  );
  await provider.Grant.adapter.destroy(grantId);
  provider.emit('grant.revoked', ctx, grantId);
  throw new errors.InvalidGrant('refresh token already used');
}

class SqlAdapter implements Adapter {
  // Built and compiled once per model, not on every call: the token paths run these on every request.
  private readonly statements;

  private readonly model: string;

  constructor(model: string, db: Db) {
    this.model = model;
    const row = {
      payload: PAYLOAD,
      grant_id: GRANT_ID,
      expires_at: EXPIRES_AT as unknown as Date,
    };
    const byId = { model, id: ID };
    this.statements = {
      upsert: prepared(
        db,
        db
          .insertInto('oidc_payloads')
          .values({ ...byId, consumed_at: null, ...row })
          .onConflict((c) => c.columns(['model', 'id']).doUpdateSet(row)),
      ),
      find: prepared(
        db,
        db
          .selectFrom('oidc_payloads')
          .select(['payload', 'consumed_at'])
          .where('model', '=', model)
          .where('id', '=', ID)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)])),
      ),
      // The rotated token consumed and its successor saved in one statement: one commit, all or nothing.
      // Only a token still unconsumed is consumed, and the successor is inserted only when it was: of
      // two rotations of one token racing past oidc-provider's read (which saw it unconsumed), the
      // second waits for the first's row lock, then finds it consumed and inserts nothing (PostgreSQL
      // 13.2.1, UPDATE re-checks its WHERE on the updated row). Without this both got a successor:
      // two live chains, and a thief racing the owner was never found out (RFC 9700 4.14.2).
      rotate: prepared(
        db,
        db
          .with('consumed', (cte) =>
            cte
              .updateTable('oidc_payloads')
              .set({ consumed_at: sql<Date>`now()` })
              .where('model', '=', model)
              .where('id', '=', CONSUMED_ID)
              .where('consumed_at', 'is', null)
              .returning('id'),
          )
          .insertInto('oidc_payloads')
          .columns(['model', 'id', 'consumed_at', 'payload', 'grant_id', 'expires_at'])
          .expression((eb) =>
            eb
              .selectFrom('consumed')
              .select([
                eb.val(model).as('model'),
                eb.val(ID).as('id'),
                sql<Date | null>`null::timestamptz`.as('consumed_at'),
                sql`${PAYLOAD}::jsonb`.as('payload'),
                sql<string | null>`${GRANT_ID}::text`.as('grant_id'),
                sql<Date | null>`${EXPIRES_AT}::timestamptz`.as('expires_at'),
              ]),
          )
          .onConflict((c) => c.columns(['model', 'id']).doUpdateSet(row)),
      ),
      consume: prepared(
        db,
        db
          .updateTable('oidc_payloads')
          .set({ consumed_at: sql<Date>`now()` })
          .where('model', '=', model)
          .where('id', '=', ID),
      ),
      destroy: prepared(db, db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', ID)),
      destroyReturning: prepared(
        db,
        db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', ID).returning('payload'),
      ),
      revokeByGrantId: prepared(
        db,
        db.deleteFrom('oidc_payloads').where('model', '=', model).where('grant_id', '=', GRANT_ID),
      ),
    };
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
    await this.save(id, payload, expiresIn);
  }

  /** Saves the row, as `upsert`; answers the payload's JSON as stored, for a copy of the row. */
  async save(id: string, payload: AdapterPayload, expiresIn: number): Promise<string> {
    const json = JSON.stringify(payload);
    const values = {
      [ID]: id,
      [PAYLOAD]: json,
      [GRANT_ID]: payload.grantId ?? null,
      [EXPIRES_AT]: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
    };
    const ctx = this.model === 'RefreshToken' ? Provider.ctx : undefined;
    const deferred = ctx && deferredConsumes.get(ctx);
    if (deferred && deferred.grantId === payload.grantId) {
      deferredConsumes.delete(ctx);
      const result = await this.statements.rotate({ ...values, [CONSUMED_ID]: deferred.id });
      if (!result.numAffectedRows) await refuseLostRotation(ctx, deferred.grantId);
      return json;
    }
    await this.statements.upsert(values);
    return json;
  }

  async find(id: string) {
    if (this.model === 'RefreshToken' && (await foundAsAccessToken(id))) return undefined;
    const { rows } = await this.statements.find({ [ID]: id });
    const row = rows[0];
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

  /**
   * In a refresh grant, oidc-provider consumes the presented refresh token and saves its successor
   * right after (lib/actions/grants/refresh_token.js): the consumption waits for that save and is
   * written with it in one statement (`rotate`), one commit instead of two. Nothing is answered in
   * between, so both are still committed before the response; a failure before the save leaves the
   * old token unconsumed with no successor issued, as a failure before the consumption always did.
   */
  async consume(id: string) {
    const ctx = this.model === 'RefreshToken' ? Provider.ctx : undefined;
    const presented = ctx?.oidc?.entities.RefreshToken;
    if (ctx && ctx.oidc.params?.grant_type === 'refresh_token' && presented?.jti === id && presented.grantId) {
      deferredConsumes.set(ctx, {
        id,
        grantId: presented.grantId,
        write: () => this.statements.consume({ [ID]: id }),
      });
      return;
    }
    await this.statements.consume({ [ID]: id });
  }

  async destroy(id: string) {
    if (this.model !== 'Grant') {
      await this.statements.destroy({ [ID]: id });
      return;
    }
    const { rows } = await this.statements.destroyReturning({ [ID]: id });
    const payload = rows[0]?.payload;
    if (payload?.accountId && payload.clientId)
      deletedGrantsOf(Provider.ctx).set(id, {
        accountId: String(payload.accountId),
        clientId: String(payload.clientId),
      });
  }

  async revokeByGrantId(grantId: string) {
    await this.statements.revokeByGrantId({ [GRANT_ID]: grantId });
  }
}

/**
 * Every refresh, userinfo and introspection reads the token's grant. Here it reads a copy of the grant
 * and the grant's revocation mark (revoked-grants.ts) from `kv` in one round trip, instead of a
 * Postgres query; Postgres stays the grant's durable store, read when the copy is missing.
 *
 * A revoked grant is refused at once on every instance, and no copy can outlive its revocation:
 * - revoking (oidc-provider's revoke helper and grant-revoker.ts both end in `destroy`) writes the
 *   mark and deletes the copy in one transaction before the row is deleted; when that write fails the
 *   revocation fails with nothing deleted, and the grant is still live everywhere, as it says;
 * - a copy is only written while no mark exists, checked in the same step as the write
 *   (`setUnlessGuarded`), so a save or a lookup racing a revocation cannot put a copy back;
 * - a lookup that finds the mark answers "no grant", whatever the copy or the row say;
 * - a copy lives at most the access-token lifetime, less than the mark (`revokedGrantSeconds`), so
 *   no copy outlives the mark that refuses it.
 */
class GrantCopyAdapter implements Adapter {
  private readonly copySeconds: number;
  private readonly markSeconds: number;

  private readonly stored: SqlAdapter;
  private readonly kv: KeyValueStore;

  constructor(stored: SqlAdapter, kv: KeyValueStore, accessTokenTtl: number) {
    this.stored = stored;
    this.kv = kv;
    this.copySeconds = accessTokenTtl;
    this.markSeconds = revokedGrantSeconds(accessTokenTtl);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
    // Dropped first: if writing the new copy fails after the commit, a lookup reads the row, never the
    // previous version.
    await this.kv.del(copyKey(id));
    await this.stored.upsert(id, payload, expiresIn);
    const seconds = expiresIn ? Math.min(this.copySeconds, expiresIn) : this.copySeconds;
    await this.kv.setUnlessGuarded(copyKey(id), JSON.stringify(payload), seconds, revokedGrantKey(id), false);
  }

  async find(id: string) {
    const [copy, mark] = await this.kv.getMany([copyKey(id), revokedGrantKey(id)]);
    if (mark) return undefined;
    if (copy) return JSON.parse(copy) as AdapterPayload;
    const payload = await this.stored.find(id);
    const left = payload?.exp ? payload.exp - Math.floor(Date.now() / 1000) : this.copySeconds;
    // Only when absent: a save that wrote its copy since this read is newer than the row read here.
    if (payload && left > 0)
      await this.kv.setUnlessGuarded(
        copyKey(id),
        JSON.stringify(payload),
        Math.min(this.copySeconds, left),
        revokedGrantKey(id),
        true,
      );
    return payload;
  }

  async destroy(id: string) {
    await this.kv.write([
      { op: 'set', key: revokedGrantKey(id), value: '1', ttlSeconds: this.markSeconds },
      { op: 'del', key: copyKey(id) },
    ]);
    await this.stored.destroy(id);
  }

  findByUserCode() {
    return this.stored.findByUserCode();
  }

  findByUid() {
    return this.stored.findByUid();
  }

  consume(id: string) {
    return this.stored.consume(id);
  }

  revokeByGrantId(grantId: string) {
    return this.stored.revokeByGrantId(grantId);
  }
}

function copyKey(grantId: string) {
  return `oidc:Grant:${grantId}`;
}

/**
 * A refresh token's copy: when its row stops being found (ms), a space, and the row's payload as
 * stored (so the save serialises the payload once for both).
 */
function refreshCopy(json: string, expiresAt: number) {
  return `${expiresAt} ${json}`;
}

export const refreshCopyKey = (id: string) => `refresh-copy:${id}`;

/** The copy a refresh grant took for the token it presents, by request (RefreshCopyAdapter.take). */
const takenCopies = new WeakMap<object, { id: string; copy: string | null; taken: boolean }>();

/**
 * A refresh grant reads the token it presents from a copy in `kv`, taken in the same round trip as
 * the grace record (refresh-grace.ts), instead of a Postgres query. Postgres stays the only judge:
 * the copy can only let a refresh go on to its rotation (`SqlAdapter`'s `rotate`), which consumes
 * the row only `WHERE consumed_at IS NULL` and otherwise revokes the grant (`refuseLostRotation`),
 * as oidc-provider does for a token it reads consumed. So a copy that outlived its row's consumption
 * or deletion ends as the row would (the token refused), never in a second successor:
 * - a copy is the payload of a row committed unconsumed, written after that commit (it rides with the
 *   refresh's access-token save) and only for a rotation's successor: oidc-provider saves a refresh
 *   token once and changes it no more, so the copy equals the row but for `consumed`;
 * - it is read once: reading deletes it (`take`), before anything can consume the row, so the next
 *   presentation of the same token (a retry, a reuse, a race) reads the row and sees it consumed;
 * - only a refresh grant not answered from the grace window reads it: that request always rotates
 *   (configuration.ts), so its statement decides. Introspection and revocation read the row, which
 *   alone knows `consumed`;
 * - a revoked grant refuses it: every revocation marks the grant before deleting its tokens
 *   (GrantCopyAdapter.destroy, grant-revoker.ts), a copy is written only while that mark is absent
 *   (`setUnlessGuarded`, the same step), lives no longer than the mark, and the refresh reads the
 *   grant through the mark before its rotation (oidc-provider's validateGrant);
 * - a revocation of the token itself (`destroy`) and any consumption outside a refresh grant delete
 *   the copy before the row;
 * - the copy is used only before its row's expiry, on this server's clock; otherwise, and whenever
 *   Redis fails to answer, the row is read.
 */
export class RefreshCopyAdapter implements Adapter {
  private readonly copySeconds: number;

  private readonly stored: SqlAdapter;
  private readonly kv: KeyValueStore;

  constructor(stored: SqlAdapter, kv: KeyValueStore, accessTokenTtl: number) {
    this.stored = stored;
    this.kv = kv;
    this.copySeconds = revokedGrantSeconds(accessTokenTtl);
  }

  /**
   * Takes the presented token's copy, for this request's lookup of it. Concurrent with the grace
   * record's read, so both go out in one round trip. A failure leaves the lookup to the row.
   */
  async take(ctx: object, id: string) {
    try {
      takenCopies.set(ctx, { id, copy: await this.kv.take(refreshCopyKey(id)), taken: true });
    } catch {
      takenCopies.set(ctx, { id, copy: null, taken: false });
    }
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
    // Taken before the row's own: the copy stops being used no later than the row is found.
    const expiresAt = Date.now() + expiresIn * 1000;
    const json = await this.stored.save(id, payload, expiresIn);
    // After the commit: a rotation's successor, saved by a refresh grant that took a copy (so none
    // with the grace window off: copies are taken in its screen step).
    const ctx = Provider.ctx;
    if (!ctx || !takenCopies.has(ctx) || !payload.grantId || !expiresIn) return;
    const write: KeyValueWrite = {
      op: 'setUnlessGuarded',
      key: refreshCopyKey(id),
      value: refreshCopy(json, expiresAt),
      ttlSeconds: Math.min(this.copySeconds, expiresIn),
      guard: revokedGrantKey(payload.grantId),
    };
    rideWithNextSave(ctx, () => [write]);
  }

  async find(id: string) {
    const ctx = Provider.ctx;
    const taken = ctx && takenCopies.get(ctx);
    if (taken?.id === id && taken.copy) {
      const { copy } = taken;
      // Once: oidc-provider reads the token once per request; any later lookup asks the row.
      taken.copy = null;
      const space = copy.indexOf(' ');
      if (Number(copy.slice(0, space)) > Date.now()) return JSON.parse(copy.slice(space + 1)) as AdapterPayload;
    }
    return this.stored.find(id);
  }

  findByUserCode() {
    return this.stored.findByUserCode();
  }

  findByUid() {
    return this.stored.findByUid();
  }

  async consume(id: string) {
    const ctx = Provider.ctx;
    const taken = ctx && takenCopies.get(ctx);
    if (!(taken && taken.id === id && taken.taken)) await this.kv.del(refreshCopyKey(id));
    await this.stored.consume(id);
  }

  async destroy(id: string) {
    await this.kv.del(refreshCopyKey(id));
    await this.stored.destroy(id);
  }

  revokeByGrantId(grantId: string) {
    return this.stored.revokeByGrantId(grantId);
  }
}

/**
 * Writes a request hands to its next key-value save, to go out in the same round trip (refresh-grace.ts's
 * rotation record and the successor's copy ride with the refresh's opaque access token). Asked at each
 * save of the request; they leave with the first save for which they return any.
 */
const riders = new WeakMap<object, Array<() => KeyValueWrite[]>>();

export function rideWithNextSave(ctx: object, writes: () => KeyValueWrite[]) {
  const waiting = riders.get(ctx) ?? [];
  riders.set(ctx, waiting);
  waiting.push(writes);
}

/** The writes handed to `rideWithNextSave` that no save took, for the caller to send itself. */
export function unriddenWrites(ctx: object): KeyValueWrite[] {
  const waiting = riders.get(ctx) ?? [];
  riders.delete(ctx);
  return waiting.flatMap((writes) => writes());
}

type Stored = { payload: AdapterPayload; consumed?: number };

class KeyValueAdapter implements Adapter {
  private readonly model: string;
  private readonly kv: KeyValueStore;

  constructor(model: string, kv: KeyValueStore) {
    this.model = model;
    this.kv = kv;
  }

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
    const ctx = Provider.ctx;
    const riding = ctx ? (riders.get(ctx)?.flatMap((rider) => rider()) ?? []) : [];
    if (ctx && riding.length) {
      riders.delete(ctx);
      writes.push(...riding);
    }
    await this.kv.write(writes);
  }

  async find(id: string) {
    return payloadOf(await this.kv.get(this.key(id)));
  }

  // By an index (a session's uid, read on interaction pages and at every code exchange; a device
  // code's user code): the index and the record it names in one round trip.
  async findByUid(uid: string) {
    return payloadOf(await this.kv.getThrough(`oidc:${this.model}:uid:${uid}`, this.key('')));
  }

  async findByUserCode(userCode: string) {
    return payloadOf(await this.kv.getThrough(`oidc:${this.model}:user_code:${userCode}`, this.key('')));
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

function payloadOf(raw: string | null) {
  if (!raw) return undefined;
  const stored = JSON.parse(raw) as Stored;
  return stored.consumed ? { ...stored.payload, consumed: stored.consumed } : stored.payload;
}
