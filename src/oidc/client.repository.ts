import type { Db } from '../db/database.ts';
import type { ClientMetadata } from './oidc.tables.ts';

export function createClientRepository(db: Db) {
  return {
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
      await db
        .insertInto('clients')
        .values({
          client_id: metadata.client_id,
          metadata: JSON.stringify(metadata),
          organization_id: metadata.organization_id ?? null,
        })
        .execute();
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

export type ClientRepository = ReturnType<typeof createClientRepository>;

const CLIENT_CACHE_MS = 5_000;
const CLIENT_CACHE_SIZE = 10_000;

/**
 * Every token request looks its client up, so lookups are served from memory. Changes made through
 * this process invalidate at once; changes made elsewhere (the CLI, another instance) are seen
 * within CLIENT_CACHE_MS.
 */
export function withClientCache(repository: ClientRepository): ClientRepository {
  const cache = new Map<string, { metadata: ClientMetadata; until: number }>();
  return {
    ...repository,
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
    },
    async delete(clientId) {
      cache.delete(clientId);
      return repository.delete(clientId);
    },
    async updateMetadata(metadata) {
      cache.delete(metadata.client_id);
      await repository.updateMetadata(metadata);
    },
  };
}
