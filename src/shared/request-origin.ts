/**
 * Where a request came from, as the HTTP layer saw it (see http/request-origin.ts), and its id (the
 * X-Request-Id it was answered with); work outside any request has no id.
 */
export type RequestOrigin = { ip: string | null; userAgent: string | null; requestId?: string | null | undefined };
