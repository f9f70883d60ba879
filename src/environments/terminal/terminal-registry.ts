import { randomUUID } from 'node:crypto';
import type { KeyValueStore } from '../../db/key-value.ts';

/** One terminal as the limits count it: a person's tmux session on an environment, wherever it is bridged. */
export type OpenTerminal = { environmentId: string; accountId: string; tmux: string };

const INDEX = 'terminal-instances';
const INDEX_SECONDS = 86_400;
const LOCK = 'terminal-admission';
const LOCK_SECONDS = 5;
const LOCK_RETRY_MS = 20;
// Instances that stopped publishing are dropped from the index once this many have gathered; live
// ones add themselves back at their next publish.
const MAX_DEAD = 16;

/**
 * The open terminals of every instance, in the shared store (Redis with several instances), so the
 * per-environment and per-person limits hold for the whole deployment. Each instance publishes its
 * own list whenever it changes and at every periodic check; a list lives `ttlSeconds`, so an
 * instance that died stops counting soon after. Admissions take a short shared lock, so two
 * instances cannot both let in the last terminal a limit allows.
 */
export function createTerminalRegistry(kv: KeyValueStore, options: { ttlSeconds: number }) {
  const instance = randomUUID();
  const listKey = (id: string) => `terminal-open:${id}`;

  return {
    instance,

    async publish(open: OpenTerminal[]) {
      await kv.write([
        { op: 'set', key: listKey(instance), value: JSON.stringify(open), ttlSeconds: options.ttlSeconds },
        { op: 'sadd', key: INDEX, member: instance, ttlSeconds: INDEX_SECONDS },
      ]);
    },

    /** The terminals the other instances hold now. */
    async elsewhere(): Promise<OpenTerminal[]> {
      const others = (await kv.members(INDEX)).filter((id) => id !== instance);
      const lists = await Promise.all(others.map((id) => kv.get(listKey(id))));
      if (lists.filter((list) => list === null).length > MAX_DEAD) await kv.del(INDEX);
      return lists.flatMap((list) => (list ? (JSON.parse(list) as OpenTerminal[]) : []));
    },

    /**
     * Runs `work` while holding the deployment's admission lock. A holder that died loses it after
     * LOCK_SECONDS; waiting longer than that means the store is unwell, and the work runs anyway
     * rather than refusing every terminal.
     */
    async exclusively<T>(work: () => Promise<T>): Promise<T> {
      const token = randomUUID();
      const deadline = Date.now() + 2 * LOCK_SECONDS * 1000;
      let held = false;
      while (!held && Date.now() < deadline) {
        held = await kv.setIfAbsent(LOCK, token, LOCK_SECONDS);
        if (!held) await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
      }
      try {
        return await work();
      } finally {
        if (held && (await kv.get(LOCK)) === token) await kv.del(LOCK);
      }
    },

    /** At shutdown: this instance's terminals stop counting at once. */
    async withdraw() {
      await kv.del(listKey(instance));
    },
  };
}

export type TerminalRegistry = ReturnType<typeof createTerminalRegistry>;
