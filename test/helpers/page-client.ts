type Cookie = { name: string; value: string; path: string };

/**
 * Drives the hosted pages over plain HTTP as a browser without JavaScript would: a cookie jar
 * (with path scoping, which oidc-provider's interaction cookies rely on) and manual redirects.
 */
export class PageClient {
  private cookies: Cookie[] = [];

  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    const target = new URL(url, this.baseUrl);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = this.cookieHeader(target.pathname);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) this.store(line);
    return response;
  }

  /**
   * Follows same-origin redirects; stops at the first response that is not one, or that leaves the
   * issuer. `init.headers` go with every hop, as a browser sends its Accept-Language on each.
   */
  async follow(url: string, init: Parameters<PageClient['request']>[1] = {}) {
    let response = await this.request(url, init);
    let location = new URL(url, this.baseUrl);
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops += 1) {
      location = new URL(response.headers.get('location')!, location);
      if (location.origin !== new URL(this.baseUrl).origin) return { response, url: location };
      response = await this.request(location.href, init.headers ? { headers: init.headers } : {});
    }
    return { response, url: location };
  }

  /** The Cookie header this browser would send to `path`. */
  cookieHeader(path: string) {
    return this.cookies
      .filter(
        (cookie) =>
          path === cookie.path || path.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`),
      )
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private store(line: string) {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const separator = pair!.indexOf('=');
    const name = pair!.slice(0, separator);
    const value = pair!.slice(separator + 1);
    let path = '/';
    let expired = value === '';
    for (const attribute of attributes) {
      const [key, attributeValue = ''] = attribute.split('=');
      if (key!.toLowerCase() === 'path') path = attributeValue;
      if (key!.toLowerCase() === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
      if (key!.toLowerCase() === 'max-age' && Number(attributeValue) <= 0) expired = true;
    }
    this.cookies = this.cookies.filter((cookie) => !(cookie.name === name && cookie.path === path));
    if (!expired) this.cookies.push({ name, value, path });
  }
}

export function csrfToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF field on the page');
  return match[1]!;
}

export function formAction(html: string, fragment: string): string {
  const match = new RegExp(`action="([^"]*${fragment}[^"]*)"`).exec(html);
  if (!match) throw new Error(`no form posting to ${fragment}`);
  return match[1]!.replaceAll('&amp;', '&');
}
