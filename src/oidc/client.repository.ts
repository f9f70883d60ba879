import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ClientMetadata } from './oidc.tables.ts';

const row = (metadata: ClientMetadata) => ({
  client_id: metadata.client_id,
  metadata: JSON.stringify(metadata),
  organization_id: metadata.organization_id ?? null,
  owner_account_id: metadata.owner_account_id ?? null,
});

/** `work` in `db`'s transaction when it is one, else in a new one: a repository bound to a transaction nests. */
const inTransaction = <T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> =>
  db.isTransaction ? work(db) : db.transaction().execute(work);

export function createClientRepository(db: Db): ClientRepository {
  return {
    /** `work` with this SQL bound to one transaction, for a change that other rows (its event) commit with. */
    transaction: (work) => inTransaction(db, (trx) => work(createClientRepository(trx), trx)),

    async find(clientId: string): Promise<ClientMetadata | undefined> {
      const row = await db
        .selectFrom('clients')
        .select('metadata')
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return row?.metadata;
    },

    async findAll(): Promise<ClientMetadata[]> {
      const rows = await db.selectFrom('clients').select('metadata').orderBy('created_at').execute();
      return rows.map((row) => row.metadata);
    },

    async insert(metadata: ClientMetadata): Promise<void> {
      await db.insertInto('clients').values(row(metadata)).execute();
    },

    /**
     * Inserts a client with an owner unless the owner already has `limit` clients. The owner's account
     * row is locked first, so two registrations at once are counted one after the other.
     */
    insertWithinOwnerLimit(metadata: ClientMetadata, limit: number): Promise<boolean> {
      const owner = metadata.owner_account_id;
      if (!owner) throw new Error('insertWithinOwnerLimit needs a client with an owner');
      return inTransaction(db, async (trx) => {
        await trx.selectFrom('accounts').select('id').where('id', '=', owner).forUpdate().executeTakeFirstOrThrow();
        const { count } = await trx
          .selectFrom('clients')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .where('owner_account_id', '=', owner)
          .executeTakeFirstOrThrow();
        if (Number(count) >= limit) return false;
        await trx.insertInto('clients').values(row(metadata)).execute();
        return true;
      });
    },

    async findByOwner(accountId: string): Promise<ClientMetadata[]> {
      const rows = await db
        .selectFrom('clients')
        .select('metadata')
        .where('owner_account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
      return rows.map((found) => found.metadata);
    },

    /** Every registered redirect URI, for the CORS origins (cors-origins.ts). */
    async findRedirectUris(): Promise<string[]> {
      const rows = await db
        .selectFrom('clients')
        .select(sql<string[] | null>`metadata->'redirect_uris'`.as('uris'))
        .execute();
      return rows.flatMap((found) => (Array.isArray(found.uris) ? found.uris : []));
    },

    async updateMetadata(metadata: ClientMetadata): Promise<void> {
      await db
        .updateTable('clients')
        .set({ metadata: JSON.stringify(metadata), updated_at: new Date() })
        .where('client_id', '=', metadata.client_id)
        .execute();
    },

    async findByOrganization(organizationId: string): Promise<ClientMetadata[]> {
      const rows = await db
        .selectFrom('clients')
        .select('metadata')
        .where('organization_id', '=', organizationId)
        .orderBy('created_at')
        .execute();
      return rows.map((row) => row.metadata);
    },

    async delete(clientId: string): Promise<boolean> {
      const result = await db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export type ClientRepository = {
  transaction<T>(work: (repository: ClientRepository, trx: Db) => Promise<T>): Promise<T>;
  find(clientId: string): Promise<ClientMetadata | undefined>;
  findAll(): Promise<ClientMetadata[]>;
  insert(metadata: ClientMetadata): Promise<void>;
  insertWithinOwnerLimit(metadata: ClientMetadata, limit: number): Promise<boolean>;
  findByOwner(accountId: string): Promise<ClientMetadata[]>;
  findRedirectUris(): Promise<string[]>;
  updateMetadata(metadata: ClientMetadata): Promise<void>;
  findByOrganization(organizationId: string): Promise<ClientMetadata[]>;
  delete(clientId: string): Promise<boolean>;
};

const CLIENT_CACHE_MS = 5_000;
const CLIENT_CACHE_SIZE = 10_000;

/**
 * Every token request looks its client up, so lookups are served from memory. Changes made through
 * this process invalidate at once (and are reported to `changed`: the CORS origins listen); changes
 * made elsewhere (the CLI, another instance) are seen within CLIENT_CACHE_MS.
 */
export function withClientCache(
  repository: ClientRepository,
  options: { changed?: () => void } = {},
): ClientRepository {
  const cache = new Map<string, { metadata: ClientMetadata; until: number }>();
  const changed = options.changed ?? (() => {});
  return {
    ...repository,
    /**
     * Registrations and rotations are rare next to lookups (one a token request): the whole cache is
     * forgotten once the transaction ends, committed or not, rather than tracking what it wrote.
     */
    async transaction(work) {
      try {
        return await repository.transaction(work);
      } finally {
        cache.clear();
        changed();
      }
    },
    async find(clientId) {
      const hit = cache.get(clientId);
      if (hit && hit.until > Date.now()) return hit.metadata;
      const metadata = await repository.find(clientId);
      // Unknown ids are not remembered: anyone can send them, and they must not grow the cache.
      if (!metadata) return undefined;
      const oldest = cache.keys().next();
      if (cache.size >= CLIENT_CACHE_SIZE && !oldest.done) cache.delete(oldest.value);
      cache.set(clientId, { metadata, until: Date.now() + CLIENT_CACHE_MS });
      return metadata;
    },
    async insert(metadata) {
      cache.delete(metadata.client_id);
      await repository.insert(metadata);
      changed();
    },
    async insertWithinOwnerLimit(metadata, limit) {
      cache.delete(metadata.client_id);
      const inserted = await repository.insertWithinOwnerLimit(metadata, limit);
      changed();
      return inserted;
    },
    async delete(clientId) {
      cache.delete(clientId);
      const deleted = await repository.delete(clientId);
      changed();
      return deleted;
    },
    async updateMetadata(metadata) {
      cache.delete(metadata.client_id);
      await repository.updateMetadata(metadata);
      changed();
    },
  };
}
