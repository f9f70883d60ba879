import { CliError, EXIT } from './exit-codes.ts';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An issuer as FairyID writes it (no trailing slash). Plain http only on loopback, for a server
 * running on this machine: anywhere else the tokens would cross the network in the clear.
 */
export function normalizeIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`"${value}" is not a URL; an issuer looks like https://id.example.com.`, EXIT.usage);
  }
  if (url.protocol === 'http:' && !isLoopback(url)) {
    throw new CliError(`${value}: plain http is allowed only on this machine (localhost); use https.`, EXIT.usage);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CliError(`${value}: an issuer is an https URL.`, EXIT.usage);
  }
  if (url.search || url.hash) throw new CliError(`${value}: an issuer has no query or fragment.`, EXIT.usage);
  return url.href.replace(/\/+$/, '');
}

export function isLoopback(url: URL): boolean {
  return LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}
