import type { PoolStats } from '../db/database.ts';
import type { MetricsRegistry } from './registry.ts';

// A scrape must not hang on a dead Redis or database: past this, the check counts as down.
const CHECK_TIMEOUT_MS = 2000;

/** Resolves to whether `check` succeeded within the timeout; never rejects. */
async function healthy(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The database pool and the health of the database and Redis, read at each scrape (a `select 1`
 * and a PING, each bounded by a timeout), not on a timer of our own.
 */
export function watchStorage(
  metrics: MetricsRegistry,
  storage: {
    /** Undefined for the embedded database, which has no pool. */
    pool(): PoolStats | undefined;
    database(): Promise<void>;
    keyValue(): Promise<void>;
    /** `redis`, or `memory` for the single-instance store, which is always up. */
    keyValueKind: 'redis' | 'memory';
  },
) {
  metrics.gauge({
    name: 'fairyid_database_pool_connections',
    help: 'Postgres pool: connections busy and idle, queries waiting for one, and the size (max); absent when embedded',
    labels: { state: ['busy', 'idle', 'waiting', 'max'] },
    collect(set) {
      const stats = storage.pool();
      if (!stats) return;
      set({ state: 'busy' }, stats.total - stats.idle);
      set({ state: 'idle' }, stats.idle);
      set({ state: 'waiting' }, stats.waiting);
      set({ state: 'max' }, stats.max);
    },
  });
  metrics.gauge({
    name: 'fairyid_database_up',
    help: 'Whether the database answered a query at this scrape (1) or not (0)',
    labels: {},
    async collect(set) {
      set({}, (await healthy(storage.database)) ? 1 : 0);
    },
  });
  metrics.gauge({
    name: 'fairyid_redis_up',
    help: 'Whether Redis answered PING at this scrape (1) or not (0); store is memory without REDIS_URL',
    labels: { store: ['redis', 'memory'] },
    async collect(set) {
      set({ store: storage.keyValueKind }, (await healthy(storage.keyValue)) ? 1 : 0);
    },
  });
}
