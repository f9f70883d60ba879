import type { Logger } from 'pino';
import type { AccountService } from '../accounts/account.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Db } from '../db/database.ts';
import type { Mailer, SmsSender } from '../notifications/message.ts';
import { DEFAULT_LOCALE, type Locale } from '../i18n/locales.ts';
import { translator } from '../i18n/translator.ts';
import { accountDeletedEmail, accountDeletedSms } from './account-deletion-email.ts';
import { createAccountErasureRepository } from './account-erasure.repository.ts';
import type { AccountStatusService } from './account-status.service.ts';

/** Why a deletion cannot go ahead yet: the person has something to hand over or remove first. */
export type DeletionRefusal =
  | { reason: 'last_owner'; organizations: string[] }
  | { reason: 'environments'; count: number }
  | { reason: 'not_found' };

/** `notified`: whether the old address or number was told (an account may have had neither). */
export type DeletionOutcome =
  | { status: 'deleted'; notified: boolean }
  | { status: 'refused'; refusal: DeletionRefusal };

type Deps = {
  db: Db;
  accounts: AccountService;
  status: Pick<AccountStatusService, 'cutOff'>;
  audit: AuditService;
  mailer: Mailer;
  sms: SmsSender | undefined;
  issuer: string;
  log: Logger;
};

/**
 * A person deletes their own account. In one transaction, under locks: the last-owner rule and
 * the environments rule are checked, then their personal data is erased (account-erasure.repository.ts)
 * and the account becomes a tombstone (status `deleted`, no address, a meaningless fairyname) that
 * the ledger's entries and others' records keep pointing at. Then every session ends and every
 * grant is revoked, the traces that leaves are erased, and the old address is told.
 * Its email address and phone number are free at once: signing up with them makes a new account,
 * with a new `sub`.
 */
export function createAccountDeletionService(deps: Deps) {
  async function refusalOf(
    repo: ReturnType<typeof createAccountErasureRepository>,
    accountId: string,
  ): Promise<DeletionRefusal | undefined> {
    const alone = await repo.organizationsOnlyOwnedBy(accountId);
    if (alone.length) return { reason: 'last_owner', organizations: alone.map((org) => org.name) };
    const environments = await repo.liveEnvironments(accountId);
    if (environments) return { reason: 'environments', count: environments };
    return undefined;
  }

  return {
    /** What stands in the way, if anything, for the page to say before the person types the confirmation. */
    check: (accountId: string) => refusalOf(createAccountErasureRepository(deps.db), accountId),

    /** `locale`: the language of the person deleting it, for the notice to the address the account had. */
    async delete(accountId: string, locale: Locale = DEFAULT_LOCALE): Promise<DeletionOutcome> {
      type Erased = { refusal: DeletionRefusal } | { email: string | null; phoneNumber: string | null };
      const erased = await deps.db.transaction().execute(async (trx): Promise<Erased> => {
        const repo = createAccountErasureRepository(trx);
        const account = await repo.lockAccount(accountId);
        if (!account || account.status === 'deleted') return { refusal: { reason: 'not_found' } };
        const refusal = await refusalOf(repo, accountId);
        if (refusal) return { refusal };
        await repo.erase(accountId, {
          email: account.email,
          phoneNumber: account.phone_number,
          fairyname: account.fairyname,
        });
        return { email: account.email, phoneNumber: account.phone_number };
      });
      if ('refusal' in erased) return { status: 'refused', refusal: erased.refusal };
      deps.accounts.forgetClaims(accountId);

      // The account is already nobody's: no sign-in reaches it. These end what was open.
      const { grants, sessions } = await deps.status.cutOff(accountId, {
        actor: { type: 'account', id: accountId },
        reason: 'account_deleted',
      });
      await deps.audit.record({
        event: 'account_deleted',
        outcome: 'success',
        origin: { ip: null, userAgent: null },
        accountId,
        detail: { grants, sessions },
      });
      await createAccountErasureRepository(deps.db).eraseTraces(accountId);

      // The notice is a courtesy: a delivery failure does not undo the deletion.
      const words = translator(locale);
      const notice = erased.email
        ? deps.mailer.send(accountDeletedEmail(erased.email, deps.issuer, words))
        : erased.phoneNumber && deps.sms
          ? deps.sms.send(accountDeletedSms(erased.phoneNumber, deps.issuer, words))
          : undefined;
      const notified = notice
        ? await notice.then(
            () => true,
            (error: unknown) => {
              deps.log.warn({ err: error }, 'the account deletion notice failed');
              return false;
            },
          )
        : false;
      return { status: 'deleted', notified };
    },
  };
}

export type AccountDeletionService = ReturnType<typeof createAccountDeletionService>;
