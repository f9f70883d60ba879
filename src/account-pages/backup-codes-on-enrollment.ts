import type { BackupCodeService } from '../accounts/backup-code.service.ts';
import type { BackupCodeHandOff } from '../interaction/backup-code-hand-off.ts';
import type { SignedIn } from '../http/page-session.ts';

export const FRESH_BACKUP_CODES_PAGE = '/account/security/backup-codes';

/**
 * After a factor is added on the account pages: a person's first second factor comes with a set of
 * backup codes, which the next page shows once. Returns where the browser goes: that page, or `next`.
 */
export async function backupCodesOnEnrollment(
  deps: { backupCodes: BackupCodeService; handOff: BackupCodeHandOff },
  current: SignedIn,
  next: string,
): Promise<string> {
  const codes = await deps.backupCodes.issueIfNone(current.accountId);
  if (!codes) return next;
  await deps.handOff.hold(`session:${current.sessionUid}`, { codes, next });
  return FRESH_BACKUP_CODES_PAGE;
}
