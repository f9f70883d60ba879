/**
 * The short-lived state that Redis holds (OIDC sessions and codes, one-time codes, throttles, the
 * development outbox). Redis when REDIS_URL is set; otherwise an in-process map with the same
 * semantics, which is only correct for a single instance.
 */
export type KeyValueWrite =
  | { op: 'set'; key: string; value: string; ttlSeconds: number }
  | { op: 'sadd'; key: string; member: string; ttlSeconds: number }
  | { op: 'del'; key: string }
  /** Sets `key` only while neither it nor `guard` exists, as `setUnlessGuarded` with `onlyIfAbsent`. */
  | { op: 'setUnlessGuarded'; key: string; value: string; ttlSeconds: number; guard: string };

export interface KeyValueStore {
  /**
   * Whether one command or transaction may name keys of different slots: one Redis and the embedded
   * store can, a Redis Cluster cannot (ioredis refuses such a command, and every command pipelined
   * with it).
   */
  readonly anySlots: boolean;
  get(key: string): Promise<string | null>;
  /** Several values in one round trip, in the keys' order; on a Redis Cluster the keys share a slot. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  /**
   * The value of the key named by `indexKey`'s value behind `prefix` (an index such as a session's
   * uid naming its id), or null when either is absent: one round trip where keys of different slots
   * may meet in one command (not a Redis Cluster), two otherwise.
   */
  getThrough(indexKey: string, prefix: string): Promise<string | null>;
  /** Several writes in one round trip, applied together. */
  write(writes: KeyValueWrite[]): Promise<void>;
  /** Sets only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Sets `key` unless `guard` exists (and, with `onlyIfAbsent`, unless `key` exists), in one step no
   * other write comes between: a guard written before it always wins. True when this call set it.
   * On a Redis Cluster both keys must share a slot.
   */
  setUnlessGuarded(
    key: string,
    value: string,
    ttlSeconds: number,
    guard: string,
    onlyIfAbsent: boolean,
  ): Promise<boolean>;
  /** Reads a key and deletes it in one step: of concurrent callers, one at most gets its value. */
  take(key: string): Promise<string | null>;
  /** Number of keys that existed: exactly one concurrent caller sees 1 for the same key. */
  del(...keys: string[]): Promise<number>;
  /** Increments and starts the key's TTL on first use. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /**
   * Counts one event in a fixed window that opens with the first event after the last window closed
   * and lasts `windowSeconds` by `now`, the caller's clock (so tests move time instead of sleeping).
   * Atomic: concurrent callers on one store each get their own count. The store's own expiry only
   * clears the key away, well after the window closed.
   */
  countInWindow(key: string, windowSeconds: number, now: number): Promise<{ count: number; openedAt: number }>;
  /** The count of the window still open at `now`, or 0. */
  windowCount(key: string, windowSeconds: number, now: number): Promise<number>;
  /**
   * Takes one back from a window's count, never below 0 and never opening a window (a window that
   * closed meanwhile stays closed: the next count starts a new one from 1).
   */
  uncount(key: string): Promise<void>;
  /** Seconds left, or 0 when the key is absent. */
  ttl(key: string): Promise<number>;
  members(key: string): Promise<string[]>;
  /** Prepends, keeping the newest `cap` entries. */
  pushCapped(key: string, value: string, cap: number, ttlSeconds: number): Promise<void>;
  list(key: string): Promise<string[]>;
  /**
   * Reports every write to a key beginning with one of `prefixes`, whoever makes it (another
   * instance, the CLI, redis-cli), so that a process may remember what it read until it changes:
   * `changed(key)` for each written key, `changed(undefined)` when changes may have gone unreported
   * (the connection that hears them dropped, or the database was flushed). Nothing may be remembered
   * while `live` is false. Undefined where it cannot be done (a Redis Cluster) or is not worth it
   * (the embedded store, read without a round trip). Closed with the store.
   */
  watch(prefixes: string[], changed: (key: string | undefined) => void): Promise<KeyWatch | undefined>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type KeyWatch = { readonly live: boolean };

/**
 * How long a rate window's key stays in the store: twice the window. Windows close by the caller's
 * clock, never by this expiry, which only clears keys away; the margin outlasts any difference
 * between instances' clocks, and a test clock only ever runs ahead of real time.
 */
export const windowKeySeconds = (windowSeconds: number) => 2 * windowSeconds;
