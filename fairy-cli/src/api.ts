import { CliError, EXIT, type ExitCode } from './exit-codes.ts';
import type { Session } from './session.ts';

type Query = Record<string, string | number | undefined>;

/**
 * FairyID's /api, called with the session's access token (or `token`, right after a login); its
 * error shape becomes a CliError with the matching exit code.
 */
export class Api {
  private readonly session: Session;
  private readonly token: (() => Promise<string>) | undefined;
  constructor(session: Session, token?: string) {
    this.session = session;
    this.token = token === undefined ? undefined : async () => token;
  }

  async url(path: string, query: Query = {}): Promise<URL> {
    const url = new URL(`${await this.session.issuer()}${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  /** The Authorization header value for a request made outside `request` (a stream, a WebSocket ticket). */
  async authorization(): Promise<string> {
    return `Bearer ${await (this.token ?? (() => this.session.accessToken()))()}`;
  }

  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const url = await this.url(path, options.query);
    const authorization = await this.authorization();
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
    } catch (error) {
      throw new NetworkError(`Cannot reach ${url.origin}: ${(error as Error).cause ?? (error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) throw apiError(response.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  /** Every item of a paginated list (`data` and `next_cursor`), following cursors to the end. */
  async all<T>(path: string, query: Query = {}): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: T[]; next_cursor: string | null } = await this.get(path, {
        ...query,
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      items.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }
}

/** The network failed (nothing was answered): worth trying again, unlike a refusal. */
export class NetworkError extends CliError {}

export function apiError(status: number, text: string): CliError {
  let code = `HTTP ${status}`;
  let description = '';
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') code = body.error;
    if (typeof body.error_description === 'string') description = body.error_description;
  } catch {
    // Not our API's error shape (a proxy's page, say): the status says enough.
  }
  const message = description ? `${description} (${code})` : code;
  if (status === 401)
    return new CliError(`FairyID refused the login: ${message}. Run \`fairy auth login\`.`, EXIT.auth);
  return new CliError(message, exitCodeFor(status));
}

function exitCodeFor(status: number): ExitCode {
  if (status === 403) return EXIT.forbidden;
  if (status === 404) return EXIT.notFound;
  if (status === 400) return EXIT.usage;
  return EXIT.error;
}
