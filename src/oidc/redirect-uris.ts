/**
 * The rule every registered redirect URI meets, whoever registers the client (an organization
 * through the API, an operator through the CLI): what goes back to it carries codes and tokens.
 */

// RFC 8252 7.3 and 8.3: a native app listens on the loopback interface over plain http, which
// never leaves the machine; `localhost` is allowed too, though 8.3 prefers the literal addresses.
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why `uri` may not be a redirect URI, or undefined when it may. */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${uri} is not a URL`;
  }
  // RFC 3986 3.2.1 deprecates user:password in a URI, and `https://trusted.example@evil.example`
  // reads as one host while naming another; no redirect endpoint needs it (see the Security BCP, RFC 9700).
  if (url.username || url.password) return `${redactUserinfo(url)} must not contain a user name or password`;
  // RFC 6749 3.1.2.1: the redirection endpoint requires TLS, for codes and tokens travel to it; the
  // exception is a loopback listener on the same machine (RFC 8252 7.3).
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return `${uri} must use https (plain http is only for loopback: 127.0.0.1, [::1] or localhost)`;
  }
  return undefined;
}

// The refused URI is echoed back in the error; its password is not.
function redactUserinfo(url: URL) {
  const copy = new URL(url.href);
  if (copy.password) copy.password = 'redacted';
  return copy.href;
}
