/**
 * Opaque keyset-pagination cursors: the sort key of the last item seen, so pages stay stable while
 * rows are added and no page costs an OFFSET scan.
 */
export type CursorKey = { at: string; id: string };

export function encodeCursor(key: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ at: key.created_at.toISOString(), id: key.id })).toString('base64url');
}

// Exactly what encodeCursor writes: a four-digit year (which Postgres's timestamptz holds, where a
// JavaScript Date reaches ±275760), and row ids as we mint them (UUIDs, account ids).
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CURSOR_ID = /^[\w.:-]{1,128}$/;

/** The key in a cursor we issued, or undefined for anything else: nothing else reaches a query. */
export function decodeCursor(cursor: string): CursorKey | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorKey> | null;
    const at = parsed?.at;
    const id = parsed?.id;
    if (typeof at !== 'string' || typeof id !== 'string' || !CURSOR_TIME.test(at) || !CURSOR_ID.test(id))
      return undefined;
    // Round-trips only for a real instant: no 25th hour, no 31st of February.
    if (new Date(at).toISOString() !== at) return undefined;
    return { at, id };
  } catch {
    return undefined;
  }
}

export type Page<T> = { data: T[]; next_cursor: string | null };

/** Given `limit + 1` rows, the page of `limit` and the cursor to the next one. */
export function toPage<T, R extends { created_at: Date; id: string }>(
  rows: R[],
  limit: number,
  present: (row: R) => T,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { data: items.map(present), next_cursor: rows.length > limit && last ? encodeCursor(last) : null };
}
