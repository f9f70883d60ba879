import type { Options } from './options.ts';
import { chooseRuntime, planCpus } from './processes.ts';
import {
  BENCH_REDIRECT_URI,
  createStorage,
  registerClients,
  startFairyId,
  startKoaHello,
  startReference,
  type Cleanups,
  type Storage,
} from './servers.ts';
import type { ServerProcess } from './processes.ts';
import {
  benchEmail,
  fetchDiscovery,
  inParallel,
  signInAndExchange,
  type ClientCredentials,
  type Discovery,
  type Target,
} from './target.ts';

/** Sign-ins run in parallel while refresh and access tokens are prepared through FairyID's pages. */
const PREPARE_CONCURRENCY = 4;
const TOKEN_SCOPE = 'openid email profile offline_access';
const SIGN_IN_SCOPE = 'openid email profile';
const API_SCOPE = 'openid account:read';

export type Setup = {
  /** The first is the one measured; the others are baselines (the scenario's first available one). */
  targets: Target[];
  /** Every server process this run started, for the memory line. */
  processes: ServerProcess[];
  /** FairyID's storage, when this run made it (token_after_expired_rows needs its DATABASE_URL). */
  storage?: Storage;
  description: string;
  environment: Record<string, unknown>;
};

type Log = (line: string) => void;

/** FairyID and the reference, started by this run on storage of the run's own. */
export async function startLocalTargets(options: Options, root: string, cleanups: Cleanups, log: Log): Promise<Setup> {
  const cpu = planCpus();
  const core = cpu.pinned ? cpu.serverCore : undefined;
  const runtime = chooseRuntime(options.runtime, root);
  log(`FairyID runtime: ${runtime.note}`);
  log(
    cpu.pinned
      ? `CPU: servers on core ${cpu.serverCore}, load generator on core ${cpu.loadCore}`
      : `CPU: not pinned (${cpu.reason})`,
  );

  if (options.instances > 1 && !(process.env.DATABASE_URL && process.env.REDIS_URL)) {
    throw new Error(
      '--instances needs DATABASE_URL and REDIS_URL: several FairyID processes share state only through Postgres and Redis ' +
        '(the embedded database admits one process, and in-process memory is per process)',
    );
  }
  const storage = await createStorage(cleanups);
  log(`FairyID storage: ${storage.description}`);
  log('registering clients through the CLI (before the server starts)');
  const clients = await registerClients(runtime, storage, root);

  if (options.instances > 1) {
    return startInstances({ options, root, cleanups, log, runtime, cpu, storage, clients });
  }

  const fairy = await startFairyId({ runtime, storage, root, core });
  cleanups.add(() => fairy.stop());
  log(`FairyID at ${fairy.url} (pid ${fairy.pid})`);
  const fairyDiscovery = await fetchDiscovery(fairy.url);
  const processes: ServerProcess[] = [fairy];
  const targets: Target[] = [
    {
      name: 'FairyID',
      kind: 'fairy',
      url: fairy.url,
      discovery: fairyDiscovery,
      process: fairy,
      machine: clients.machine,
      ...pageSignIn(fairy.url, fairyDiscovery, clients.web, BENCH_REDIRECT_URI),
    },
  ];

  // BENCH_COMPARE_ROOT: another build of FairyID (a folder holding its dist/, under this checkout so
  // that it resolves the same node_modules), measured alongside with storage of its own: a
  // before/after pair in one run, which a busy machine affects alike.
  const compareRoot = process.env.BENCH_COMPARE_ROOT;
  if (compareRoot) {
    const compareStorage = await createStorage(cleanups);
    const compareClients = await registerClients(runtime, compareStorage, compareRoot);
    const before = await startFairyId({ runtime, storage: compareStorage, root: compareRoot, core, name: 'FairyID-B' });
    cleanups.add(() => before.stop());
    processes.push(before);
    log(`FairyID-B (${compareRoot}) at ${before.url} (pid ${before.pid})`);
    const discovery = await fetchDiscovery(before.url);
    targets.push({
      name: 'FairyID-B',
      kind: 'fairy',
      url: before.url,
      discovery,
      process: before,
      machine: compareClients.machine,
      ...pageSignIn(before.url, discovery, compareClients.web, BENCH_REDIRECT_URI),
    });
  }

  const referenceStorage = process.env.REDIS_URL
    ? 'minimal Redis adapter (bench/reference/redis-adapter.ts)'
    : "oidc-provider's built-in memory adapter";
  if (options.reference) {
    const reference = await startReference({ clients, root, core, cleanups });
    cleanups.add(() => reference.stop());
    processes.push(reference);
    log(`reference at ${reference.url} (pid ${reference.pid}), storage: ${referenceStorage}`);
    targets.push({
      name: 'reference',
      kind: 'reference',
      url: reference.url,
      discovery: await fetchDiscovery(reference.url),
      process: reference,
      machine: clients.machine,
      web: clients.web,
      mintTokens: (count) => reference.mint(count, clients.web.id),
      // The memory adapter is an LRU of 1000 entries: other scenarios' tokens evict prepared ones.
      volatileTokens: !process.env.REDIS_URL,
    });
    if (!options.only || [...options.only].some((name) => name.startsWith('api_'))) {
      const hello = await startKoaHello({ root, core });
      cleanups.add(() => hello.stop());
      processes.push(hello);
      log(`Koa hello world at ${hello.url} (pid ${hello.pid}), the baseline of api_*`);
      // Discovery is meaningless here; only the api_* scenarios run against it (GET /).
      const none = `${hello.url}/-`;
      targets.push({
        name: 'koa-hello',
        kind: 'hello',
        url: hello.url,
        discovery: { issuer: hello.url, authorization_endpoint: none, token_endpoint: none, jwks_uri: none },
        process: hello,
      });
    }
  }

  const cpuText = cpu.pinned
    ? `servers on core ${cpu.serverCore}, load generator on core ${cpu.loadCore}`
    : `not pinned (${cpu.reason})`;
  return {
    targets,
    processes,
    storage,
    description: [
      `FairyID ${runtime.note}`,
      `FairyID storage ${storage.description}`,
      `reference storage ${options.reference ? referenceStorage : '(not run)'}`,
      ...(processes.some((server) => server.name === 'koa-hello')
        ? ['api_* baseline: bare Koa hello world (bench/reference/koa-hello.ts)']
        : []),
      `${cpu.cores} cores, ${cpuText}`,
      `Node ${process.version}`,
    ].join('; '),
    environment: {
      runtime: runtime.note,
      fairyStorage: storage.description,
      referenceStorage: options.reference ? referenceStorage : null,
      cpu,
    },
  };
}

/** --target: an instance someone else runs, measured only through its public endpoints. */
export async function externalTarget(options: Options, log: Log): Promise<Setup> {
  const url = options.target!;
  const discovery = await fetchDiscovery(url);
  const outbox = await fetch(`${url}/dev/outbox`).then(
    (response) => response.ok,
    () => false,
  );
  const { webClient, machineClient, redirectUri } = options;
  const canSignIn = Boolean(webClient && redirectUri && outbox);
  if (webClient && !canSignIn) {
    log(
      `--web-client given, but ${redirectUri ? '' : 'no --redirect-uri; '}${outbox ? '' : `${url}/dev/outbox is not available`}: token scenarios skipped`,
    );
  }
  log(`measuring ${url} (issuer ${discovery.issuer}); no servers started, no reference`);
  return {
    targets: [
      {
        name: 'target',
        kind: 'fairy',
        url,
        discovery,
        ...(machineClient ? { machine: machineClient } : {}),
        ...(canSignIn ? pageSignIn(url, discovery, webClient!, redirectUri!) : {}),
      },
    ],
    processes: [],
    description: `external target ${url}; load generator not pinned; Node ${process.version}`,
    environment: { target: url, issuer: discovery.issuer, outbox },
  };
}

/** Tokens and complete sign-ins through the hosted pages, with codes read from /dev/outbox. */
function pageSignIn(base: string, discovery: Discovery, web: ClientCredentials, redirectUri: string): Partial<Target> {
  const signIn = (email: string, scope: string, resource?: string) =>
    signInAndExchange(base, discovery, web, redirectUri, email, scope, resource);
  return {
    web,
    mintTokens: (count) => inParallel(count, PREPARE_CONCURRENCY, () => signIn(benchEmail('token'), TOKEN_SCOPE)),
    signIn: (email) => signIn(email, SIGN_IN_SCOPE),
    personApiToken: async () => (await signIn(benchEmail('api'), API_SCOPE, `${discovery.issuer}/api`)).access_token,
  };
}

/**
 * --instances N: N FairyID processes on the same Postgres database and Redis prefix, all with the
 * first one's ISSUER, each pinned to one of the server cores in turn. Two targets: all N instances
 * (connections split evenly) and the first alone, so the ratio is N instances / one instance.
 */
async function startInstances(context: {
  options: Options;
  root: string;
  cleanups: Cleanups;
  log: Log;
  runtime: ReturnType<typeof chooseRuntime>;
  cpu: ReturnType<typeof planCpus>;
  storage: Storage;
  clients: Awaited<ReturnType<typeof registerClients>>;
}): Promise<Setup> {
  const { options, root, cleanups, log, runtime, cpu, storage, clients } = context;
  const n = options.instances;
  const instances: ServerProcess[] = [];
  for (let i = 0; i < n; i += 1) {
    const core = cpu.pinned ? cpu.instanceCores[i % cpu.instanceCores.length] : undefined;
    const issuer = instances[0]?.url;
    const instance = await startFairyId({
      runtime,
      storage,
      root,
      core,
      name: `FairyID#${i + 1}`,
      ...(issuer ? { issuer } : {}),
    });
    cleanups.add(() => instance.stop());
    instances.push(instance);
    log(
      `FairyID#${i + 1} at ${instance.url} (pid ${instance.pid})${core === undefined ? '' : ` on core ${core}`}, issuer ${issuer ?? instance.url}`,
    );
  }
  const first = instances[0]!;
  const discovery = await fetchDiscovery(first.url);
  const common = {
    kind: 'fairy' as const,
    url: first.url,
    discovery,
    machine: clients.machine,
    ...pageSignIn(first.url, discovery, clients.web, BENCH_REDIRECT_URI),
  };
  const cores = cpu.pinned
    ? [...new Set(instances.map((_, i) => cpu.instanceCores[i % cpu.instanceCores.length]))]
    : [];
  const coresText = !cpu.pinned
    ? `not pinned (${cpu.reason})`
    : cores.length === 1
      ? `all ${n} instances share core ${cores[0]} (${cpu.cores} cores: one is the load generator's), so this shows what ${n} processes do on one core, not scale-out; load generator on core ${cpu.loadCore}`
      : `instances on cores ${cores.join(', ')}, load generator on core ${cpu.loadCore}`;
  return {
    targets: [
      { ...common, name: `FairyID x${n}`, origins: instances.map((instance) => instance.url), servers: instances },
      { ...common, name: 'FairyID x1', process: first },
    ],
    processes: instances,
    storage,
    description: [
      `scale-out check: ${n} FairyID processes (${runtime.note}), same ISSUER ${first.url}`,
      `storage ${storage.description}`,
      `${cpu.cores} cores, ${coresText}`,
      `Node ${process.version}`,
    ].join('; '),
    environment: {
      runtime: runtime.note,
      fairyStorage: storage.description,
      instances: instances.map((i) => i.url),
      cpu,
    },
  };
}
