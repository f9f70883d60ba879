import type { Redis } from 'ioredis';
import type { KeyWatch } from './key-value.ts';

const INVALIDATIONS = '__redis__:invalidate';

export type RedisKeyWatch = KeyWatch & { close(): Promise<void> };

/**
 * Redis's server-assisted client-side caching in broadcast mode (CLIENT TRACKING ... BCAST): Redis
 * itself reports every write to a key under one of the prefixes, whichever client makes it, in the
 * same moment it answers the write (the report and the answer leave together; on loopback the
 * answer was read first one time in six). One connection of its own, which asks for the reports
 * (redirected to itself, as RESP2 requires) and receives them as a subscriber. The store reports
 * this process's own writes itself, as soon as they are answered (redis-store.ts).
 *
 * Tracking and subscription live and die with that connection: when it drops, reports may have been
 * lost, so `changed(undefined)` is called and `live` stays false until ioredis has reconnected and
 * both are set up again (then `changed(undefined)` once more: a read made before that moment may
 * predate a write nobody reported). A Redis without tracking (before 6.0) is never live.
 */
export async function watchRedisKeys(
  client: Redis,
  options: { prefixes: string[]; name: string },
  changed: (key: string | undefined) => void,
): Promise<RedisKeyWatch> {
  const { prefixes } = options;
  // Channels and tracking prefixes are not keys: ioredis's keyPrefix does not apply to them.
  const watcher = client.duplicate({
    lazyConnect: true,
    autoResubscribe: false,
    keyPrefix: '',
    connectionName: options.name,
  });
  let live = false;
  let closing = false;

  const lost = () => {
    live = false;
    changed(undefined);
  };
  const track = async () => {
    const id = await watcher.client('ID');
    await watcher.call(
      'CLIENT',
      'TRACKING',
      'ON',
      'REDIRECT',
      String(id),
      'BCAST',
      ...prefixes.flatMap((p) => ['PREFIX', p]),
    );
    await watcher.subscribe(INVALIDATIONS);
    changed(undefined);
    live = true;
  };
  let tracking: Promise<void> = Promise.resolve();
  watcher.on('ready', () => {
    tracking = track().catch(() => {
      // Refused (no tracking on this Redis) or cut short by a disconnect, which reconnects and tries again.
      live = false;
    });
  });
  watcher.on('close', () => {
    if (!closing) lost();
  });
  watcher.on('messageBuffer', (channel: Buffer, keys: unknown) => {
    if (channel.toString() !== INVALIDATIONS) return;
    // An array of the written keys, or null when the database was flushed.
    if (!Array.isArray(keys)) return changed(undefined);
    for (const key of keys) changed(String(key));
  });
  // The store's own connection has just been made: should this one fail, ioredis keeps trying, and
  // nothing is remembered meanwhile (every read goes to Redis), rather than the start failing.
  await watcher.connect().catch(() => {});
  await tracking;
  return {
    get live() {
      return live;
    },
    async close() {
      closing = true;
      live = false;
      watcher.disconnect();
    },
  };
}
