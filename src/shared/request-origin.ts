/** Where a request came from, as the HTTP layer saw it (see http/request-origin.ts). */
export type RequestOrigin = { ip: string | null; userAgent: string | null };
