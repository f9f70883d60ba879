/**
 * Opaque keyset-pagination cursors: the sort key of the last item seen, so pages stay stable while
 * rows are added and no page costs an OFFSET scan.
 */
export type CursorKey = { at: string; id: string };

export function encodeCursor(key: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ at: key.created_at.toISOString(), id: key.id })).toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorKey>;
    if (typeof parsed.at !== 'string' || typeof parsed.id !== 'string' || Number.isNaN(Date.parse(parsed.at)))
      return undefined;
    return { at: parsed.at, id: parsed.id };
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
