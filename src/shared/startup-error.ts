/**
 * A start that cannot go on for a reason the operator fixes outside the code (a database or Redis
 * that does not answer). main.ts prints the message alone, so it names the variable to look at.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** host:port/path of a connection URL, without the credentials it may carry. */
export function describeEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}
