import { z } from 'zod';
import { ApiError } from '../shared/api-error.ts';
import { decodeCursor, type CursorKey } from '../shared/cursor.ts';

/** `?cursor=&limit=` for every list; the cursor is opaque to callers. */
export const pageQuery = z.object({
  cursor: z.string().max(512).optional().describe('next_cursor from the previous page'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export function pageRequest(query: z.output<typeof pageQuery>): { cursor: CursorKey | undefined; limit: number } {
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && !cursor)
    throw new ApiError(400, 'invalid_request', 'Invalid query parameter "cursor": not a cursor we issued.');
  return { cursor, limit: query.limit };
}

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

export const timestamp = z.iso.datetime();
