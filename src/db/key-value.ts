/**
 * The short-lived state that Redis holds (OIDC sessions and codes, one-time codes, throttles, the
 * development outbox). Redis when REDIS_URL is set; otherwise an in-process map with the same
 * semantics, which is only correct for a single instance.
 */
export type KeyValueWrite =
  | { op: 'set'; key: string; value: string; ttlSeconds: number }
  | { op: 'sadd'; key: string; member: string; ttlSeconds: number };

export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  /** Several writes in one round trip, applied together. */
  write(writes: KeyValueWrite[]): Promise<void>;
  /** Sets only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Number of keys that existed: exactly one concurrent caller sees 1 for the same key. */
  del(...keys: string[]): Promise<number>;
  /** Increments and starts the key's TTL on first use. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /**
   * Takes one back from a counter that `increment` made, never below 0 and never creating the key
   * (a window that ended meanwhile stays ended).
   */
  decrement(key: string): Promise<void>;
  /** Seconds left, or 0 when the key is absent. */
  ttl(key: string): Promise<number>;
  members(key: string): Promise<string[]>;
  /** Prepends, keeping the newest `cap` entries. */
  pushCapped(key: string, value: string, cap: number, ttlSeconds: number): Promise<void>;
  list(key: string): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
