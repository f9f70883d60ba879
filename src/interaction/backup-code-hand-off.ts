import type { KeyValueStore } from '../db/key-value.ts';
import { createSealedBox, UnsealError } from '../shared/sealed-box.ts';

const TTL_SECONDS = 600;

/** `replaced`: the set took the place of an earlier one, whose codes died with it. */
export type FreshBackupCodes = { codes: string[]; next: string; replaced?: boolean };

/**
 * Carries a freshly made set of backup codes from the request that made it to the page that shows
 * it, once: the page takes them (a reload shows them no more). Sealed at rest, as they are secrets.
 */
export function createBackupCodeHandOff(kv: KeyValueStore, secrets: string | readonly string[]) {
  const box = createSealedBox(secrets, 'backup-codes-in-transit');
  const key = (holder: string) => `fresh-backup-codes:${holder}`;

  return {
    async hold(holder: string, fresh: FreshBackupCodes): Promise<void> {
      await kv.write([
        { op: 'set', key: key(holder), value: box.seal(holder, JSON.stringify(fresh)), ttlSeconds: TTL_SECONDS },
      ]);
    },

    async take(holder: string): Promise<FreshBackupCodes | undefined> {
      const sealed = await kv.get(key(holder));
      // Only the caller whose delete removed the key shows the codes: two tabs cannot both.
      if (!sealed || (await kv.del(key(holder))) !== 1) return undefined;
      try {
        return JSON.parse(box.open(holder, sealed)) as FreshBackupCodes;
      } catch (error) {
        if (error instanceof UnsealError) return undefined;
        throw error;
      }
    },
  };
}

export type BackupCodeHandOff = ReturnType<typeof createBackupCodeHandOff>;
