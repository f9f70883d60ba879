import { createHmac, hkdfSync, randomInt } from 'node:crypto';
import type { BackupCodeRepository } from './backup-code.repository.ts';

export const BACKUP_CODE_COUNT = 10;
// Crockford's base32: no i, l, o or u, so a code copied by hand from paper reads back one way.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const HALF = 5;

/**
 * Backup codes: ten single-use codes, 50 bits each, for when the second factor is out of reach.
 * Only keyed hashes are stored (HMAC under a key derived from KEYS_SECRET and bound to the
 * account), so a copy of the database alone does not let anyone test guesses offline.
 */
export function createBackupCodeService(repository: BackupCodeRepository, secrets: string | readonly string[]) {
  // Newest first: new codes are hashed under the newest secret; a code issued under an older one
  // (before KEYS_SECRET was rotated) still matches its hash under that one.
  const keys = (typeof secrets === 'string' ? [secrets] : secrets).map((secret) =>
    Buffer.from(hkdfSync('sha256', secret, 'fairyid', 'backup-codes', 32)),
  );
  const hashUnder = (key: Buffer, accountId: string, code: string) =>
    createHmac('sha256', key).update(`${accountId}\n${code}`).digest('base64url');
  const hash = (accountId: string, code: string) => hashUnder(keys[0] as Buffer, accountId, code);

  const fresh = () =>
    Array.from({ length: BACKUP_CODE_COUNT }, () => {
      const chars = Array.from({ length: HALF * 2 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      return `${chars.slice(0, HALF)}-${chars.slice(HALF)}`;
    });

  return {
    remaining: (accountId: string) => repository.countUnused(accountId),

    /** A new set, shown once; every earlier code stops working. */
    async regenerate(accountId: string): Promise<string[]> {
      const codes = fresh();
      await repository.replace(
        accountId,
        codes.map((code) => hash(accountId, normalize(code))),
      );
      return codes;
    },

    /** At MFA enrollment: a set for a person who has no unused codes yet, else nothing (theirs still stand). */
    async issueIfNone(accountId: string): Promise<string[] | undefined> {
      const codes = fresh();
      const issued = await repository.replace(
        accountId,
        codes.map((code) => hash(accountId, normalize(code))),
        true,
      );
      return issued ? codes : undefined;
    },

    /** True once per code: the code is used up by the call that accepts it. */
    async consume(accountId: string, typed: string): Promise<boolean> {
      const code = normalize(typed);
      if (code.length !== HALF * 2 || [...code].some((char) => !ALPHABET.includes(char))) return false;
      return repository.markUsed(
        accountId,
        keys.map((key) => hashUnder(key, accountId, code)),
      );
    },

    /** Called after a factor is removed: without a second factor, backup codes stand in for nothing. */
    removeIfNoSecondFactor: (accountId: string) => repository.deleteUnlessSecondFactor(accountId),
  };
}

/** Spaces and dashes are for reading; letters that look like digits are read as those digits. */
function normalize(typed: string) {
  return typed.toLowerCase().replace(/[\s-]/g, '').replace(/[o]/g, '0').replace(/[il]/g, '1');
}

export type BackupCodeService = ReturnType<typeof createBackupCodeService>;
