// The development driver: every environment is a real sshd on this computer (see local-machine.ts).
// Machines run as child processes of the server, so they live exactly as long as it does: `close()`
// stops them all, and after a restart `inspect` reports them `missing` and the reconciler starts
// them again from the kept volume, as it would recreate a lost droplet.
//
// Addresses: the embedded default is 127.0.0.1 with a free port per machine, because that works
// without root and needs no address configuration on a laptop. `hostFor` gives each machine an
// address of its own instead (e.g. 127.0.0.N on port 22, as root), which is what a droplet has.

import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { EnvironmentDriver, MachineSpec, MachineState, ProviderIds } from './driver.ts';
import { ProviderError } from './driver.ts';
import {
  findSshd,
  type LocalMachine,
  LocalMachineError,
  parseCloudConfig,
  startLocalMachine,
} from './local-machine.ts';

export interface LocalDriverOptions {
  /** DATA_DIR: volumes live in `<dataDir>/environments/<volume name>`, run folders beside them. */
  dataDir: string;
  /** The sshd binary; /usr/sbin/sshd or the first on PATH when absent. */
  sshd?: string;
  /** Chooses the address of a machine; by default 127.0.0.1 and a port the system reports free. */
  hostFor?: (spec: MachineSpec) => Promise<{ host: string; port: number }>;
  /** Replaces the cloud-config's phone_home URL (when FairyID listens somewhere else locally). */
  phoneHomeUrl?: (spec: MachineSpec) => string | undefined;
  /** cloud-init waits 3 s between phone_home tries. */
  phoneHomeIntervalMs?: number;
  /** What the machine could not apply (`packages`, `mounts`, ...), and runcmd or phone_home failures. */
  onWarnings?: (environmentId: string, warnings: string[]) => void;
  log?: (line: string) => void;
}

export interface LocalDriver extends EnvironmentDriver {
  readonly name: 'local';
  /** Stops every machine this driver started; volumes stay. Called when the server shuts down. */
  close(): Promise<void>;
  /** The parts of a cloud-config a local machine does not apply, to show before creating one. */
  unsupportedParts(userData: string): string[];
}

interface Running {
  environmentId: string;
  starting: Promise<LocalMachine>;
  machine?: LocalMachine;
  failure?: Error;
}

const SAFE_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

export function createLocalDriver(options: LocalDriverOptions): LocalDriver {
  const root = join(options.dataDir, 'environments');
  const machines = new Map<string, Running>();
  const volumeDir = (volumeId: string) => {
    if (!SAFE_NAME.test(volumeId)) throw new ProviderError(`bad local volume name: ${volumeId}`, false);
    return join(root, volumeId);
  };
  const runDir = (machineId: string) => join(root, '.run', machineId);
  // One machine per environment at a time: its id names the environment, so a repeated create
  // after a crash finds the machine the first attempt started.
  const machineIdFor = (environmentId: string) =>
    `local-${createHash('sha256').update(environmentId).digest('hex').slice(0, 16)}`;

  const stopMachine = async (machineId: string) => {
    const running = machines.get(machineId);
    if (!running) return;
    const machine = running.machine ?? (await running.starting.catch(() => undefined));
    await machine?.stop();
    machines.delete(machineId);
    await rm(runDir(machineId), { recursive: true, force: true });
  };

  return {
    name: 'local',

    async create(spec: MachineSpec, existing: ProviderIds): Promise<ProviderIds> {
      try {
        await findSshd(options.sshd);
        parseCloudConfig(spec.userData);
      } catch (error) {
        if (error instanceof LocalMachineError) throw new ProviderError(error.message, false);
        throw error;
      }
      const volumeId = existing.volumeId ?? spec.volume.name;
      const dir = volumeDir(volumeId);
      // The key travels in the cloud-config like on a droplet; there is no account key to create.
      const sshKeyId =
        existing.sshKeyId ?? `local-key-${createHash('sha256').update(spec.sshPublicKey).digest('hex').slice(0, 16)}`;
      const machineId = machineIdFor(spec.environmentId);
      if (machines.has(machineId)) return { machineId, volumeId, sshKeyId };

      const address = await (options.hostFor ?? freeLoopbackPort)(spec);
      const running: Running = {
        environmentId: spec.environmentId,
        starting: startLocalMachine({
          cloudConfig: withAuthorizedKey(spec.userData, spec.sshPublicKey),
          host: address.host,
          port: address.port,
          sshd: options.sshd,
          volumeDir: dir,
          runDir: runDir(machineId),
          instanceId: machineId,
          hostname: spec.hostname,
          phoneHomeUrl: options.phoneHomeUrl?.(spec),
          phoneHomeIntervalMs: options.phoneHomeIntervalMs,
          log: options.log,
        }),
      };
      machines.set(machineId, running);
      running.starting.then(
        (machine) => {
          running.machine = machine;
          options.onWarnings?.(spec.environmentId, machine.warnings);
          void machine.finished.then(() => options.onWarnings?.(spec.environmentId, machine.warnings));
        },
        (error: Error) => {
          running.failure = error;
        },
      );
      return { machineId, volumeId, sshKeyId };
    },

    async inspect(ids: ProviderIds): Promise<MachineState> {
      const running = ids.machineId ? machines.get(ids.machineId) : undefined;
      if (!running) return { status: 'missing' };
      if (running.failure) {
        const message = running.failure.message;
        if (ids.machineId) await stopMachine(ids.machineId);
        // The free port can be taken between choosing it and sshd binding it: the next create picks another.
        const retryable = /Address already in use/i.test(message);
        throw new ProviderError(`the local machine did not start: ${message}`, retryable);
      }
      const machine = running.machine;
      if (!machine) return { status: 'creating' };
      if (!machine.running()) return { status: 'off' };
      return { status: 'active', address: { host: machine.host, port: machine.port }, outputLog: machine.outputLog };
    },

    async stop(ids: ProviderIds): Promise<ProviderIds> {
      if (ids.machineId) await stopMachine(ids.machineId);
      return { volumeId: ids.volumeId, sshKeyId: ids.sshKeyId };
    },

    async destroy(ids: ProviderIds): Promise<void> {
      if (ids.machineId) await stopMachine(ids.machineId);
      if (ids.volumeId) await rm(volumeDir(ids.volumeId), { recursive: true, force: true });
    },

    async close() {
      await Promise.all([...machines.keys()].map((machineId) => stopMachine(machineId)));
    },

    unsupportedParts(userData: string) {
      return parseCloudConfig(userData).warnings;
    },
  };
}

/** 127.0.0.1 and a port the kernel just handed out (free now; sshd binds it a moment later). */
async function freeLoopbackPort(): Promise<{ host: string; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new ProviderError('no free loopback port', true);
  return { host: '127.0.0.1', port: address.port };
}

/**
 * The spec's public key is the one FairyID connects with; a droplet receives it through the
 * account's SSH keys as well as the cloud-config, so the local machine authorizes it for the
 * cloud-config's first user in case the rendered document does not list it.
 */
function withAuthorizedKey(userData: string, publicKey: string): string {
  const doc = parseYaml(userData) as { users?: unknown[] } | null;
  const first = doc?.users?.find((user): user is { ssh_authorized_keys?: string[] } => typeof user === 'object');
  if (!doc || !first) return userData;
  const keys = (first.ssh_authorized_keys ?? []).map(String);
  if (keys.some((key) => key.trim() === publicKey.trim())) return userData;
  first.ssh_authorized_keys = [...keys, publicKey.trim()];
  return `#cloud-config\n${stringifyYaml(doc)}`;
}
