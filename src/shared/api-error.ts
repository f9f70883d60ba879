/**
 * An error an /api caller may see: a snake_case code, the HTTP status and a message safe to show.
 * Each domain keeps its own catalog of these; http/api-errors.ts renders them.
 */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
