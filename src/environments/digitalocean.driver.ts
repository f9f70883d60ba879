// The DigitalOcean driver. An environment is a droplet booted from the rendered cloud-config, a
// block storage volume mounted at /home, and an account SSH key. DigitalOcean bills a powered-off
// droplet as if it ran, so `stop` shuts the droplet down cleanly, detaches the volume and destroys
// the droplet; `create` with the kept volume and key is the next start (the address may change,
// /home does not). Everything carries the tags `fairyid` and `fairyid-env-<environment id>`, so a
// repeated step finds what an interrupted one made, and `destroy` finds droplets nobody recorded.

import { createHash } from 'node:crypto';
import {
  createDoApi,
  type DoAction,
  type DoApi,
  type DoApiOptions,
  type DoDroplet,
  type DoSshKey,
  type DoVolume,
} from './digitalocean.api.ts';
import type { EnvironmentDriver, MachineSpec, MachineState, ProviderIds } from './driver.ts';
import { ProviderError } from './driver.ts';

export interface DigitalOceanDriverOptions extends DoApiOptions {
  /** How often actions and droplet states are polled (DigitalOcean asks for moderation: 3 s). */
  pollIntervalMs?: number;
  /** How long a clean `shutdown` may take before the droplet is powered off. */
  shutdownTimeoutMs?: number;
  /** How long any other action (power off, detach) may take before the step is retried later. */
  actionTimeoutMs?: number;
}

export const FAIRYID_TAG = 'fairyid';
export const environmentTag = (environmentId: string) => `fairyid-env-${environmentId}`;

export function createDigitalOceanDriver(options: DigitalOceanDriverOptions): EnvironmentDriver {
  const api = createDoApi(options);
  const pollMs = options.pollIntervalMs ?? 3000;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 60_000;
  const actionTimeoutMs = options.actionTimeoutMs ?? 120_000;
  const pause = () => new Promise((resolve) => setTimeout(resolve, pollMs));

  /** Polls an action to its end; `completed` is true, `errored` or too slow is false. */
  async function finished(action: DoAction, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let current = action;
    while (current.status === 'in-progress') {
      if (Date.now() > deadline) return false;
      await pause();
      current = await api.getAction(current.id);
    }
    return current.status === 'completed';
  }

  async function dropletStatus(id: string, wanted: DoDroplet['status'], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const droplet = await api.getDroplet(id);
      if (!droplet || droplet.status === wanted) return true;
      if (Date.now() > deadline) return false;
      await pause();
    }
  }

  /** The environment's droplets: the recorded one and any tagged ones (an unrecorded create). */
  async function dropletsOf(ids: ProviderIds, volume: DoVolume | undefined): Promise<DoDroplet[]> {
    const found = new Map<number, DoDroplet>();
    if (ids.machineId) {
      const droplet = await api.getDroplet(ids.machineId);
      if (droplet) found.set(droplet.id, droplet);
    }
    const tag = volume?.tags.find((candidate) => candidate.startsWith('fairyid-env-'));
    if (tag) for (const droplet of await api.dropletsByTag(tag)) found.set(droplet.id, droplet);
    return [...found.values()].filter((droplet) => droplet.status !== 'archive');
  }

  async function detach(volume: DoVolume, dropletId: number) {
    const action = await api.volumeAction(volume.id, {
      type: 'detach',
      droplet_id: dropletId,
      region: volume.region.slug,
    });
    if (!(await finished(action, actionTimeoutMs))) {
      throw new ProviderError('DigitalOcean did not detach the volume yet; trying again', true);
    }
  }

  /** Shuts a droplet down cleanly, powering it off only when the shutdown does not finish in time. */
  async function turnOff(droplet: DoDroplet) {
    if (droplet.status === 'off') return;
    const id = String(droplet.id);
    const shutdown = await api.dropletAction(id, 'shutdown');
    if ((await finished(shutdown, shutdownTimeoutMs)) && (await dropletStatus(id, 'off', shutdownTimeoutMs))) return;
    const powerOff = await api.dropletAction(id, 'power_off');
    if ((await finished(powerOff, actionTimeoutMs)) && (await dropletStatus(id, 'off', actionTimeoutMs))) return;
    throw new ProviderError('DigitalOcean did not power the machine off yet; trying again', true);
  }

  async function ensureSshKey(spec: MachineSpec, existing: ProviderIds) {
    if (existing.sshKeyId) {
      const key = await api.getSshKey(existing.sshKeyId);
      if (key) return key;
    }
    // The account keeps one key per fingerprint: looking it up first makes a repeat find it.
    const fingerprint = md5Fingerprint(spec.sshPublicKey);
    const known = await api.getSshKey(fingerprint);
    if (known) return known;
    try {
      return await api.createSshKey({ name: environmentTag(spec.environmentId), public_key: spec.sshPublicKey });
    } catch (error) {
      const raced = error instanceof ProviderError ? await api.getSshKey(fingerprint) : undefined;
      if (raced) return raced;
      throw error;
    }
  }

  async function ensureVolume(spec: MachineSpec, existing: ProviderIds) {
    if (existing.volumeId) {
      const volume = await api.getVolume(existing.volumeId);
      // Creating an empty one would quietly lose the person's files.
      if (!volume) throw new ProviderError('the volume holding /home no longer exists at DigitalOcean', false);
      return volume;
    }
    // Volume names are unique per region, which makes the name the idempotency key.
    const [known] = await api.volumesByName(spec.volume.name, spec.region);
    if (known) return known;
    try {
      return await api.createVolume({
        name: spec.volume.name,
        region: spec.region,
        size_gigabytes: spec.volume.sizeGigabytes,
        description: `/home of FairyID environment ${spec.environmentId}`,
        filesystem_type: 'ext4',
        filesystem_label: 'home',
        tags: [FAIRYID_TAG, environmentTag(spec.environmentId)],
      });
    } catch (error) {
      const [raced] = error instanceof ProviderError ? await api.volumesByName(spec.volume.name, spec.region) : [];
      if (raced) return raced;
      throw error;
    }
  }

  /** The environment's droplet: the recorded one, one an interrupted create made, or a new one. */
  async function ensureDroplet(spec: MachineSpec, existing: ProviderIds, key: DoSshKey, volume: DoVolume) {
    if (existing.machineId) {
      const droplet = await api.getDroplet(existing.machineId);
      if (droplet && droplet.status !== 'archive') return String(droplet.id);
    }
    const tagged = (await api.dropletsByTag(environmentTag(spec.environmentId))).filter(
      (droplet) => droplet.status !== 'archive',
    );
    // A tagged droplet that is off and without the volume is one a stop is destroying.
    const mine =
      tagged.find((droplet) => volume.droplet_ids.includes(droplet.id)) ??
      tagged.find((droplet) => droplet.status === 'new' || droplet.status === 'active');
    if (mine) return String(mine.id);
    if (volume.droplet_ids.length > 0) {
      throw new ProviderError('the volume holding /home is still attached to another machine', true);
    }
    const droplet = await api.createDroplet({
      name: spec.hostname,
      region: spec.region,
      size: spec.size,
      image: spec.image,
      ssh_keys: [key.id],
      user_data: spec.userData,
      tags: [FAIRYID_TAG, environmentTag(spec.environmentId)],
      volumes: [volume.id],
    });
    return String(droplet.id);
  }

  return {
    name: 'digitalocean',

    async create(spec: MachineSpec, existing: ProviderIds): Promise<ProviderIds> {
      let key: DoSshKey | undefined;
      let volume: DoVolume | undefined;
      try {
        key = await ensureSshKey(spec, existing);
        volume = await ensureVolume(spec, existing);
        return {
          volumeId: volume.id,
          sshKeyId: String(key.id),
          machineId: await ensureDroplet(spec, existing, key, volume),
        };
      } catch (error) {
        // A refusal (an unknown size or region) ends the creation, and the reconciler learns no ids
        // from a throw: what it has not recorded is removed now instead of being left at the provider.
        // A start after a stop has both recorded, so its volume and key are never touched here.
        if (error instanceof ProviderError && !error.retryable) {
          if (volume && !existing.volumeId && volume.droplet_ids.length === 0) await api.deleteVolume(volume.id);
          if (key && !existing.sshKeyId) await api.deleteSshKey(String(key.id));
        }
        throw error;
      }
    },

    async inspect(ids: ProviderIds): Promise<MachineState> {
      const droplet = ids.machineId ? await api.getDroplet(ids.machineId) : undefined;
      if (!droplet || droplet.status === 'archive') return { status: 'missing' };
      const address = droplet.networks.v4.find((network) => network.type === 'public')?.ip_address;
      const status = droplet.status === 'new' ? 'creating' : droplet.status;
      return address ? { status, address: { host: address, port: 22 } } : { status };
    },

    async stop(ids: ProviderIds): Promise<ProviderIds> {
      const volume = ids.volumeId ? await api.getVolume(ids.volumeId) : undefined;
      for (const droplet of await dropletsOf(ids, volume)) {
        await turnOff(droplet);
        if (volume?.droplet_ids.includes(droplet.id)) await detach(volume, droplet.id);
        await api.deleteDroplet(String(droplet.id));
      }
      return { volumeId: ids.volumeId, sshKeyId: ids.sshKeyId };
    },

    async destroy(ids: ProviderIds): Promise<void> {
      const volume = ids.volumeId ? await api.getVolume(ids.volumeId) : undefined;
      for (const droplet of await dropletsOf(ids, volume)) {
        // Detached first: a volume still attached cannot be deleted.
        if (volume?.droplet_ids.includes(droplet.id)) await detach(volume, droplet.id);
        await api.deleteDroplet(String(droplet.id));
      }
      if (volume) await api.deleteVolume(volume.id);
      if (ids.sshKeyId) await api.deleteSshKey(ids.sshKeyId);
    },
  };
}

/** DigitalOcean names account keys by the MD5 fingerprint of the key blob, as `aa:bb:...`. */
export function md5Fingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob) throw new ProviderError('the environment public key is not an OpenSSH key line', false);
  const digest = createHash('md5').update(Buffer.from(blob, 'base64')).digest('hex');
  return digest.match(/../g)?.join(':') ?? digest;
}

export type { DoApi };
