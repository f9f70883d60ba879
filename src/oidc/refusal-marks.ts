import type { KeyValueStore } from '../db/key-value.ts';
import { type Clock, systemClock } from '../shared/clock.ts';
import { BLOCKED_ACCOUNT_PREFIX, blockedAccountKey } from './blocked-accounts.ts';
import { REVOKED_GRANT_PREFIX, revokedGrantKey } from './revoked-grants.ts';

/**
 * How long a mark found absent is taken as absent without asking again: the bound, were a report
 * ever missed without the connection dropping (a network that stalls without closing it).
 */
const ABSENT_FOR_MS = 1_000;
const ABSENT_MEMORY_SIZE = 20_000;

export type Refusal = { revoked: boolean; blocked: boolean };

const NOT_REFUSED: Refusal = { revoked: false, blocked: false };

/**
 * The marks that refuse a JWT access token at /api whatever its signature says: its grant revoked
 * (revoked-grants.ts), its account suspended or deleted (blocked-accounts.ts). A person's token has
 * both to read on every request, a Redis round trip that cost a third of a cheap /api answer.
 *
 * Where the store reports writes (KeyValueStore.watch: on one Redis, Redis itself reports every
 * write to a mark, whoever makes it, as it answers that write; this process's own writes are
 * reported as soon as they are answered), a mark found absent is taken as absent until a write to
 * it is reported, ABSENT_FOR_MS at most. So a revocation made through this instance refuses its
 * next request; another instance refuses from the moment Redis's report reaches it, a network hop
 * after the revoking write was answered. Only absences are remembered: a refusal is read each time,
 * so a lifted suspension is seen at once. A read is remembered only if no report came while it was
 * on its way (`generation`): such a report may be of a write that read missed, and a report's own
 * key may not yet be in the memory to forget.
 */
export async function createRefusalMarks(kv: KeyValueStore, clock: Clock = systemClock) {
  const absentUntil = new Map<string, number>();
  let generation = 0;
  const watch = await kv.watch([REVOKED_GRANT_PREFIX, BLOCKED_ACCOUNT_PREFIX], (key) => {
    generation += 1;
    if (key === undefined) absentUntil.clear();
    else absentUntil.delete(key);
  });

  function knownAbsent(key: string, now: number): boolean {
    const until = absentUntil.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    absentUntil.delete(key);
    return false;
  }

  function remember(key: string, until: number) {
    const oldest = absentUntil.keys().next();
    if (absentUntil.size >= ABSENT_MEMORY_SIZE && !oldest.done) absentUntil.delete(oldest.value);
    absentUntil.set(key, until);
  }

  async function read(keys: string[]): Promise<(string | null)[]> {
    // One MGET where the store allows keys of different slots in a command (not a Redis Cluster).
    if (keys.length === 1 || !kv.anySlots) return Promise.all(keys.map((key) => kv.get(key)));
    return kv.getMany(keys);
  }

  function keysOf(grantId: string | undefined, accountId: string | undefined): string[] {
    const keys: string[] = [];
    if (grantId) keys.push(revokedGrantKey(grantId));
    if (accountId) keys.push(blockedAccountKey(accountId));
    return keys;
  }

  /**
   * The refusal when it is known without a read (no marks to read, or both remembered absent),
   * without a promise: what nearly every request of a token in use finds.
   */
  function remembered(grantId: string | undefined, accountId: string | undefined): Refusal | undefined {
    if (!grantId && !accountId) return NOT_REFUSED;
    if (!watch?.live) return undefined;
    const now = clock.now();
    if (grantId && !knownAbsent(revokedGrantKey(grantId), now)) return undefined;
    if (accountId && !knownAbsent(blockedAccountKey(accountId), now)) return undefined;
    return NOT_REFUSED;
  }

  /** A token's refusal, by its grant and its account (a client's own token has neither, a person's both). */
  async function of(grantId: string | undefined, accountId: string | undefined): Promise<Refusal> {
    const known = remembered(grantId, accountId);
    if (known) return known;
    const keys = keysOf(grantId, accountId);
    const now = clock.now();
    const started = generation;
    const values = await read(keys);
    if (watch?.live && generation === started) {
      for (const [index, key] of keys.entries()) if (values[index] === null) remember(key, now + ABSENT_FOR_MS);
    }
    return {
      revoked: grantId ? values[0] !== null : false,
      blocked: accountId ? values[keys.length - 1] !== null : false,
    };
  }

  return {
    remembered,
    of,
    /** Whether either mark refuses: for callers that need no reason (the terminal's WebSocket). */
    async refuses(grantId: string | undefined, accountId: string | undefined): Promise<boolean> {
      const { revoked, blocked } = await of(grantId, accountId);
      return revoked || blocked;
    },
  };
}

export type RefusalMarks = Awaited<ReturnType<typeof createRefusalMarks>>;
