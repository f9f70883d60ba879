import { type Text, text } from '../i18n/translator.ts';
import { trailText } from './trail-text.ts';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/audit.service.ts';
import type { EnvironmentSettings, Tier } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import { unitOfWork } from '../events/unit-of-work.ts';
import type { LedgerService } from '../ledger/ledger.service.ts';
import type { OrganizationService } from '../organizations/organization.service.ts';
import type { Role } from '../organizations/permissions.ts';
import type { PlanLimits } from '../billing/plan.service.ts';
import type { Clock } from '../shared/clock.ts';
import type { CursorKey } from '../shared/cursor.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';
import { environmentErrors as errors } from './environment.errors.ts';
import { environmentEvent } from './environment-events.ts';
import { createEnvironmentRepository, type EnvironmentRepository } from './environment.repository.ts';
import type { Environment, EnvironmentState } from './environment.table.ts';
import { generateMachineKeys, type MachineKeySeal } from './machine-keys.ts';
import type { TemplateCatalog } from './template-catalog.ts';
import { auditStateChange } from './state-change-audit.ts';
import { TEMPLATE_ID } from './template.ts';
import { required } from '../shared/required.ts';

/** The provider's size slug for each tier. */
export const TIER_SIZES: Record<Tier, string> = {
  free: 's-1vcpu-512mb-10gb',
  starter: 's-1vcpu-1gb',
  pro: 's-2vcpu-2gb',
};
/** The /home volume each tier gets, in GB. */
export const TIER_VOLUME_GB: Record<Tier, number> = { free: 5, starter: 10, pro: 25 };

export const HOUR_MS = 3600_000;

/** Roles in an organization and what they may do with its environments (README's table). */
const ORG_ENVIRONMENT_RULES = {
  use: ['owner', 'admin', 'member'],
  manage: ['owner', 'admin'],
  read: ['owner', 'admin', 'member', 'billing'],
} as const satisfies Record<string, readonly Role[]>;
type OrgAction = keyof typeof ORG_ENVIRONMENT_RULES;

/** Who asks: the person, the app they use (for the trail and the audit log) and where from. */
export type Actor = { accountId: string; clientId: string | undefined; origin: RequestOrigin };

export type CreateInput = {
  name: string;
  template: string;
  tier?: Tier | undefined;
  region?: string | undefined;
  organizationId?: string | undefined;
};

export type Wallet = { kind: 'person' | 'organization'; ownerId: string };

export const walletOf = (environment: Environment): Wallet =>
  environment.organization_id
    ? { kind: 'organization', ownerId: environment.organization_id }
    : { kind: 'person', ownerId: required(environment.account_id, 'the owning account') };

const ownerOf = (environment: Pick<Environment, 'account_id' | 'organization_id'>) =>
  environment.organization_id
    ? { organization_id: environment.organization_id }
    : { account_id: required(environment.account_id, 'the owning account') };

/** Reference prefix of the ledger bookings of one run: `environment:<id>:<run start ms>:`. */
export const runReference = (environment: Pick<Environment, 'id'>, runningSince: Date) =>
  `environment:${environment.id}:${runningSince.getTime()}:`;

/** Why FairyID itself stopped an environment (stop_reason): its wallet ran dry, it sat idle, its owner was suspended. */
export type SystemStopReason = 'insufficient_funds' | 'idle' | 'account_suspended';

/** How environment.stopped names each of FairyID's own stops (the event catalog's words). */
const PUBLISHED_STOP = {
  insufficient_funds: 'insufficient_dust',
  idle: 'idle',
  account_suspended: 'account_suspended',
} as const satisfies Record<SystemStopReason, string>;

/** The states a stop applies to: a machine exists, or is on its way. */
const STOPPABLE: EnvironmentState[] = ['provisioning', 'starting', 'running', 'error'];

export type EnvironmentServiceDeps = {
  db: Db;
  clock: Clock;
  settings: EnvironmentSettings;
  /** Where machines post phone_home: this server's public address. */
  issuer: string;
  secret: string;
  keySeal: MachineKeySeal;
  templates: TemplateCatalog;
  ledger: LedgerService;
  organizations: OrganizationService;
  limitsFor(organizationId: string): Promise<PlanLimits>;
  audit: AuditService;
  /** Each change's catalog event (environment.created, …) commits with it. */
  events: EventRecorder;
  /** Tells the reconciler there is work now rather than at its next poll. */
  wake(): void;
  available: boolean;
  /** The account FairyID and the owner sign in as (the local driver without root serves the current user). */
  sshUser: string;
};

/** What each person's transition publishes; FairyID's own stops are the reconciler's. */
const PUBLISHED = {
  start: { type: 'environment.started' },
  stop: { type: 'environment.stopped', reason: 'requested' },
  delete: { type: 'environment.deleted' },
} as const;

/**
 * What people do with environments: create, start, stop, rename, delete, keep running. Each call
 * only records the wish and the new state in one transaction with its event; the reconciler does
 * the provider work, so an API call never waits on a cloud and a crash never leaves half a request.
 */
export function createEnvironmentService(deps: EnvironmentServiceDeps) {
  const { db, clock, settings } = deps;
  const read = createEnvironmentRepository(db);
  const inTransaction = unitOfWork(db, deps.events, createEnvironmentRepository);

  const priceOf = (tier: string) => settings.prices[tier as Tier] ?? 0;
  const walletBalance = (wallet: Wallet) => deps.ledger.balance(wallet.kind, wallet.ownerId);

  /** The caller's role in an organization (404 to non-members), checked against an environment rule. */
  async function orgRole(accountId: string, organizationId: string, action: OrgAction, what: string) {
    const membership = await deps.organizations.authorize(accountId, organizationId, 'organization:read', what);
    if (!(ORG_ENVIRONMENT_RULES[action] as readonly Role[]).includes(membership.role)) throw errors.forbidden(what);
    return membership.role;
  }

  /** The environment if `actor` may `action` it; other people's are 404, never 403, so ids do not leak. */
  async function visible(accountId: string, id: string, action: OrgAction, what: string): Promise<Environment> {
    const environment = await read.findById(id);
    if (!environment || environment.state === 'deleted') throw errors.notFound();
    if (environment.account_id) {
      if (environment.account_id !== accountId) throw errors.notFound();
      return environment;
    }
    try {
      await orgRole(accountId, required(environment.organization_id, 'the owning organization'), action, what);
    } catch (error) {
      if ((error as { code?: string }).code === 'organization_not_found') throw errors.notFound();
      throw error;
    }
    return environment;
  }

  /** Phone-home secrets are derived, so a retried create renders the same cloud-config. */
  const phoneHomeToken = (environmentId: string, transitionStartedAt: Date) =>
    createHmac('sha256', deps.secret)
      .update(`phone-home:${environmentId}:${transitionStartedAt.getTime()}`)
      .digest('base64url');
  const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

  async function record(
    repo: EnvironmentRepository,
    environment: Environment,
    to: EnvironmentState,
    kind: string,
    actor: Actor | undefined,
    message?: string,
  ) {
    await repo.insertEvent({
      environment_id: environment.id,
      kind,
      from_state: environment.state,
      to_state: to,
      message: message ?? null,
      actor_id: actor?.accountId ?? null,
      client_id: actor?.clientId ?? null,
      created_at: new Date(clock.now()),
    });
  }

  async function audit(actor: Actor, event: Parameters<AuditService['record']>[0]['event'], environment: Environment) {
    await deps.audit.record({
      event,
      outcome: 'success',
      origin: actor.origin,
      accountId: actor.accountId,
      clientId: actor.clientId,
      organizationId: environment.organization_id ?? undefined,
      detail: { environment_id: environment.id, name: environment.name, organization_id: environment.organization_id },
    });
  }

  /** Moves to `to` from one of `from` with the event, under the row lock; the reconciler takes it from there. */
  async function transition(
    actor: Actor,
    id: string,
    from: EnvironmentState[],
    to: EnvironmentState,
    patch: Parameters<EnvironmentRepository['update']>[1],
    verb: keyof typeof PUBLISHED,
    // The phone_home secret is derived from this instant, so the caller who hashed it passes it in.
    now = new Date(clock.now()),
  ) {
    const updated = await inTransaction(async (repo, emit) => {
      const environment = await repo.lock(id);
      if (!environment) throw errors.notFound();
      if (!from.includes(environment.state)) throw errors.invalidTransition(environment.state, verb);
      await repo.update(id, {
        ...patch,
        state: to,
        transition_started_at: now,
        next_attempt_at: now,
        attempts: 0,
        last_error: null,
        updated_at: now,
      });
      await record(repo, environment, to, `${verb}_requested`, actor);
      await emit(environmentEvent(environment, actor, PUBLISHED[verb]));
      return required(await repo.findById(id), 'the environment just written');
    });
    deps.wake();
    return updated;
  }

  /**
   * FairyID's own stop, with nobody acting: marks the environment stopping (from one of `from`),
   * with its reason on the trail and in the audit log; the reconciler removes the machine and keeps
   * the volume. False when the environment had moved on meanwhile.
   */
  async function systemStop(
    environment: Environment,
    from: EnvironmentState[],
    reason: SystemStopReason,
    message: string,
    // The message's variable parts, for the trail's detail (trail-text.ts words it for a page).
    facts: Record<string, unknown> = {},
  ): Promise<boolean> {
    const now = new Date(clock.now());
    // The state, the trail's entry and environment.stopped commit together.
    const stopped = await inTransaction(async (repo, emit) => {
      const moved = await repo.updateIf(environment.id, from, {
        state: 'stopping',
        desired_state: 'stopped',
        stop_reason: reason,
        // As a person's stop: a machine still booting must not report itself ready afterwards.
        phone_home_hash: null,
        transition_started_at: now,
        next_attempt_at: now,
        attempts: 0,
        last_error: null,
        updated_at: now,
      });
      if (!moved) return false;
      await repo.insertEvent({
        environment_id: environment.id,
        kind: 'stop_requested',
        from_state: environment.state,
        to_state: 'stopping',
        message,
        actor_id: null,
        client_id: null,
        detail: { reason, ...facts },
        created_at: now,
      });
      await emit(
        environmentEvent(environment, 'system', { type: 'environment.stopped', reason: PUBLISHED_STOP[reason] }),
      );
      return true;
    });
    if (!stopped) return false;
    await auditStateChange(deps.audit, environment, 'stopping', message, { stop_reason: reason });
    return true;
  }

  async function requireFunds(wallet: Wallet, tier: string) {
    const price = priceOf(tier);
    if ((await walletBalance(wallet)) < price) throw errors.cannotPay(price);
  }

  return {
    sshUser: deps.sshUser,
    systemStop,

    /**
     * Stops every environment the person owns (their organizations' are the organizations' to run):
     * their account was suspended, so nothing of theirs keeps costing DUST or answering a terminal.
     * Nothing restarts them on reactivation; the person starts them again. Returns how many stopped.
     */
    async stopAllOf(accountId: string, reason: 'account_suspended', message: string): Promise<number> {
      let stopped = 0;
      for (const environment of await read.listOwnedIn(accountId, STOPPABLE)) {
        if (await systemStop(environment, STOPPABLE, reason, message)) stopped += 1;
      }
      if (stopped) deps.wake();
      return stopped;
    },

    priceOf,
    phoneHomeToken,
    hashToken,
    phoneHomeUrl: (environmentId: string, transitionStartedAt: Date) =>
      `${deps.issuer}/environments/phone-home/${phoneHomeToken(environmentId, transitionStartedAt)}`,

    async templates() {
      return deps.templates.offered();
    },

    /**
     * Creates at most one environment per (caller, Idempotency-Key): the same key and body answer
     * the environment the first request made (`replayed`), another body is 409. Limits are counted
     * under a per-owner lock, so concurrent creates cannot pass a limit together.
     */
    async create(actor: Actor, input: CreateInput, idempotency: { scope: string; key: string }) {
      if (!deps.available) throw errors.unavailable();
      const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('base64url');
      const replay = await read.findByIdempotencyKey(idempotency.scope, idempotency.key);
      if (replay) {
        if (replay.request_hash !== requestHash) throw errors.idempotencyKeyReused();
        return { environment: replay, replayed: true };
      }
      // Template ids are file names (template.ts); anything else is unknown without asking the database.
      const template = TEMPLATE_ID.test(input.template) ? await deps.templates.find(input.template) : undefined;
      if (!template || template.retired) throw errors.unknownTemplate(input.template);
      const tier = input.tier ?? (template.default_tier as Tier);
      const region = input.region ?? required(settings.regions[0], 'a configured region');
      if (!settings.regions.includes(region)) throw errors.unknownRegion(region, settings.regions);

      let limit: { plan: string; environments: number } | undefined;
      if (input.organizationId) {
        await orgRole(actor.accountId, input.organizationId, 'manage', 'create environments');
        await deps.organizations.requireActive(input.organizationId);
        limit = await deps.limitsFor(input.organizationId);
      }
      const wallet: Wallet = input.organizationId
        ? { kind: 'organization', ownerId: input.organizationId }
        : { kind: 'person', ownerId: actor.accountId };
      await requireFunds(wallet, tier);

      const id = randomUUID();
      const keys = generateMachineKeys(id);
      const now = new Date(clock.now());
      const result = await inTransaction(async (repo, emit) => {
        const owner = input.organizationId
          ? { organization_id: input.organizationId }
          : { account_id: actor.accountId };
        await repo.lockOwner(
          input.organizationId ? `organization:${input.organizationId}` : `account:${actor.accountId}`,
        );
        // A duplicate that waited on the owner lock finds the first request's environment here.
        const existing = await repo.findByIdempotencyKey(idempotency.scope, idempotency.key);
        if (existing) {
          if (existing.request_hash !== requestHash) throw errors.idempotencyKeyReused();
          return { environment: existing, replayed: true };
        }
        const live = await repo.countLive(owner);
        if (limit && live >= limit.environments) throw errors.planLimit(limit.plan, limit.environments);
        if (!limit && live >= settings.perPersonLimit) throw errors.personalLimit(settings.perPersonLimit);
        const environment = await repo.insert({
          id,
          account_id: input.organizationId ? null : actor.accountId,
          organization_id: input.organizationId ?? null,
          created_by: actor.accountId,
          name: input.name,
          template: template.id,
          tier,
          size: TIER_SIZES[tier],
          region,
          image: template.image,
          state: 'provisioning',
          desired_state: 'running',
          machine_id: null,
          volume_id: null,
          ssh_key_id: null,
          ip_address: null,
          ssh_port: null,
          client_public_key: keys.client.publicKey,
          client_private_key_sealed: deps.keySeal.seal(id, 'client', keys.client.privateKey),
          host_public_key: keys.host.publicKey,
          host_private_key_sealed: deps.keySeal.seal(id, 'host', keys.host.privateKey),
          phone_home_hash: hashToken(phoneHomeToken(id, now)),
          last_error: null,
          stop_reason: null,
          idempotency_scope: idempotency.scope,
          idempotency_key: idempotency.key,
          request_hash: requestHash,
          lease_owner: null,
          lease_until: null,
          next_attempt_at: now,
          transition_started_at: now,
          machine_created_at: null,
          running_since: null,
          last_activity_at: null,
          idle_warned_at: null,
          low_balance_warned_at: null,
          created_at: now,
          updated_at: now,
          deleted_at: null,
        });
        await repo.insertEvent({
          environment_id: id,
          kind: 'requested',
          from_state: null,
          to_state: 'provisioning',
          message: `Requested from template ${template.name}, ${tier} tier, region ${region}`,
          actor_id: actor.accountId,
          client_id: actor.clientId ?? null,
          detail: { template: template.name, tier, region },
          created_at: now,
        });
        await emit(environmentEvent(environment, actor, { type: 'environment.created' }));
        return { environment, replayed: false };
      });
      if (!result.replayed) {
        await audit(actor, 'environment_created', result.environment);
        deps.wake();
      }
      return result;
    },

    /** The person's own environments and those of every organization they belong to. */
    async list(accountId: string, page: { cursor: CursorKey | undefined; limit: number }) {
      const organizations = (await deps.organizations.membershipsOf(accountId)).map((row) => row.id);
      return read.listVisible(accountId, organizations, page.cursor, page.limit);
    },

    get: (accountId: string, id: string) => visible(accountId, id, 'read', 'see its environments'),
    /** The environment if the person may use it (type into its terminal); 404 or 403 otherwise. */
    usable: (accountId: string, id: string) => visible(accountId, id, 'use', 'use its environments'),

    async events(accountId: string, id: string, page: { cursor: CursorKey | undefined; limit: number }) {
      await visible(accountId, id, 'read', 'see its environments');
      return read.listEvents(id, page.cursor, page.limit);
    },

    async rename(actor: Actor, id: string, name: string) {
      const environment = await visible(actor.accountId, id, 'use', 'use its environments');
      const now = new Date(clock.now());
      await inTransaction(async (repo) => {
        await repo.update(id, { name, updated_at: now });
        await repo.insertEvent({
          environment_id: id,
          kind: 'renamed',
          from_state: environment.state,
          to_state: environment.state,
          message: `Renamed from ${environment.name} to ${name}`,
          actor_id: actor.accountId,
          client_id: actor.clientId ?? null,
          detail: { from: environment.name, to: name },
          created_at: now,
        });
      });
      await audit(actor, 'environment_renamed', { ...environment, name });
      return required(await read.findById(id), 'the environment just written');
    },

    async start(actor: Actor, id: string) {
      const environment = await visible(actor.accountId, id, 'use', 'use its environments');
      if (environment.organization_id) await deps.organizations.requireActive(environment.organization_id);
      await requireFunds(walletOf(environment), environment.tier);
      const now = new Date(clock.now());
      const started = await transition(
        actor,
        id,
        ['stopped', 'error'],
        'starting',
        {
          desired_state: 'running',
          stop_reason: null,
          machine_created_at: null,
          phone_home_hash: hashToken(phoneHomeToken(id, now)),
        },
        'start',
        now,
      );
      await audit(actor, 'environment_started', started);
      return started;
    },

    async stop(actor: Actor, id: string) {
      await visible(actor.accountId, id, 'use', 'use its environments');
      const stopped = await transition(
        actor,
        id,
        ['provisioning', 'starting', 'running', 'error'],
        'stopping',
        { desired_state: 'stopped', stop_reason: null, phone_home_hash: null },
        'stop',
      );
      await audit(actor, 'environment_stopped', stopped);
      return stopped;
    },

    async remove(actor: Actor, id: string) {
      await visible(actor.accountId, id, 'manage', 'delete its environments');
      const deleting = await transition(
        actor,
        id,
        ['provisioning', 'starting', 'running', 'stopping', 'stopped', 'error'],
        'deleting',
        { desired_state: 'deleted', phone_home_hash: null },
        'delete',
      );
      await audit(actor, 'environment_deleted', deleting);
      return deleting;
    },

    /** How long the last start took, phase by phase (from its `ready` event): what the page shows. */
    async lastStartTimings(id: string) {
      const ready = await read.findLatestEvent(id, 'ready');
      if (!ready) return undefined;
      const detail = ready.detail as { total_ms?: number; machine_to_ready_ms?: number; via?: string };
      if (typeof detail.total_ms !== 'number') return undefined;
      return {
        totalSeconds: Math.round(detail.total_ms / 1000),
        machineSeconds:
          typeof detail.machine_to_ready_ms === 'number'
            ? Math.round((detail.total_ms - detail.machine_to_ready_ms) / 1000)
            : undefined,
        via: detail.via === 'ssh_probe' ? text('environments.via.sshCheck') : text('environments.via.machineReport'),
      };
    },

    /**
     * Why an environment in error stopped, in a reader's words: its latest error entry worded from its
     * kind and detail (trail-text.ts); the stored English `last_error` when that entry predates them.
     */
    async lastErrorWords(environment: Environment): Promise<Text | string | null> {
      const entry = await read.findLatestEvent(environment.id, 'error');
      return (entry && trailText(entry)) ?? environment.last_error;
    },

    /**
     * Who hears that an environment is running out of money or idle, or was stopped: the person who
     * owns it; for an organization's, its owners and admins (who pay and decide) and the member who
     * created it while they still belong to it.
     */
    async noticeRecipients(environment: Environment): Promise<string[]> {
      if (!environment.organization_id) return [required(environment.account_id, 'the owning account')];
      const members = await deps.organizations.memberRoles(environment.organization_id);
      const managers = ORG_ENVIRONMENT_RULES.manage as readonly Role[];
      return members
        .filter((member) => managers.includes(member.role) || member.accountId === environment.created_by)
        .map((member) => member.accountId);
    },

    /**
     * Each wallet's balance read once, however often it is asked for: a page that shows a balance and
     * the warnings derived from it must not read it twice while an hour's charge commits in between.
     */
    balancesReadOnce(): (wallet: Wallet) => Promise<number> {
      const asked = new Map<string, Promise<number>>();
      return (wallet) => {
        const key = `${wallet.kind}:${wallet.ownerId}`;
        let balance = asked.get(key);
        if (!balance) {
          balance = walletBalance(wallet);
          asked.set(key, balance);
        }
        return balance;
      };
    },

    /** The "keep it running" answer to an idle warning; also what terminal activity will call. */
    async keepRunning(actor: Actor, id: string) {
      const environment = await visible(actor.accountId, id, 'use', 'use its environments');
      if (environment.state !== 'running') throw errors.invalidTransition(environment.state, 'kept running');
      return this.recordActivity(id);
    },

    async recordActivity(id: string) {
      const now = new Date(clock.now());
      await read.update(id, { last_activity_at: now, idle_warned_at: null, updated_at: now });
      return required(await read.findById(id), 'the environment just written');
    },

    /**
     * The money view the API and the page show: the price per started hour, what the current run
     * has cost so far (read from the ledger), and how long the wallet lasts at its current rate.
     */
    async money(environment: Environment, balanceOf: (wallet: Wallet) => Promise<number> = walletBalance) {
      const [balance, running] = await Promise.all([
        balanceOf(walletOf(environment)),
        read.listRunningFor(ownerOf(environment)),
      ]);
      const rate = running.reduce((sum, row) => sum + priceOf(row.tier), 0);
      const costSinceStart = environment.running_since
        ? await deps.ledger.usageTotal(runReference(environment, environment.running_since))
        : 0;
      return {
        pricePerHour: priceOf(environment.tier),
        costSinceStart,
        balance,
        ratePerHour: rate,
        balanceLastsHours: rate > 0 ? Math.floor(balance / rate) : null,
      };
    },
  };
}

export type EnvironmentService = ReturnType<typeof createEnvironmentService>;
