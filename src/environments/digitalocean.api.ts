// A small client for the parts of the DigitalOcean API v2 the driver uses, over Node's fetch. Every
// failure becomes a ProviderError the reconciler can act on: rate limits (HTTP 429, or a quota the
// `ratelimit-*` headers said is spent) and server or network failures are retryable; refusals
// (422 for an unknown size or region, 401/403 for a bad token) are not and carry a human message.

import { ProviderError } from './driver.ts';

export const DO_API_URL = 'https://api.digitalocean.com';

export interface DoAction {
  id: number;
  status: 'in-progress' | 'completed' | 'errored';
  type: string;
  resource_id: number | null;
  resource_type: string;
}

export interface DoDroplet {
  id: number;
  name: string;
  status: 'new' | 'active' | 'off' | 'archive';
  tags: string[];
  volume_ids: string[];
  networks: { v4: { ip_address: string; type: 'public' | 'private' }[] };
  region: { slug: string };
}

export interface DoVolume {
  id: string;
  name: string;
  droplet_ids: number[];
  region: { slug: string };
  size_gigabytes: number;
  tags: string[];
}

export interface DoSshKey {
  id: number;
  fingerprint: string;
  public_key: string;
  name: string;
}

export interface DoApiOptions {
  token: string;
  baseUrl?: string;
  /** Per-request limit; a request that takes longer is a retryable failure. */
  timeoutMs?: number;
  now?: () => number;
}

/** The "Not found" answer, told apart because lookups by id treat it as "already gone". */
export class DoNotFound extends ProviderError {
  constructor(path: string) {
    super(`DigitalOcean has no ${path}`, false);
    this.name = 'DoNotFound';
  }
}

export function createDoApi(options: DoApiOptions) {
  const base = (options.baseUrl ?? DO_API_URL).replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  // Set when a response said the quota is spent: later calls wait instead of earning a 429.
  let blockedUntil = 0;

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const wait = blockedUntil - now();
    if (wait > 0) throw new ProviderError('DigitalOcean rate limit reached; waiting for it to reset', true, wait);
    // Pagination links are absolute; only their path is kept, so the token never leaves `base`.
    const link = /^https?:/.test(path) ? new URL(path) : undefined;
    const url = link ? `${new URL(base).origin}${link.pathname}${link.search}` : `${base}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as Error).cause ?? error;
      throw new ProviderError(`DigitalOcean could not be reached: ${String(cause)}`, true);
    }
    const text = await response.text().catch(() => '');
    const reset = resetDelay(response.headers, now());
    if (response.headers.get('ratelimit-remaining') === '0' && reset !== undefined) blockedUntil = now() + reset;
    if (response.ok) return (text ? JSON.parse(text) : undefined) as T;

    const message = errorMessage(text);
    if (response.status === 429) {
      throw new ProviderError('DigitalOcean rate limit reached; trying again later', true, reset ?? 60_000);
    }
    if (response.status >= 500) {
      throw new ProviderError(`DigitalOcean had a problem (${response.status}); trying again`, true);
    }
    if (response.status === 404) throw new DoNotFound(path);
    if (response.status === 401 || response.status === 403) {
      throw new ProviderError('DigitalOcean refused the API token (DO_API_TOKEN); an operator must fix it', false);
    }
    // A resource busy with another action (a droplet still being created, a volume not yet detached)
    // is refused for now, not for good.
    if (
      response.status === 409 ||
      (response.status === 422 && /pending event|in progress|locked|attached/i.test(message))
    ) {
      throw new ProviderError(`DigitalOcean is busy with this machine (${message}); trying again`, true);
    }
    if (response.status === 422) throw new ProviderError(`DigitalOcean refused the machine: ${message}`, false);
    throw new ProviderError(`DigitalOcean refused the request (${response.status}): ${message}`, false);
  }

  /** Every page of a list (`links.pages.next`), up to the API's largest page size. */
  async function list<T>(path: string, key: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = `${path}${path.includes('?') ? '&' : '?'}per_page=200`;
    while (next) {
      const page: Record<string, unknown> & { links?: { pages?: { next?: string } } } = await request('GET', next);
      items.push(...((page[key] as T[] | undefined) ?? []));
      next = page.links?.pages?.next;
    }
    return items;
  }

  const orUndefined = async <T>(promise: Promise<T>): Promise<T | undefined> => {
    try {
      return await promise;
    } catch (error) {
      if (error instanceof DoNotFound) return undefined;
      throw error;
    }
  };

  return {
    request,
    getDroplet: (id: string) =>
      orUndefined(request<{ droplet: DoDroplet }>('GET', `/v2/droplets/${encodeURIComponent(id)}`)).then(
        (answer) => answer?.droplet,
      ),
    dropletsByTag: (tag: string) => list<DoDroplet>(`/v2/droplets?tag_name=${encodeURIComponent(tag)}`, 'droplets'),
    createDroplet: (body: {
      name: string;
      region: string;
      size: string;
      image: string;
      ssh_keys: (number | string)[];
      user_data: string;
      tags: string[];
      volumes: string[];
      monitoring?: boolean;
    }) => request<{ droplet: DoDroplet }>('POST', '/v2/droplets', body).then((answer) => answer.droplet),
    deleteDroplet: (id: string) => orUndefined(request<void>('DELETE', `/v2/droplets/${encodeURIComponent(id)}`)),
    dropletAction: (id: string, type: 'shutdown' | 'power_off') =>
      request<{ action: DoAction }>('POST', `/v2/droplets/${encodeURIComponent(id)}/actions`, { type }).then(
        (answer) => answer.action,
      ),

    getVolume: (id: string) =>
      orUndefined(request<{ volume: DoVolume }>('GET', `/v2/volumes/${encodeURIComponent(id)}`)).then(
        (answer) => answer?.volume,
      ),
    volumesByName: (name: string, region: string) =>
      list<DoVolume>(`/v2/volumes?name=${encodeURIComponent(name)}&region=${encodeURIComponent(region)}`, 'volumes'),
    createVolume: (body: {
      name: string;
      region: string;
      size_gigabytes: number;
      description: string;
      filesystem_type: 'ext4';
      filesystem_label: string;
      tags: string[];
    }) => request<{ volume: DoVolume }>('POST', '/v2/volumes', body).then((answer) => answer.volume),
    deleteVolume: (id: string) => orUndefined(request<void>('DELETE', `/v2/volumes/${encodeURIComponent(id)}`)),
    volumeAction: (id: string, body: { type: 'attach' | 'detach'; droplet_id: number; region: string }) =>
      request<{ action: DoAction }>('POST', `/v2/volumes/${encodeURIComponent(id)}/actions`, body).then(
        (answer) => answer.action,
      ),

    getAction: (id: number) =>
      request<{ action: DoAction }>('GET', `/v2/actions/${id}`).then((answer) => answer.action),

    getSshKey: (idOrFingerprint: string) =>
      orUndefined(
        request<{ ssh_key: DoSshKey }>('GET', `/v2/account/keys/${encodeURIComponent(idOrFingerprint)}`),
      ).then((answer) => answer?.ssh_key),
    createSshKey: (body: { name: string; public_key: string }) =>
      request<{ ssh_key: DoSshKey }>('POST', '/v2/account/keys', body).then((answer) => answer.ssh_key),
    deleteSshKey: (idOrFingerprint: string) =>
      orUndefined(request<void>('DELETE', `/v2/account/keys/${encodeURIComponent(idOrFingerprint)}`)),
  };
}

export type DoApi = ReturnType<typeof createDoApi>;

/**
 * How long until the quota resets. DigitalOcean's `ratelimit-reset` is a Unix time in seconds; a
 * `retry-after` (seconds) wins when present because it speaks of this very request.
 */
function resetDelay(headers: Headers, now: number): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter && /^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const reset = headers.get('ratelimit-reset');
  if (!reset || !/^\d+$/.test(reset)) return undefined;
  return Math.max(0, Number(reset) * 1000 - now);
}

function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string' && body.message) return body.message;
  } catch {}
  return text.slice(0, 200) || 'no details';
}
