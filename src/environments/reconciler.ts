import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/audit.service.ts';
import type { EnvironmentSettings } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { LedgerService } from '../ledger/ledger.service.ts';
import type { Clock } from '../shared/clock.ts';
import { createPeriodicJob, type Ticker } from '../shared/periodic-job.ts';
import { runInRequestScope } from '../shared/request-scope.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import { renderCloudConfig } from './cloud-config.ts';
import {
  type EnvironmentDriver,
  type MachineSpec,
  type MachineState,
  ProviderError,
  type ProviderIds,
} from './driver.ts';
import type { EnvironmentNotice } from './environment-email.ts';
import { createEnvironmentRepository } from './environment.repository.ts';
import { auditStateChange } from './state-change-audit.ts';
import { HOUR_MS, runReference, TIER_VOLUME_GB, walletOf, type EnvironmentService } from './environment.service.ts';
import type { Environment, EnvironmentState } from './environment.table.ts';
import type { MachineKeySeal } from './machine-keys.ts';
import { collectMachineOutput } from './machine-output.ts';
import { type MachineLogin, probeMachine } from './ssh-probe.ts';
import type { TemplateCatalog } from './template-catalog.ts';
import type { CloudConfigParts } from './template.ts';
import type { FailureCause } from './trail-text.ts';
import { required } from '../shared/required.ts';

const LEASE_MS = 120_000;
const BATCH = 10;
const MAX_BACKOFF_MS = 300_000;
// Failures that are not the provider's answer (a bug, a dropped connection) get this many tries.
const MAX_UNEXPECTED_ATTEMPTS = 8;
const POLL_MS = 2000;

export type ReconcilerDeps = {
  db: Db;
  clock: Clock;
  settings: EnvironmentSettings;
  driver: EnvironmentDriver | undefined;
  service: EnvironmentService;
  templates: TemplateCatalog;
  keySeal: MachineKeySeal;
  ledger: LedgerService;
  audit: AuditService;
  /** Emails the people `noticeRecipients` names (the owner; an organization's owners and admins); never fatal. */
  notify(environment: Environment, notice: EnvironmentNotice): Promise<void>;
  pageUrl: string;
  log: Logger;
  /** What starts a pass every ENVIRONMENT_RECONCILE_MS; real timers unless a test turns it by hand. */
  ticker?: Ticker | undefined;
  /** environment.stopped of FairyID's own stops commits with the stop. */
  events: EventRecorder;
};

/** A start whose template was removed from the catalog meanwhile: no provider can make that machine. */
class TemplateGone extends ProviderError {
  readonly template: string;

  constructor(template: string) {
    super(`The template ${template} no longer exists.`, false);
    this.template = template;
  }
}

/** Why a step failed, kept in the trail's detail beside the English message (trail-text.ts words it). */
const causeOf = (provider: ProviderError | undefined): FailureCause =>
  provider instanceof TemplateGone
    ? { cause: 'template_gone', template: provider.template }
    : provider
      ? { cause: 'provider', provider_message: provider.message }
      : { cause: 'unreachable' };

const sameKey = (a: string, b: string) => a.split(/\s+/).slice(0, 2).join(' ') === b.split(/\s+/).slice(0, 2).join(' ');
const idsOf = (environment: Environment): ProviderIds => ({
  ...(environment.machine_id ? { machineId: environment.machine_id } : {}),
  ...(environment.volume_id ? { volumeId: environment.volume_id } : {}),
  ...(environment.ssh_key_id ? { sshKeyId: environment.ssh_key_id } : {}),
});
const storedIds = (ids: ProviderIds) => ({
  machine_id: ids.machineId ?? null,
  volume_id: ids.volumeId ?? null,
  ssh_key_id: ids.sshKeyId ?? null,
});

/** The trail's record of a machine first seen up, timed from the start of the transition. */
const machineCreated = (environment: Environment, host: string, now: Date) => ({
  environment_id: environment.id,
  kind: 'machine_created',
  from_state: environment.state,
  to_state: null,
  message: `Machine up at ${host}`,
  actor_id: null,
  client_id: null,
  detail: {
    host,
    elapsed_ms: now.getTime() - (environment.transition_started_at ?? environment.created_at).getTime(),
  },
  created_at: now,
});

/**
 * Drives every environment toward its desired state, one small idempotent driver step per visit.
 * Work is claimed row by row with a lease (see `claimDue`), so several instances share it without
 * doing anything twice, and a restart mid-transition resumes from the ids recorded after each step.
 * Running environments are visited too: each started hour is booked once, and idle ones are warned
 * and then stopped.
 */
export function createReconciler(deps: ReconcilerDeps) {
  const { clock, settings, log } = deps;
  const repo = createEnvironmentRepository(deps.db);
  const instance = randomUUID();

  const since = (date: Date | null) => (date ? clock.now() - date.getTime() : 0);

  /** The trail's entry of a step of FairyID's own (no person acted). */
  const trailEntry = (
    environment: Environment,
    kind: string,
    to: EnvironmentState | null,
    message: string | null,
    detail: Record<string, unknown>,
  ) => ({
    environment_id: environment.id,
    kind,
    from_state: environment.state,
    to_state: to,
    message,
    actor_id: null,
    client_id: null,
    detail,
    created_at: new Date(clock.now()),
  });

  async function event(
    environment: Environment,
    kind: string,
    to: EnvironmentState | null,
    message: string | null,
    detail: Record<string, unknown> = {},
  ) {
    await repo.insertEvent(trailEntry(environment, kind, to, message, detail));
    if (to && to !== environment.state) await auditStateChange(deps.audit, environment, to, message);
  }

  async function spec(environment: Environment): Promise<MachineSpec> {
    const template = await deps.templates.find(environment.template);
    if (!template) throw new TemplateGone(environment.template);
    const volumeName = `fairyid-${environment.id}`;
    return {
      environmentId: environment.id,
      hostname: `env-${environment.id.slice(0, 8)}`,
      size: environment.size,
      region: environment.region,
      image: environment.image,
      userData: renderCloudConfig({
        parts: template.user_data as CloudConfigParts,
        clientPublicKey: environment.client_public_key,
        hostPrivateKey: deps.keySeal.open(environment.id, 'host', environment.host_private_key_sealed),
        hostPublicKey: environment.host_public_key,
        phoneHomeUrl: deps.service.phoneHomeUrl(
          environment.id,
          required(environment.transition_started_at, 'the transition start'),
        ),
        volumeName,
      }),
      sshPublicKey: environment.client_public_key,
      volume: { name: volumeName, sizeGigabytes: TIER_VOLUME_GB[environment.tier as keyof typeof TIER_VOLUME_GB] },
    };
  }

  const loginTo = (environment: Environment, address: { host: string; port: number }): MachineLogin => ({
    host: address.host,
    port: address.port,
    username: deps.service.sshUser,
    privateKey: deps.keySeal.open(environment.id, 'client', environment.client_private_key_sealed),
    hostPublicKey: environment.host_public_key,
    timeoutMs: 10_000,
  });

  /** The machine's cloud-init output since the last visit, into the trail (see machine-output.ts). */
  const copyOutput = (environment: Environment, machine: MachineState, final: boolean) =>
    machine.address
      ? collectMachineOutput({
          repo,
          clock,
          environment,
          login: loginTo(environment, machine.address),
          path: machine.outputLog,
          final,
        })
      : Promise.resolve();

  /** Ready: phone_home arrived (or the SSH probe passed). Only once per start, under the row lock. */
  async function markReady(
    environmentId: string,
    via: 'phone_home' | 'ssh_probe',
    address?: { host: string; port: number },
  ): Promise<boolean> {
    const now = new Date(clock.now());
    const ready = await deps.db.transaction().execute(async (trx) => {
      const tx = createEnvironmentRepository(trx);
      const environment = await tx.lock(environmentId);
      if (!environment || (environment.state !== 'provisioning' && environment.state !== 'starting')) return undefined;
      const machineCreatedAt = environment.machine_created_at ?? (address ? now : null);
      await tx.update(environmentId, {
        state: 'running',
        running_since: now,
        metered_hours: 0,
        last_activity_at: now,
        idle_warned_at: null,
        low_balance_warned_at: null,
        phone_home_hash: null,
        last_error: null,
        attempts: 0,
        next_attempt_at: now,
        machine_created_at: machineCreatedAt,
        ...(address ? { ip_address: address.host, ssh_port: address.port } : {}),
        updated_at: now,
      });
      const started = environment.transition_started_at ?? environment.created_at;
      if (!environment.machine_created_at && address) {
        // phone_home came before the reconciler saw the machine up: the trail still shows both phases.
        await tx.insertEvent(machineCreated(environment, address.host, now));
      }
      const timings = {
        via,
        requested_at: started.toISOString(),
        machine_created_at: machineCreatedAt?.toISOString() ?? null,
        ready_at: now.toISOString(),
        total_ms: now.getTime() - started.getTime(),
        ...(machineCreatedAt ? { machine_to_ready_ms: now.getTime() - machineCreatedAt.getTime() } : {}),
      };
      await tx.insertEvent({
        environment_id: environmentId,
        kind: 'ready',
        from_state: environment.state,
        to_state: 'running',
        message:
          via === 'phone_home'
            ? 'Ready: the machine reported that cloud-init finished'
            : 'Ready: reached over SSH with the pinned host key (no phone_home arrived)',
        actor_id: null,
        client_id: null,
        detail: timings,
        created_at: now,
      });
      return environment;
    });
    if (!ready) return false;
    await auditStateChange(deps.audit, ready, 'running', via);
    job.wake();
    return true;
  }

  /** provisioning or starting: ask for the machine, watch it come up, wait for it to be ready. */
  async function advanceStart(environment: Environment, driver: EnvironmentDriver): Promise<number> {
    if (since(environment.transition_started_at) > settings.readyTimeoutSeconds * 1000) {
      // Never ready: do not leave a machine billing at the provider; the volume and key stay.
      const remaining = await driver.stop(idsOf(environment));
      const minutes = Math.round(settings.readyTimeoutSeconds / 60);
      const message = `The machine did not become ready within ${minutes} minutes.`;
      if (
        await repo.updateIf(environment.id, [environment.state], {
          ...storedIds(remaining),
          state: 'error',
          last_error: message,
          phone_home_hash: null,
          ip_address: null,
          updated_at: new Date(clock.now()),
        })
      )
        await event(environment, 'error', 'error', message, { cause: 'ready_timeout', minutes } satisfies FailureCause);
      return 0;
    }
    if (!environment.machine_id) {
      const ids = await driver.create(await spec(environment), idsOf(environment));
      // Recorded whatever the state is now: a stop or delete that came meanwhile must find these ids.
      await repo.update(environment.id, { ...storedIds(ids), updated_at: new Date(clock.now()) });
      await event(environment, 'machine_requested', null, 'Machine requested from the provider', {
        elapsed_ms: since(environment.transition_started_at),
      });
      return 1000;
    }
    const machine = await driver.inspect(idsOf(environment));
    if (machine.status === 'missing') {
      await repo.update(environment.id, {
        machine_id: null,
        machine_created_at: null,
        updated_at: new Date(clock.now()),
      });
      await event(environment, 'machine_lost', null, 'The machine disappeared at the provider; asking for a new one');
      return 0;
    }
    if (machine.status !== 'active' || !machine.address) return POLL_MS;
    if (!environment.machine_created_at) {
      const now = new Date(clock.now());
      const address = machine.address;
      // One transaction, conditional on no machine yet: a phone_home that arrived meanwhile has
      // recorded the machine (and made it ready) already, and the trail must not show it twice.
      const first = await deps.db.transaction().execute(async (trx) => {
        const tx = createEnvironmentRepository(trx);
        const recorded = await tx.recordMachineCreated(environment.id, [environment.state], {
          machine_created_at: now,
          ip_address: address.host,
          ssh_port: address.port,
          updated_at: now,
        });
        if (recorded) await tx.insertEvent(machineCreated(environment, address.host, now));
        return recorded;
      });
      return first ? Math.min(settings.phoneHomeGraceSeconds * 1000, POLL_MS) : 0;
    }
    // While cloud-init runs, its output is followed every POLL_MS, so the page shows the boot as it goes.
    await copyOutput(environment, machine, false);
    const waited = since(environment.machine_created_at);
    if (waited < settings.phoneHomeGraceSeconds * 1000)
      return Math.min(settings.phoneHomeGraceSeconds * 1000 - waited, POLL_MS);
    const reachable = await probeMachine(loginTo(environment, machine.address));
    if (reachable) await markReady(environment.id, 'ssh_probe', machine.address);
    return reachable ? 0 : 10_000;
  }

  // The same stop as a suspension's (environment.service.ts), from the running state only.
  async function stopFor(
    environment: Environment,
    reason: 'insufficient_funds' | 'idle',
    message: string,
    facts: Record<string, unknown> = {},
  ) {
    await deps.service.systemStop(environment, ['running'], reason, message, facts);
  }

  /** running: book each started hour once, warn before the money runs out, warn and then stop when idle. */
  async function meter(environment: Environment, driver: EnvironmentDriver): Promise<number> {
    const machine = await driver.inspect(idsOf(environment));
    if (machine.status === 'missing') {
      // Lost at the provider (or, locally, with the server that ran it): rebuilt from the kept volume.
      const now = new Date(clock.now());
      if (
        await repo.updateIf(environment.id, ['running'], {
          state: 'starting',
          machine_id: null,
          machine_created_at: null,
          ip_address: null,
          ssh_port: null,
          running_since: null,
          metered_hours: 0,
          transition_started_at: now,
          phone_home_hash: deps.service.hashToken(deps.service.phoneHomeToken(environment.id, now)),
          updated_at: now,
        })
      )
        await event(
          environment,
          'machine_lost',
          'starting',
          'The machine is gone; starting a new one with the same volume',
        );
      return 0;
    }
    if (machine.address && machine.address.host !== environment.ip_address) {
      // Ready before the reconciler saw the machine's address (phone_home is fast locally).
      await repo.update(environment.id, {
        ip_address: machine.address.host,
        ssh_port: machine.address.port,
        machine_created_at: environment.machine_created_at ?? new Date(clock.now()),
      });
    }
    // What cloud-init printed between the last read and ready (the whole of it, when ready came
    // first), on the run's first visit: no hour is booked yet.
    if (environment.metered_hours === 0) await copyOutput(environment, machine, true);
    const runningSince = required(environment.running_since, 'the running start');
    const now = new Date(clock.now());
    const price = deps.service.priceOf(environment.tier);
    const wallet = walletOf(environment);
    const due = Math.floor((now.getTime() - runningSince.getTime()) / HOUR_MS) + 1;
    for (let hour = environment.metered_hours; hour < due; hour++) {
      if (price > 0) {
        try {
          await deps.ledger.chargeUsage({
            wallet,
            amount: price,
            reference: `${runReference(environment, runningSince)}${hour}`,
            description: `${environment.name}: hour ${hour + 1} (${environment.tier})`,
          });
        } catch (error) {
          if ((error as { code?: string }).code !== 'insufficient_funds') throw error;
          const message = `Stopped: the wallet could not pay hour ${hour + 1} (${price} DUST). Files are kept.`;
          await stopFor(environment, 'insufficient_funds', message, { hour: hour + 1, price });
          await deps.notify(environment, {
            kind: 'stopped_unpaid',
            name: environment.name,
            pricePerHour: price,
            link: deps.pageUrl,
          });
          return 0;
        }
      }
      await repo.updateIf(environment.id, ['running'], { metered_hours: hour + 1 });
    }

    const money = await deps.service.money(environment);
    if (money.balance < money.ratePerHour && !environment.low_balance_warned_at) {
      await repo.update(environment.id, { low_balance_warned_at: now });
      await event(environment, 'low_balance', null, `The wallet holds ${money.balance} DUST: less than an hour left`, {
        balance: money.balance,
      });
      await deps.notify(environment, {
        kind: 'low_balance',
        name: environment.name,
        balance: money.balance,
        pricePerHour: price,
        link: deps.pageUrl,
      });
    } else if (money.balance >= money.ratePerHour && environment.low_balance_warned_at) {
      await repo.update(environment.id, { low_balance_warned_at: null });
    }

    const idleMs = settings.idleMinutes * 60_000;
    const warningMs = settings.idleWarningMinutes * 60_000;
    const lastActivity = (environment.last_activity_at ?? runningSince).getTime();
    const warnAt = lastActivity + idleMs - warningMs;
    let nextIdle: number;
    if (!environment.idle_warned_at) {
      if (now.getTime() >= warnAt) {
        const stopAt = new Date(now.getTime() + warningMs);
        await repo.update(environment.id, { idle_warned_at: now });
        await event(
          environment,
          'idle_warning',
          null,
          `No activity: stops at ${stopAt.toISOString()} unless kept running`,
          { stop_at: stopAt.toISOString() },
        );
        await deps.notify(environment, { kind: 'idle_warning', name: environment.name, stopAt, link: deps.pageUrl });
        nextIdle = stopAt.getTime();
      } else nextIdle = warnAt;
    } else {
      const stopAt = Math.max(lastActivity + idleMs, environment.idle_warned_at.getTime() + warningMs);
      if (now.getTime() >= stopAt) {
        await stopFor(environment, 'idle', 'Stopped after the idle warning: no activity and nobody kept it running');
        await deps.notify(environment, { kind: 'stopped_idle', name: environment.name, link: deps.pageUrl });
        return 0;
      }
      nextIdle = stopAt;
    }
    const nextHour = runningSince.getTime() + due * HOUR_MS;
    return Math.min(Math.max(Math.min(nextHour, nextIdle) - now.getTime(), 1000), MAX_BACKOFF_MS);
  }

  async function stopMachine(environment: Environment, driver: EnvironmentDriver): Promise<number> {
    const remaining = await driver.stop(idsOf(environment));
    const now = new Date(clock.now());
    if (
      await repo.updateIf(environment.id, ['stopping'], {
        ...storedIds(remaining),
        state: 'stopped',
        ip_address: null,
        ssh_port: null,
        running_since: null,
        metered_hours: 0,
        machine_created_at: null,
        transition_started_at: null,
        phone_home_hash: null,
        updated_at: now,
      })
    ) {
      const why = environment.stop_reason ? ` (${environment.stop_reason.replace('_', ' ')})` : '';
      await event(environment, 'stopped', 'stopped', `Stopped${why}: machine removed, volume kept`, {
        reason: environment.stop_reason,
        elapsed_ms: since(environment.transition_started_at),
      });
    }
    return 0;
  }

  async function destroyMachine(environment: Environment, driver: EnvironmentDriver): Promise<number> {
    await driver.destroy(idsOf(environment));
    const now = new Date(clock.now());
    if (
      await repo.updateIf(environment.id, ['deleting'], {
        ...storedIds({}),
        state: 'deleted',
        ip_address: null,
        ssh_port: null,
        running_since: null,
        deleted_at: now,
        updated_at: now,
      })
    )
      await event(environment, 'deleted', 'deleted', 'Deleted: machine, volume and key removed at the provider');
    return 0;
  }

  async function work(environment: Environment, driver: EnvironmentDriver): Promise<number> {
    switch (environment.state) {
      case 'provisioning':
      case 'starting':
        return advanceStart(environment, driver);
      case 'running':
        return meter(environment, driver);
      case 'stopping':
        return stopMachine(environment, driver);
      case 'deleting':
        return destroyMachine(environment, driver);
      default:
        return MAX_BACKOFF_MS;
    }
  }

  /** One visit: the step, then the claim released with when to come back (sooner if someone asked). */
  async function visit(environment: Environment, driver: EnvironmentDriver) {
    // Delays are computed from the time the step started; counting them from its end would push the
    // next visit late by however long the step (or a clock jump meanwhile) took.
    const startedAt = clock.now();
    let delay: number;
    let attempts = 0;
    try {
      delay = await work(environment, driver);
    } catch (error) {
      attempts = environment.attempts + 1;
      const provider = error instanceof ProviderError ? error : undefined;
      const message = provider?.message ?? 'FairyID could not reach the machine provider.';
      if (!provider) log.error({ err: error, environmentId: environment.id }, 'environment step failed');
      const givesUp =
        environment.state !== 'deleting' &&
        environment.state !== 'running' &&
        ((provider && !provider.retryable) || (!provider && attempts >= MAX_UNEXPECTED_ATTEMPTS));
      if (givesUp) {
        const now = new Date(clock.now());
        if (
          await repo.updateIf(environment.id, [environment.state], {
            state: 'error',
            last_error: message,
            phone_home_hash: null,
            updated_at: now,
          })
        )
          await event(environment, 'error', 'error', message, causeOf(provider));
        delay = 0;
        attempts = 0;
      } else {
        // Exponential backoff, but never sooner than the provider asked (429 ratelimit-reset, Retry-After).
        const backoff = Math.min(1000 * 2 ** Math.min(attempts, 12), MAX_BACKOFF_MS);
        delay = Math.max(provider?.retryAfterMs ?? 0, backoff * (0.75 + Math.random() / 2));
        await repo.update(environment.id, { last_error: message });
        const seconds = Math.ceil(delay / 1000);
        await event(environment, 'retry', null, `Retrying in ${seconds} s: ${message}`, {
          attempt: attempts,
          retry_in_s: seconds,
          ...causeOf(provider),
        });
      }
    }
    await repo.release(environment.id, instance, {
      attempts,
      next_attempt_at: new Date(startedAt + delay),
    });
  }

  /** Everything due, claimed in batches until a batch comes back short. */
  async function reconcileDue() {
    const driver = deps.driver;
    if (!driver) return;
    for (;;) {
      const now = new Date(clock.now());
      const claimed = await repo.claimDue(instance, now, new Date(now.getTime() + LEASE_MS), BATCH);
      await Promise.all(claimed.map((environment) => visit(environment, driver)));
      if (claimed.length < BATCH || job.stopping) return;
    }
  }

  /**
   * Each pass runs under an id of its own, `reconcile-<uuid>`: the audit rows and events it writes
   * carry it as their request id, so everything one pass did can be found together.
   */
  const job = createPeriodicJob({
    intervalMs: settings.reconcileIntervalMs,
    pass: () => runInRequestScope(`reconcile-${randomUUID()}`, reconcileDue),
    onError: (error) => log.error({ err: error }, 'environment reconciler tick failed'),
    ticker: deps.ticker,
  });

  return {
    instance,
    wake: job.wake,
    markReady,
    /** For tests and operators: one full pass now, resolved when it is done. */
    tick: job.tick,
    start: job.start,
    stop: job.stop,

    /**
     * The machine's phone_home: single use, and refused when it presents a host key other than ours.
     * Running means reachable, so a phone_home that arrives before the reconciler has recorded the
     * machine and its address is `not_yet`: the machine phones again (cloud-init tries ten times).
     */
    async phoneHome(
      token: string,
      report: { pubKeyEd25519?: string | undefined },
    ): Promise<'ready' | 'not_yet' | 'unknown'> {
      const environment = await repo.findByPhoneHomeHash(deps.service.hashToken(token));
      if (!environment) return 'unknown';
      if (report.pubKeyEd25519 && !sameKey(report.pubKeyEd25519, environment.host_public_key)) {
        await event(environment, 'phone_home_refused', null, 'A phone_home presented another host key; ignored');
        return 'unknown';
      }
      const machine =
        environment.machine_id && deps.driver
          ? await deps.driver.inspect(idsOf(environment)).catch(() => undefined)
          : undefined;
      if (!machine?.address) return 'not_yet';
      return (await markReady(environment.id, 'phone_home', machine.address)) ? 'ready' : 'unknown';
    },

    /** What a driver reports about a machine (template parts it could not apply, say), into the trail. */
    async note(environmentId: string, message: string) {
      const environment = await repo.findById(environmentId);
      if (environment) await event(environment, 'machine_note', null, message);
    },
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
