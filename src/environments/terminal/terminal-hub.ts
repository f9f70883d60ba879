import type { Logger } from 'pino';
import type { TerminalSettings } from '../../config.ts';
import type { Clock } from '../../shared/clock.ts';
import { ApiError } from '../../shared/api-error.ts';
import type { EnvironmentService } from '../environment.service.ts';
import type { MachineKeySeal } from '../machine-keys.ts';
import { CLOSE, type CloseReason } from './close-codes.ts';
import type { SshTarget } from './ssh-shell.ts';
import type { OpenTerminal, TerminalRegistry } from './terminal-registry.ts';
import { type TerminalLimits, TerminalSession } from './terminal-session.ts';

// An admitted upgrade holds its place under the limits until its session opens, or this long.
const RESERVATION_MS = 30_000;

type Entry = OpenTerminal & {
  session: Promise<TerminalSession>;
  /** Activity already passed on to the environment's idle rule. */
  reportedActivityAt: number;
};

export const terminalErrors = {
  notRunning: (state: string) =>
    new ApiError(409, 'environment_not_running', `The environment is ${state}; start it to open a terminal.`),
  tooManyForEnvironment: (limit: number) =>
    new ApiError(429, 'too_many_terminals', `This environment already has ${limit} open terminal sessions.`),
  tooManyForPerson: (limit: number) =>
    new ApiError(429, 'too_many_terminals', `You already have ${limit} open terminal sessions; close one first.`),
};

/**
 * The open terminal sessions of this instance, one per environment, person and tmux session, so
 * a reconnect finds the same ring; and the limits on how many there may be, counted over every
 * instance through the registry.
 */
export function createTerminalHub(deps: {
  settings: TerminalSettings;
  service: Pick<EnvironmentService, 'usable' | 'recordActivity' | 'sshUser'>;
  keySeal: MachineKeySeal;
  registry: TerminalRegistry;
  clock: Clock;
  log: Logger;
  limits?: Partial<TerminalLimits>;
}) {
  const entries = new Map<string, Entry>();
  // Admitted upgrades whose session is not open yet: they count against the limits until it is.
  const reserved = new Map<string, { terminal: OpenTerminal; count: number }>();
  let connections = 0;
  const keyOf = (terminal: OpenTerminal) => `${terminal.environmentId}\n${terminal.accountId}\n${terminal.tmux}`;
  const here = (): OpenTerminal[] => [
    ...[...entries.values()].map(({ environmentId, accountId, tmux }) => ({ environmentId, accountId, tmux })),
    ...[...reserved.values()].map((slot) => slot.terminal),
  ];
  const publish = () =>
    deps.registry
      .publish(here())
      .catch((error: unknown) => deps.log.warn({ err: error }, 'could not publish the open terminals'));

  /** Refuses a new terminal past the limits; reconnecting to one that is open (on any instance) is always allowed. */
  async function refuseOverLimits(wanted: OpenTerminal) {
    const open = new Map(
      [...here(), ...(await deps.registry.elsewhere())].map((terminal) => [keyOf(terminal), terminal]),
    );
    if (open.has(keyOf(wanted))) return;
    const count = (where: (terminal: OpenTerminal) => boolean) => [...open.values()].filter(where).length;
    if (count((terminal) => terminal.environmentId === wanted.environmentId) >= deps.settings.perEnvironment)
      throw terminalErrors.tooManyForEnvironment(deps.settings.perEnvironment);
    if (count((terminal) => terminal.accountId === wanted.accountId) >= deps.settings.perPerson)
      throw terminalErrors.tooManyForPerson(deps.settings.perPerson);
  }

  /** The machine to connect to, if the person may use the environment and it runs; throws the API error otherwise. */
  async function targetFor(accountId: string, environmentId: string): Promise<SshTarget> {
    const environment = await deps.service.usable(accountId, environmentId);
    if (environment.state !== 'running' || !environment.ip_address || !environment.ssh_port) {
      throw terminalErrors.notRunning(environment.state);
    }
    return {
      host: environment.ip_address,
      port: environment.ssh_port,
      // The user the machine serves (devpocket, or this computer's user for a local machine without root).
      username: deps.service.sshUser,
      privateKey: deps.keySeal.open(environment.id, 'client', environment.client_private_key_sealed),
      hostPublicKey: environment.host_public_key,
    };
  }

  return {
    targetFor,
    /** SSH connections this hub has started: refusals must leave it unchanged. */
    connectionsStarted: () => connections,

    /** For a ticket: whether the limits would let this terminal in now (the upgrade asks again, for real). */
    checkLimits: refuseOverLimits,

    /**
     * Lets an upgrade in under the limits, holding its place until `release()` (its session is open,
     * or it never will be), so that concurrent upgrades on any instances cannot pass a limit together.
     */
    admit(wanted: OpenTerminal): Promise<() => void> {
      return deps.registry.exclusively(async () => {
        await refuseOverLimits(wanted);
        const key = keyOf(wanted);
        const slot = reserved.get(key) ?? { terminal: wanted, count: 0 };
        slot.count += 1;
        reserved.set(key, slot);
        await publish();
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          clearTimeout(timer);
          slot.count -= 1;
          if (slot.count === 0 && reserved.get(key) === slot) reserved.delete(key);
          void publish();
        };
        const timer = setTimeout(release, RESERVATION_MS).unref();
        return release;
      });
    },

    /** Refreshes this instance's entry in the registry (it lapses unless renewed). */
    publish,

    /** The open session for this person's tmux session on the environment, connecting when there is none. */
    session(
      target: SshTarget,
      claims: { environmentId: string; accountId: string; tmux: string },
      size: { cols: number; rows: number },
    ) {
      const key = keyOf(claims);
      const existing = entries.get(key);
      if (existing) return existing.session;
      connections += 1;
      const session = TerminalSession.open(target, {
        tmux: claims.tmux,
        ...size,
        clock: deps.clock,
        limits: { ringBytes: deps.settings.ringBytes, idleMs: deps.settings.idleMinutes * 60_000, ...deps.limits },
      });
      const entry: Entry = {
        environmentId: claims.environmentId,
        accountId: claims.accountId,
        tmux: claims.tmux,
        session,
        reportedActivityAt: 0,
      };
      entries.set(key, entry);
      const forget = () => {
        if (entries.get(key) !== entry) return;
        entries.delete(key);
        void publish();
      };
      session.then((opened) => {
        opened.explainEnd = async () => {
          const state = await deps.service.usable(claims.accountId, claims.environmentId).then(
            (environment) => environment.state,
            () => 'forbidden' as const,
          );
          if (state === 'forbidden') return CLOSE.revoked;
          return state === 'running' ? undefined : CLOSE.stopped;
        };
        opened.onEnd(forget);
      }, forget);
      void publish();
      return session;
    },

    /** Ends every session on an environment (it stopped, or the person lost access). */
    async closeEnvironment(environmentId: string, reason: CloseReason, accountId?: string) {
      for (const entry of [...entries.values()]) {
        if (entry.environmentId !== environmentId || (accountId && entry.accountId !== accountId)) continue;
        (await entry.session.catch(() => undefined))?.close(reason);
      }
    },

    /** The environments and people with open sessions, for the periodic checks. */
    open: () => [...entries.values()].map(({ environmentId, accountId }) => ({ environmentId, accountId })),

    /** Ends the sessions idle for TERMINAL_IDLE_MINUTES (tmux keeps running on the machine). */
    async closeIdle() {
      for (const entry of [...entries.values()]) (await entry.session.catch(() => undefined))?.closeIfIdle();
    },

    /** Passes terminal activity on to the environment's idle rule (last_activity_at), once per change. */
    async reportActivity() {
      const latest = new Map<string, number>();
      for (const entry of entries.values()) {
        const session = await entry.session.catch(() => undefined);
        if (!session || session.lastActivityAt <= entry.reportedActivityAt) continue;
        entry.reportedActivityAt = session.lastActivityAt;
        latest.set(entry.environmentId, session.lastActivityAt);
      }
      for (const environmentId of latest.keys()) await deps.service.recordActivity(environmentId);
    },

    async closeAll(reason: CloseReason = CLOSE.shutdown) {
      const all = [...entries.values()];
      entries.clear();
      reserved.clear();
      for (const entry of all) (await entry.session.catch(() => undefined))?.close(reason);
      await deps.registry
        .withdraw()
        .catch((error: unknown) => deps.log.warn({ err: error }, 'could not withdraw the open terminals'));
    },
  };
}

export type TerminalHub = ReturnType<typeof createTerminalHub>;
