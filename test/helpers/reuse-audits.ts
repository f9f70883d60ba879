import type { TestServer } from './server.ts';

/** The outcomes of the audit trail's refresh_token_reused rows, oldest first. */
export async function refreshReuseOutcomes(server: TestServer) {
  const rows = await server.app.services.db
    .selectFrom('audit_events')
    .select('outcome')
    .where('event', '=', 'refresh_token_reused')
    .orderBy('created_at')
    .execute();
  return rows.map((row) => row.outcome);
}
