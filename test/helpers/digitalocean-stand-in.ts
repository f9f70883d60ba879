import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type LocalMachine, startLocalMachine } from '../../src/environments/local-machine.ts';

export const DO_TOKEN = 'dop_v1_fairyid_stand_in';

// The slugs the stand-in knows; anything else is refused with 422 like the real API.
const SIZES = new Set(['s-1vcpu-512mb-10gb', 's-1vcpu-1gb', 's-2vcpu-2gb']);
const REGIONS = new Set(['nyc1', 'nyc3', 'sfo3', 'ams3', 'fra1', 'lon1', 'sgp1', 'tor1', 'blr1', 'syd1']);

type Action = {
  id: number;
  status: 'in-progress' | 'completed' | 'errored';
  type: string;
  started_at: string;
  completed_at: string | null;
  resource_id: number | null;
  resource_type: 'droplet' | 'volume';
  region_slug: string;
};

type Droplet = {
  id: number;
  name: string;
  status: 'new' | 'active' | 'off';
  created_at: string;
  size_slug: string;
  image: { slug: string };
  region: { slug: string; name: string };
  tags: string[];
  volume_ids: string[];
  networks: { v4: { ip_address: string; netmask: string; gateway: string; type: 'public' | 'private' }[]; v6: [] };
};

type Volume = {
  id: string;
  name: string;
  description: string;
  size_gigabytes: number;
  droplet_ids: number[];
  region: { slug: string; name: string };
  created_at: string;
  filesystem_type: string;
  filesystem_label: string;
  tags: string[];
};

type SshKey = { id: number; fingerprint: string; public_key: string; name: string };

export type StandInCall = { method: string; path: string; status: number };

/**
 * A local stand-in for DigitalOcean's API v2, close enough to the real one for the driver: bearer
 * token, droplets that go `new` -> `active` once their machine's sshd answers and `off` after a
 * shutdown, action objects that finish asynchronously, volumes with attach/detach actions and
 * `droplet_ids`, account SSH keys, tags, pagination (`links`, `meta.total`), 422 for unknown
 * sizes and regions, and switches for 429s and 5xx blips. Behind each droplet runs a real sshd
 * (local-machine.ts, as root) on its own 127.0.<block>.N address (N from the range the test file
 * chooses, so files and stand-ins running side by side never share one), port 22, fed the droplet's
 * user_data, with its attached volume's folder as /home; the machine phones home by itself.
 */
export async function startDigitalOceanStandIn(
  t: ExecutionContext,
  options: { addressBlock: number; firstHost?: number; lastHost?: number; maxPerPage?: number },
) {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-do-stand-in-'));
  const calls: StandInCall[] = [];
  const droplets = new Map<number, Droplet>();
  const volumes = new Map<string, Volume>();
  const keys = new Map<number, SshKey>();
  const actions = new Map<number, Action>();
  const machines = new Map<number, { address: string; starting: Promise<LocalMachine | undefined> }>();
  const machineErrors: string[] = [];
  const switches = {
    rateLimited: 0,
    rateLimitResetAt: 0,
    failing: 0,
    failStatus: 503,
    failOnly: undefined as { method: string; path: RegExp } | undefined,
    // A real `shutdown` only issues the command; a machine may ignore it and stay active.
    ignoreShutdown: false,
    // The next answer reports the hourly quota spent (ratelimit-remaining 0) while still succeeding.
    spentResetAt: 0,
    // Droplets cannot reach FairyID (a firewall, say): cloud-init's phone_home never arrives.
    phoneHomeBlocked: false,
    // Droplets come up `active` with an address, but sshd never answers (a broken image or cloud-init).
    unreachable: false,
  };
  let nextId = 3_000_000;
  const id = () => (nextId += 1);
  const now = () => new Date().toISOString();

  const volumeDir = (volumeId: string) => join(dataDir, 'volumes', volumeId);

  const newAction = (type: string, resource: { id: number | null; type: Action['resource_type'] }, region: string) => {
    const action: Action = {
      id: id(),
      status: 'in-progress',
      type,
      started_at: now(),
      completed_at: null,
      resource_id: resource.id,
      resource_type: resource.type,
      region_slug: region,
    };
    actions.set(action.id, action);
    return action;
  };
  const settle = (action: Action, ok: boolean) => {
    action.status = ok ? 'completed' : 'errored';
    action.completed_at = now();
  };

  const freeAddress = () => {
    const used = new Set([...machines.values()].map((machine) => machine.address));
    for (let n = options.firstHost ?? 1; n <= (options.lastHost ?? 254); n += 1) {
      const address = `127.0.${options.addressBlock}.${n}`;
      if (!used.has(address)) return address;
    }
    throw new Error('the stand-in ran out of loopback addresses');
  };

  const boot = (droplet: Droplet, userData: string, action: Action) => {
    const address = freeAddress();
    const up = () => {
      droplet.status = 'active';
      droplet.networks.v4 = [{ ip_address: address, netmask: '255.255.255.0', gateway: '127.0.0.1', type: 'public' }];
      settle(action, true);
    };
    if (switches.unreachable) {
      setImmediate(up);
      machines.set(droplet.id, { address, starting: Promise.resolve(undefined) });
      return;
    }
    // A droplet without a volume still has a disk; its /home lives and dies with it.
    const home = droplet.volume_ids[0] ? volumeDir(droplet.volume_ids[0]) : join(dataDir, 'disks', String(droplet.id));
    const starting = startLocalMachine({
      cloudConfig: userData,
      host: address,
      port: 22,
      volumeDir: home,
      runDir: join(dataDir, 'droplets', String(droplet.id)),
      instanceId: String(droplet.id),
      hostname: droplet.name,
      phoneHomeIntervalMs: 100,
      // Port 9 on loopback: nothing listens, as nothing answers a droplet whose egress is blocked.
      ...(switches.phoneHomeBlocked ? { phoneHomeUrl: 'http://127.0.0.1:9/phone-home-blocked' } : {}),
    }).then(
      (machine) => {
        if (!droplets.has(droplet.id)) {
          void machine.stop();
          return undefined;
        }
        up();
        return machine;
      },
      (error: Error) => {
        machineErrors.push(`droplet ${droplet.id}: ${error.message}`);
        settle(action, false);
        return undefined;
      },
    );
    machines.set(droplet.id, { address, starting });
  };

  const halt = async (dropletId: number) => {
    const machine = machines.get(dropletId);
    if (!machine) return;
    await (await machine.starting)?.stop();
    machines.delete(dropletId);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      calls.push({ method, path, status });
      if (switches.spentResetAt) {
        headers = { 'ratelimit-remaining': '0', 'ratelimit-reset': String(switches.spentResetAt), ...headers };
        switches.spentResetAt = 0;
      }
      res.writeHead(status, {
        ...(payload === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        'ratelimit-limit': '5000',
        'ratelimit-remaining': '4999',
        'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 60),
        'x-request-id': randomUUID(),
        ...headers,
      });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    const refuse = (status: number, idText: string, message: string, headers?: Record<string, string>) =>
      send(status, { id: idText, message, request_id: randomUUID() }, headers);

    if (req.headers.authorization !== `Bearer ${DO_TOKEN}`) {
      return refuse(401, 'unauthorized', 'Unable to authenticate you');
    }
    if (switches.rateLimited > 0) {
      switches.rateLimited -= 1;
      return refuse(429, 'too_many_requests', 'API rate limit exceeded.', {
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(switches.rateLimitResetAt),
      });
    }
    const targeted = !switches.failOnly || (switches.failOnly.method === method && switches.failOnly.path.test(path));
    if (switches.failing > 0 && targeted) {
      switches.failing -= 1;
      return refuse(switches.failStatus, 'server_error', 'Unexpected server-side error');
    }

    const page = <T>(key: string, items: T[]) => {
      const perPage = Math.min(
        Math.max(Number(url.searchParams.get('per_page') ?? 20) || 20, 1),
        options.maxPerPage ?? 200,
      );
      const current = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
      const last = Math.max(Math.ceil(items.length / perPage), 1);
      const link = (n: number) => {
        const target = new URL(url.toString());
        target.searchParams.set('page', String(n));
        return `${base}${target.pathname}${target.search}`;
      };
      const pages: Record<string, string> = {};
      if (current > 1) Object.assign(pages, { first: link(1), prev: link(current - 1) });
      if (current < last) Object.assign(pages, { next: link(current + 1), last: link(last) });
      return send(200, {
        [key]: items.slice((current - 1) * perPage, current * perPage),
        links: { pages },
        meta: { total: items.length },
      });
    };
    const region = (slug: string) => ({ slug, name: slug });
    let match: RegExpMatchArray | null = null;
    const route = (pattern: RegExp) => {
      match = path.match(pattern);
      return match !== null;
    };

    // Droplets
    if (path === '/v2/droplets' && method === 'GET') {
      const tag = url.searchParams.get('tag_name');
      return page(
        'droplets',
        [...droplets.values()].filter((droplet) => !tag || droplet.tags.includes(tag)),
      );
    }
    if (path === '/v2/droplets' && method === 'POST') {
      const { name, size, image, user_data: userData } = body as Record<string, string>;
      const regionSlug = String(body.region ?? '');
      if (typeof name !== 'string' || !/^[a-zA-Z0-9.-]{1,253}$/.test(name)) {
        return refuse(422, 'unprocessable_entity', 'Name is invalid.');
      }
      if (!REGIONS.has(regionSlug)) return refuse(422, 'unprocessable_entity', 'Region is not available.');
      if (!SIZES.has(String(size))) {
        return refuse(422, 'unprocessable_entity', 'You specified an invalid size for Droplet creation.');
      }
      if (typeof image !== 'string') return refuse(422, 'unprocessable_entity', 'You specified an invalid image.');
      for (const key of (body.ssh_keys as unknown[] | undefined) ?? []) {
        if (![...keys.values()].some((known) => known.id === key || known.fingerprint === key)) {
          return refuse(422, 'unprocessable_entity', 'You specified an invalid SSH key.');
        }
      }
      const wanted = ((body.volumes as string[] | undefined) ?? []).map((volumeId) => volumes.get(volumeId));
      for (const volume of wanted) {
        if (!volume) return refuse(422, 'unprocessable_entity', 'You specified an invalid volume.');
        if (volume.region.slug !== regionSlug) {
          return refuse(422, 'unprocessable_entity', 'The volume is in a different region.');
        }
        if (volume.droplet_ids.length > 0) {
          return refuse(422, 'unprocessable_entity', 'The volume is already attached to another Droplet.');
        }
      }
      const droplet: Droplet = {
        id: id(),
        name,
        status: 'new',
        created_at: now(),
        size_slug: String(size),
        image: { slug: image },
        region: region(regionSlug),
        tags: ((body.tags as string[] | undefined) ?? []).map(String),
        volume_ids: wanted.map((volume) => volume?.id ?? ''),
        networks: { v4: [], v6: [] },
      };
      droplets.set(droplet.id, droplet);
      for (const volume of wanted) volume?.droplet_ids.push(droplet.id);
      const action = newAction('create', { id: droplet.id, type: 'droplet' }, regionSlug);
      boot(droplet, typeof userData === 'string' ? userData : '', action);
      return send(202, {
        droplet,
        links: { actions: [{ id: action.id, rel: 'create', href: `${base}/v2/actions/${action.id}` }] },
      });
    }
    if (route(/^\/v2\/droplets\/(\d+)$/)) {
      const droplet = droplets.get(Number(match?.[1]));
      if (!droplet) return refuse(404, 'not_found', 'The resource you were accessing could not be found.');
      if (method === 'GET') return send(200, { droplet });
      if (method === 'DELETE') {
        droplets.delete(droplet.id);
        await halt(droplet.id);
        // Destroying a droplet detaches its volumes.
        for (const volume of volumes.values()) {
          volume.droplet_ids = volume.droplet_ids.filter((dropletId) => dropletId !== droplet.id);
        }
        return send(204);
      }
    }
    if (route(/^\/v2\/droplets\/(\d+)\/actions$/) && method === 'POST') {
      const droplet = droplets.get(Number(match?.[1]));
      if (!droplet) return refuse(404, 'not_found', 'The resource you were accessing could not be found.');
      const type = String(body.type);
      if (type !== 'shutdown' && type !== 'power_off') {
        return refuse(422, 'unprocessable_entity', `The stand-in does not do ${type}.`);
      }
      const action = newAction(type, { id: droplet.id, type: 'droplet' }, droplet.region.slug);
      if (type === 'shutdown' && switches.ignoreShutdown) {
        setImmediate(() => settle(action, true));
        return send(201, { action });
      }
      void halt(droplet.id).then(() => {
        if (droplets.has(droplet.id)) droplet.status = 'off';
        settle(action, true);
      });
      return send(201, { action });
    }
    if (route(/^\/v2\/(?:actions|droplets\/\d+\/actions|volumes\/[^/]+\/actions)\/(\d+)$/)) {
      const action = actions.get(Number(match?.[1]));
      if (!action) return refuse(404, 'not_found', 'The resource you were accessing could not be found.');
      return send(200, { action });
    }

    // Volumes
    if (path === '/v2/volumes' && method === 'GET') {
      const name = url.searchParams.get('name');
      const regionSlug = url.searchParams.get('region');
      return page(
        'volumes',
        [...volumes.values()].filter(
          (volume) => (!name || volume.name === name) && (!regionSlug || volume.region.slug === regionSlug),
        ),
      );
    }
    if (path === '/v2/volumes' && method === 'POST') {
      const name = String(body.name ?? '');
      const regionSlug = String(body.region ?? '');
      if (!/^[a-z][a-z0-9-]{0,63}$/.test(name)) {
        return refuse(422, 'unprocessable_entity', 'Name must be lowercase letters, numbers and hyphens.');
      }
      if (!REGIONS.has(regionSlug)) return refuse(422, 'unprocessable_entity', 'Region is not available.');
      if ([...volumes.values()].some((volume) => volume.name === name && volume.region.slug === regionSlug)) {
        return refuse(409, 'conflict', 'A volume with this name already exists in the region.');
      }
      const volume: Volume = {
        id: randomUUID(),
        name,
        description: String(body.description ?? ''),
        size_gigabytes: Number(body.size_gigabytes ?? 1),
        droplet_ids: [],
        region: region(regionSlug),
        created_at: now(),
        filesystem_type: String(body.filesystem_type ?? ''),
        filesystem_label: String(body.filesystem_label ?? ''),
        tags: ((body.tags as string[] | undefined) ?? []).map(String),
      };
      volumes.set(volume.id, volume);
      await mkdir(volumeDir(volume.id), { recursive: true });
      return send(201, { volume });
    }
    if (route(/^\/v2\/volumes\/([^/]+)$/)) {
      const volume = volumes.get(decodeURIComponent(match?.[1] ?? ''));
      if (!volume) return refuse(404, 'not_found', 'The resource you were accessing could not be found.');
      if (method === 'GET') return send(200, { volume });
      if (method === 'DELETE') {
        if (volume.droplet_ids.length > 0) {
          return refuse(409, 'conflict', 'Volume is attached to a Droplet; detach it first.');
        }
        volumes.delete(volume.id);
        await rm(volumeDir(volume.id), { recursive: true, force: true });
        return send(204);
      }
    }
    if (route(/^\/v2\/volumes\/([^/]+)\/actions$/) && method === 'POST') {
      const volume = volumes.get(decodeURIComponent(match?.[1] ?? ''));
      if (!volume) return refuse(404, 'not_found', 'The resource you were accessing could not be found.');
      const dropletId = Number(body.droplet_id);
      const droplet = droplets.get(dropletId);
      if (!droplet) return refuse(422, 'unprocessable_entity', 'You specified an invalid Droplet.');
      const type = String(body.type);
      if (type === 'attach') {
        if (volume.droplet_ids.length > 0) {
          return refuse(422, 'unprocessable_entity', 'The volume is already attached to another Droplet.');
        }
        volume.droplet_ids.push(dropletId);
        droplet.volume_ids.push(volume.id);
      } else if (type === 'detach') {
        if (!volume.droplet_ids.includes(dropletId)) {
          return refuse(422, 'unprocessable_entity', 'The volume is not attached to this Droplet.');
        }
        volume.droplet_ids = volume.droplet_ids.filter((attached) => attached !== dropletId);
        droplet.volume_ids = droplet.volume_ids.filter((attached) => attached !== volume.id);
      } else {
        return refuse(422, 'unprocessable_entity', `The stand-in does not do ${type}.`);
      }
      const action = newAction(`${type}_volume`, { id: null, type: 'volume' }, volume.region.slug);
      // Reported in progress first, finished a moment later: the driver has to poll.
      setImmediate(() => settle(action, true));
      return send(202, { action });
    }

    // Account SSH keys
    if (path === '/v2/account/keys' && method === 'GET') return page('ssh_keys', [...keys.values()]);
    if (path === '/v2/account/keys' && method === 'POST') {
      const publicKey = String(body.public_key ?? '').trim();
      const blob = publicKey.split(/\s+/)[1];
      if (!blob || typeof body.name !== 'string') return refuse(422, 'unprocessable_entity', 'Key invalid.');
      const digest = createHash('md5').update(Buffer.from(blob, 'base64')).digest('hex');
      const fingerprint = digest.match(/../g)?.join(':') ?? digest;
      if ([...keys.values()].some((key) => key.fingerprint === fingerprint)) {
        return refuse(422, 'unprocessable_entity', 'SSH Key is already in use on your account');
      }
      const key: SshKey = { id: id(), fingerprint, public_key: publicKey, name: body.name };
      keys.set(key.id, key);
      return send(201, { ssh_key: key });
    }
    if (route(/^\/v2\/account\/keys\/([^/]+)$/)) {
      const wanted = decodeURIComponent(match?.[1] ?? '');
      const key = [...keys.values()].find((known) => String(known.id) === wanted || known.fingerprint === wanted);
      if (!key) return refuse(404, 'not_found', 'The resource you were accessing could not be found.');
      if (method === 'GET') return send(200, { ssh_key: key });
      if (method === 'DELETE') {
        keys.delete(key.id);
        return send(204);
      }
    }
    return refuse(404, 'not_found', 'The resource you were accessing could not be found.');
  };

  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ id: 'bad_request', message: 'invalid JSON' }));
    }
    await handle(req, res, body).catch((error: Error) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  t.teardown(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...machines.keys()].map((dropletId) => halt(dropletId)));
    await rm(dataDir, { recursive: true, force: true });
  });

  return {
    url: base,
    token: DO_TOKEN,
    calls,
    droplets,
    volumes,
    keys,
    machineErrors,
    volumeDir,
    /** The next `count` requests answer 429 with `ratelimit-reset` at `resetAt` (Unix seconds). */
    rateLimit(count: number, resetAt: number) {
      switches.rateLimited = count;
      switches.rateLimitResetAt = resetAt;
    },
    /** The next answer succeeds but says no requests remain until `resetAt` (Unix seconds). */
    spendQuota(resetAt: number) {
      switches.spentResetAt = resetAt;
    },
    /** The next `count` requests (or only those matching `only`) fail with a server error. */
    fail(count: number, status = 503, only?: { method: string; path: RegExp }) {
      switches.failing = count;
      switches.failStatus = status;
      switches.failOnly = only;
    },
    /** The types of every action so far, in order. */
    actionTypes: () => [...actions.values()].map((action) => action.type),
    /** Droplets booted from now on cannot reach FairyID: their phone_home never arrives. */
    blockPhoneHome() {
      switches.phoneHomeBlocked = true;
    },
    /** Droplets booted from now on become `active` with an address where no sshd ever answers. */
    bootUnreachable() {
      switches.unreachable = true;
    },
    /** Droplets complete `shutdown` actions but stay active, as a hung guest would. */
    ignoreShutdowns() {
      switches.ignoreShutdown = true;
    },
    /** What exists at the "provider" now; a test ends with all of it empty. */
    leftovers: () => ({
      droplets: [...droplets.keys()],
      volumes: [...volumes.keys()],
      keys: [...keys.keys()],
      machines: [...machines.keys()],
    }),
  };
}

export type DigitalOceanStandIn = Awaited<ReturnType<typeof startDigitalOceanStandIn>>;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
