import { createHash, randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../../db/key-value.ts';
import type { Clock } from '../../shared/clock.ts';

/** Browsers cannot send Authorization on a WebSocket: the upgrade presents one of these instead. */
export const TICKET_SECONDS = 30;

export type TicketClaims = {
  environmentId: string;
  accountId: string;
  clientId: string;
  /** The token's grant (for our pages, their grant in the session): revoking it ends the terminal. */
  grantId?: string | undefined;
  /** Our pages' session the ticket was issued in: signing it out (here or elsewhere) ends the terminal. */
  sessionUid?: string | undefined;
  /** The tmux session on the machine. */
  tmux: string;
  expiresAt: number;
};

export type Redeemed = { ok: true; claims: TicketClaims } | { ok: false; problem: 'unknown' | 'expired' | 'reused' };

const hash = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

/**
 * Single-use tickets in the shared store (Redis with several instances), so the instance that
 * accepts the upgrade need not be the one that issued the ticket. Only a hash is stored; the
 * expiry reads the injectable clock, and the store's own TTL only cleans up.
 */
export function createTerminalTickets(kv: KeyValueStore, clock: Clock) {
  const key = (ticket: string) => `terminal-ticket:${hash(ticket)}`;
  const usedKey = (ticket: string) => `terminal-ticket-used:${hash(ticket)}`;
  return {
    async issue(claims: Omit<TicketClaims, 'expiresAt'>) {
      const ticket = randomBytes(24).toString('base64url');
      const expiresAt = clock.now() + TICKET_SECONDS * 1000;
      await kv.write([
        {
          op: 'set',
          key: key(ticket),
          value: JSON.stringify({ ...claims, expiresAt }),
          ttlSeconds: TICKET_SECONDS * 4,
        },
      ]);
      return { ticket, expiresAt: new Date(expiresAt) };
    },

    /** Reads a ticket without using it up, so a refused upgrade (wrong Origin, say) says why. */
    async peek(ticket: string): Promise<Redeemed> {
      const value = await kv.get(key(ticket));
      if (!value) return { ok: false, problem: (await kv.get(usedKey(ticket))) ? 'reused' : 'unknown' };
      const claims = JSON.parse(value) as TicketClaims;
      if (claims.expiresAt <= clock.now()) return { ok: false, problem: 'expired' };
      return { ok: true, claims };
    },

    /** Uses the ticket up: exactly one of several concurrent callers gets true. */
    async consume(ticket: string): Promise<boolean> {
      await kv.write([{ op: 'set', key: usedKey(ticket), value: '1', ttlSeconds: TICKET_SECONDS * 4 }]);
      return (await kv.del(key(ticket))) === 1;
    },
  };
}

export type TerminalTickets = ReturnType<typeof createTerminalTickets>;
