import type { Options } from './options.ts';
import { chooseRuntime, planCpus } from './processes.ts';
import {
  BENCH_REDIRECT_URI,
  createStorage,
  registerClients,
  startFairyId,
  startReference,
  type Cleanups,
} from './servers.ts';
import { benchEmail, fetchDiscovery, inParallel, signInAndExchange, type ClientCredentials, type Discovery, type Target } from './target.ts';

/** Sign-ins run in parallel while refresh and access tokens are prepared through FairyID's pages. */
const PREPARE_CONCURRENCY = 4;
const TOKEN_SCOPE = 'openid email profile offline_access';
const SIGN_IN_SCOPE = 'openid email profile';

export type Setup = { targets: Target[]; description: string; environment: Record<string, unknown> };

type Log = (line: string) => void;

/** FairyID and the reference, started by this run on storage of the run's own. */
export async function startLocalTargets(options: Options, root: string, cleanups: Cleanups, log: Log): Promise<Setup> {
  const cpu = planCpus();
  const core = cpu.pinned ? cpu.serverCore : undefined;
  const runtime = chooseRuntime(options.runtime, root);
  log(`FairyID runtime: ${runtime.note}`);
  log(cpu.pinned ? `CPU: servers on core ${cpu.serverCore}, load generator on core ${cpu.loadCore}` : `CPU: not pinned (${cpu.reason})`);

  const storage = await createStorage(cleanups);
  log(`FairyID storage: ${storage.description}`);
  log('registering clients through the CLI (before the server starts)');
  const clients = await registerClients(runtime, storage, root);

  const fairy = await startFairyId({ runtime, storage, root, core });
  cleanups.add(() => fairy.stop());
  log(`FairyID at ${fairy.url} (pid ${fairy.pid})`);
  const fairyDiscovery = await fetchDiscovery(fairy.url);
  const targets: Target[] = [
    {
      name: 'FairyID',
      url: fairy.url,
      discovery: fairyDiscovery,
      process: fairy,
      machine: clients.machine,
      ...pageSignIn(fairy.url, fairyDiscovery, clients.web, BENCH_REDIRECT_URI),
    },
  ];

  const referenceStorage = process.env.REDIS_URL
    ? 'minimal Redis adapter (bench/reference/redis-adapter.ts)'
    : "oidc-provider's built-in memory adapter";
  if (options.reference) {
    const reference = await startReference({ runtime, clients, root, core, cleanups });
    cleanups.add(() => reference.stop());
    log(`reference at ${reference.url} (pid ${reference.pid}), storage: ${referenceStorage}`);
    targets.push({
      name: 'reference',
      url: reference.url,
      discovery: await fetchDiscovery(reference.url),
      process: reference,
      machine: clients.machine,
      web: clients.web,
      mintTokens: (count) => reference.mint(count, clients.web.id),
      // The memory adapter is an LRU of 1000 entries: other scenarios' tokens evict prepared ones.
      volatileTokens: !process.env.REDIS_URL,
    });
  }

  const cpuText = cpu.pinned ? `servers on core ${cpu.serverCore}, load generator on core ${cpu.loadCore}` : `not pinned (${cpu.reason})`;
  return {
    targets,
    description: [
      `FairyID ${runtime.note}`,
      `FairyID storage ${storage.description}`,
      `reference storage ${options.reference ? referenceStorage : '(not run)'}`,
      `${cpu.cores} cores, ${cpuText}`,
      `Node ${process.version}`,
    ].join('; '),
    environment: { runtime: runtime.note, fairyStorage: storage.description, referenceStorage: options.reference ? referenceStorage : null, cpu },
  };
}

/** --target: an instance someone else runs, measured only through its public endpoints. */
export async function externalTarget(options: Options, log: Log): Promise<Setup> {
  const url = options.target!;
  const discovery = await fetchDiscovery(url);
  const outbox = await fetch(`${url}/dev/outbox`).then((response) => response.ok, () => false);
  const { webClient, machineClient, redirectUri } = options;
  const canSignIn = Boolean(webClient && redirectUri && outbox);
  if (webClient && !canSignIn) {
    log(`--web-client given, but ${redirectUri ? '' : 'no --redirect-uri; '}${outbox ? '' : `${url}/dev/outbox is not available`}: token scenarios skipped`);
  }
  log(`measuring ${url} (issuer ${discovery.issuer}); no servers started, no reference`);
  return {
    targets: [
      {
        name: 'target',
        url,
        discovery,
        ...(machineClient ? { machine: machineClient } : {}),
        ...(canSignIn ? pageSignIn(url, discovery, webClient!, redirectUri!) : {}),
      },
    ],
    description: `external target ${url}; load generator not pinned; Node ${process.version}`,
    environment: { target: url, issuer: discovery.issuer, outbox },
  };
}

/** Tokens and complete sign-ins through the hosted pages, with codes read from /dev/outbox. */
function pageSignIn(base: string, discovery: Discovery, web: ClientCredentials, redirectUri: string): Partial<Target> {
  const signIn = (email: string, scope: string) => signInAndExchange(base, discovery, web, redirectUri, email, scope);
  return {
    web,
    mintTokens: (count) => inParallel(count, PREPARE_CONCURRENCY, () => signIn(benchEmail('token'), TOKEN_SCOPE)),
    signIn: (email) => signIn(email, SIGN_IN_SCOPE),
  };
}
