import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

export type FactorSummary = { passkeys: number; totp: boolean; backupCodesLeft: number };

/** What second factors a person has, in one round trip: the MFA policy asks at every authorization. */
export function createFactorSummaryRepository(db: Db) {
  return {
    async summarize(accountId: string): Promise<FactorSummary> {
      const row = await db
        .selectNoFrom([
          sql<string>`(select count(*) from passkeys where account_id = ${accountId})`.as('passkeys'),
          sql<boolean>`exists (select 1 from totp_factors where account_id = ${accountId})`.as('totp'),
          sql<string>`(select count(*) from backup_codes where account_id = ${accountId} and used_at is null)`.as(
            'backup_codes_left',
          ),
        ])
        .executeTakeFirstOrThrow();
      return { passkeys: Number(row.passkeys), totp: row.totp, backupCodesLeft: Number(row.backup_codes_left) };
    },
  };
}

/** A second factor is a passkey or an authenticator app; backup codes only stand in for one. */
export const hasSecondFactor = (summary: FactorSummary) => summary.passkeys > 0 || summary.totp;

export type FactorSummaryRepository = ReturnType<typeof createFactorSummaryRepository>;
