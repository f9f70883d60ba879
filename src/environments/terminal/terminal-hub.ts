import type { TerminalSettings } from '../../config.ts';
import { ApiError } from '../../shared/api-error.ts';
import type { EnvironmentService } from '../environment.service.ts';
import type { MachineKeySeal } from '../machine-keys.ts';
import { CLOSE, type CloseReason } from './close-codes.ts';
import type { SshTarget } from './ssh-shell.ts';
import { type TerminalLimits, TerminalSession } from './terminal-session.ts';

type Entry = {
  environmentId: string;
  accountId: string;
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
 * a reconnect finds the same ring; and the limits on how many there may be.
 */
export function createTerminalHub(deps: {
  settings: TerminalSettings;
  service: Pick<EnvironmentService, 'usable' | 'recordActivity' | 'sshUser'>;
  keySeal: MachineKeySeal;
  limits?: Partial<TerminalLimits>;
}) {
  const entries = new Map<string, Entry>();
  let connections = 0;
  const keyOf = (environmentId: string, accountId: string, tmux: string) => `${environmentId}\n${accountId}\n${tmux}`;
  const count = (where: (entry: Entry) => boolean) => [...entries.values()].filter(where).length;

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

    /** Refuses a new session past the limits; reconnecting to one that is open is always allowed. */
    checkLimits(environmentId: string, accountId: string, tmux: string) {
      if (entries.has(keyOf(environmentId, accountId, tmux))) return;
      if (count((entry) => entry.environmentId === environmentId) >= deps.settings.perEnvironment)
        throw terminalErrors.tooManyForEnvironment(deps.settings.perEnvironment);
      if (count((entry) => entry.accountId === accountId) >= deps.settings.perPerson)
        throw terminalErrors.tooManyForPerson(deps.settings.perPerson);
    },

    /** The open session for this person's tmux session on the environment, connecting when there is none. */
    session(
      target: SshTarget,
      claims: { environmentId: string; accountId: string; tmux: string },
      size: { cols: number; rows: number },
    ) {
      const key = keyOf(claims.environmentId, claims.accountId, claims.tmux);
      const existing = entries.get(key);
      if (existing) return existing.session;
      connections += 1;
      const session = TerminalSession.open(target, {
        tmux: claims.tmux,
        ...size,
        limits: { ringBytes: deps.settings.ringBytes, idleMs: deps.settings.idleMinutes * 60_000, ...deps.limits },
      });
      const entry: Entry = {
        environmentId: claims.environmentId,
        accountId: claims.accountId,
        session,
        reportedActivityAt: 0,
      };
      entries.set(key, entry);
      session.then(
        (opened) => {
          opened.explainEnd = async () => {
            const state = await deps.service.usable(claims.accountId, claims.environmentId).then(
              (environment) => environment.state,
              () => 'forbidden' as const,
            );
            if (state === 'forbidden') return CLOSE.revoked;
            return state === 'running' ? undefined : CLOSE.stopped;
          };
          opened.onEnd(() => entries.get(key) === entry && entries.delete(key));
        },
        () => entries.get(key) === entry && entries.delete(key),
      );
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
      for (const entry of all) (await entry.session.catch(() => undefined))?.close(reason);
    },
  };
}

export type TerminalHub = ReturnType<typeof createTerminalHub>;
