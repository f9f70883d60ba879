import type { Db } from '../db/database.ts';
import type { ClientMetadata } from './oidc.tables.ts';

export function createClientRepository(db: Db) {
  return {
    async find(clientId: string): Promise<ClientMetadata | undefined> {
      const row = await db.selectFrom('clients').select('metadata').where('client_id', '=', clientId).executeTakeFirst();
      return row?.metadata;
    },

    async findAll(): Promise<ClientMetadata[]> {
      const rows = await db.selectFrom('clients').select('metadata').orderBy('created_at').execute();
      return rows.map((row) => row.metadata);
    },

    async insert(metadata: ClientMetadata): Promise<void> {
      await db.insertInto('clients').values({ client_id: metadata.client_id, metadata: JSON.stringify(metadata) }).execute();
    },

    async delete(clientId: string): Promise<boolean> {
      const result = await db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export type ClientRepository = ReturnType<typeof createClientRepository>;
