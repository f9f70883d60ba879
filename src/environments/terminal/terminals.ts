import type { Logger } from 'pino';
import type { AuditService } from '../../audit/audit.service.ts';
import type { TerminalSettings } from '../../config.ts';
import type { KeyValueStore } from '../../db/key-value.ts';
import type { Clock } from '../../shared/clock.ts';
import type { EnvironmentService } from '../environment.service.ts';
import type { MachineKeySeal } from '../machine-keys.ts';
import { createTerminalGateway, socketPath } from './terminal-gateway.ts';
import { createTerminalHub } from './terminal-hub.ts';
import { createTerminalRegistry } from './terminal-registry.ts';
import type { TerminalLimits } from './terminal-session.ts';
import { createTerminalTickets, TICKET_SECONDS, type TicketClaims } from './terminal-tickets.ts';

/** The terminal put together: tickets in the shared store, this instance's sessions, the WebSocket gateway. */
export function createTerminals(deps: {
  issuer: string;
  settings: TerminalSettings;
  kv: KeyValueStore;
  clock: Clock;
  service: EnvironmentService;
  keySeal: MachineKeySeal;
  audit: AuditService;
  clientOrigins(clientId: string): Promise<string[]>;
  refused(grantId: string | undefined, accountId: string): Promise<boolean>;
  /** Whether a provider session (our pages' sign-in) still exists. */
  sessionExists(sessionUid: string): Promise<boolean>;
  log: Logger;
  /** Tests shrink the session limits (idle timeout, ring). */
  limits?: Partial<TerminalLimits>;
}) {
  const tickets = createTerminalTickets(deps.kv, deps.clock);
  const hub = createTerminalHub({
    settings: deps.settings,
    service: deps.service,
    keySeal: deps.keySeal,
    // Renewed at every periodic check: an instance that died stops counting after three missed ones.
    clock: deps.clock,
    registry: createTerminalRegistry(deps.kv, {
      ttlSeconds: Math.max(15, Math.ceil((3 * deps.settings.checkMs) / 1000)),
    }),
    log: deps.log,
    limits: deps.limits,
  });
  const gateway = createTerminalGateway({
    issuer: deps.issuer,
    tickets,
    hub,
    audit: deps.audit,
    clientOrigins: deps.clientOrigins,
    refused: deps.refused,
    sessionExists: deps.sessionExists,
    async stillUsable(accountId, environmentId) {
      try {
        const environment = await deps.service.usable(accountId, environmentId);
        return environment.state === 'running' ? 'running' : 'stopped';
      } catch {
        return 'forbidden';
      }
    },
    checkMs: deps.settings.checkMs,
    log: deps.log,
  });
  const socketBase = deps.issuer.replace(/^http/, 'ws');

  return {
    hub,
    gateway,
    upgrade: gateway.upgrade,
    /** How often the log stream looks for new trail entries: no slower than the liveness checks. */
    pollMs: Math.min(deps.settings.checkMs, 1000),

    /** A ticket for a person who may use the running environment, within the limits; refusals are API errors. */
    async issueTicket(claims: Omit<TicketClaims, 'expiresAt'>) {
      await hub.targetFor(claims.accountId, claims.environmentId);
      await hub.checkLimits({ environmentId: claims.environmentId, accountId: claims.accountId, tmux: claims.tmux });
      const { ticket, expiresAt } = await tickets.issue(claims);
      return {
        ticket,
        url: `${socketBase}${socketPath(claims.environmentId)}?ticket=${ticket}`,
        expires_at: expiresAt.toISOString(),
        expires_in: TICKET_SECONDS,
        tmux_session: claims.tmux,
      };
    },

    close: () => gateway.close(),
  };
}

export type Terminals = ReturnType<typeof createTerminals>;
