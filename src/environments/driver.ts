// The seam between the environments domain and whatever runs the machines. The reconciler calls a
// driver one small step at a time and records what it returns, so a restart between two steps picks
// up where it left off: every call must be safe to repeat with the ids it returned last time.

/** Where cloud-init writes what its modules (runcmd, packages) print, on a droplet. */
export const CLOUD_INIT_OUTPUT_LOG = '/var/log/cloud-init-output.log';

/** What a driver needs to bring one machine up (first start, or a start after a stop). */
export interface MachineSpec {
  /** Our environment id: drivers name and tag what they create with it, to find it again after a crash. */
  environmentId: string;
  /** A hostname-safe name for the machine. */
  hostname: string;
  /** The provider's size slug, from the environment's tier. */
  size: string;
  region: string;
  /** The provider's image slug, from the template. */
  image: string;
  /** The rendered `#cloud-config`: the template's parts plus the user, host keys and phone_home. */
  userData: string;
  /** The environment's own public key (an OpenSSH line); FairyID connects with its private half. */
  sshPublicKey: string;
  /** The persistent volume mounted at /home; kept across stop and start. */
  volume: { name: string; sizeGigabytes: number };
}

/** What a driver created, as the provider names it. Missing fields were not created (yet). */
export interface ProviderIds {
  machineId?: string;
  volumeId?: string;
  sshKeyId?: string;
}

export type MachineStatus = 'creating' | 'active' | 'off' | 'missing';

export interface MachineState {
  status: MachineStatus;
  /** Where sshd answers, once the provider has given the machine an address. */
  address?: { host: string; port: number };
  /** Where the machine keeps cloud-init's output log, when not at CLOUD_INIT_OUTPUT_LOG as on a droplet. */
  outputLog?: string;
}

export interface EnvironmentDriver {
  readonly name: 'digitalocean' | 'local';
  /**
   * Ensures the SSH key and the volume exist (reusing `existing` ones), then asks for a machine with
   * the volume attached. Returns once the provider has accepted the request; the machine is usually
   * still `creating`. A repeat after a crash finds what the earlier attempt made instead of doubling it.
   */
  create(spec: MachineSpec, existing: ProviderIds): Promise<ProviderIds>;
  /** The machine's state as the provider reports it; `missing` when there is no machine. */
  inspect(ids: ProviderIds): Promise<MachineState>;
  /**
   * Saves money without losing files: shuts the machine down cleanly, detaches the volume and
   * destroys the machine. Returns the ids that remain (the volume, the SSH key).
   */
  stop(ids: ProviderIds): Promise<ProviderIds>;
  /** Removes everything `create` made. Pieces already gone are not an error. */
  destroy(ids: ProviderIds): Promise<void>;
}

/**
 * A provider refusal or failure. `retryable` failures (rate limits, 5xx, timeouts) are tried again
 * after `retryAfterMs` or a backoff; the others put the environment in `error` with `message`, which
 * is written for the person who owns the environment.
 */
export class ProviderError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(message: string, retryable: boolean, retryAfterMs?: number) {
    super(message);
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
    this.name = 'ProviderError';
  }
}
