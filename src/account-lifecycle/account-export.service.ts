import type { Account } from '../accounts/account.table.ts';
import type { AccountSession } from '../accounts/account-session.table.ts';
import type { Passkey, TotpFactor } from '../accounts/factor.table.ts';
import type { AuditEvent } from '../audit/audit.table.ts';
import type { LinkedIdentity } from '../federation/linked-identity.table.ts';

const LEDGER_PAGE = 500;

type LedgerEntry = {
  id: string;
  amount: number;
  created_at: Date;
  transaction_id: string;
  kind: string;
  description: string | null;
  client_id: string | null;
  organization_id: string | null;
  reverses_id: string | null;
};

/** What the export reads, each from the domain that owns it (services.ts passes them in). */
export type ExportSources = {
  account(id: string): Promise<Account | undefined>;
  passkeys(accountId: string): Promise<Passkey[]>;
  totp(accountId: string): Promise<TotpFactor | undefined>;
  backupCodesLeft(accountId: string): Promise<number>;
  sessions(accountId: string): Promise<AccountSession[]>;
  /** A null name: the app's registration was removed; a null organization: one the person left. */
  connectedApps(
    accountId: string,
  ): Promise<
    { clientId: string; name: string | null; scopes: string[]; organizations: (string | null)[]; since: Date }[]
  >;
  memberships(accountId: string): Promise<{ id: string; slug: string; name: string; status: string; role: string }[]>;
  dustBalance(accountId: string): Promise<number>;
  dustEntries(
    accountId: string,
    page: { cursor: { at: string; id: string } | undefined; limit: number },
  ): Promise<LedgerEntry[]>;
  auditEvents(accountId: string): Promise<AuditEvent[]>;
  linkedIdentities(accountId: string): Promise<(LinkedIdentity & { providerName: string })[]>;
};

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

/**
 * Everything FairyID holds about a person, as one JSON document they can take elsewhere. Secrets
 * stay out: no TOTP key, no backup codes (only how many are left), no passkey public key or
 * credential id, no session cookie ids, no token of any kind.
 */
export function createAccountExportService(sources: ExportSources) {
  async function allDustEntries(accountId: string) {
    const entries: LedgerEntry[] = [];
    let cursor: { at: string; id: string } | undefined;
    for (;;) {
      const rows = await sources.dustEntries(accountId, { cursor, limit: LEDGER_PAGE });
      entries.push(...rows.slice(0, LEDGER_PAGE));
      const last = rows[LEDGER_PAGE - 1];
      if (rows.length <= LEDGER_PAGE || !last) return entries;
      cursor = { at: last.created_at.toISOString(), id: last.id };
    }
  }

  return {
    /** Undefined when the account does not exist (or was deleted). */
    async export(accountId: string, now: Date) {
      const account = await sources.account(accountId);
      if (!account || account.status === 'deleted') return undefined;
      const [passkeys, totp, backupCodesLeft, sessions, apps, memberships, balance, entries, audit, identities] =
        await Promise.all([
          sources.passkeys(accountId),
          sources.totp(accountId),
          sources.backupCodesLeft(accountId),
          sources.sessions(accountId),
          sources.connectedApps(accountId),
          sources.memberships(accountId),
          sources.dustBalance(accountId),
          allDustEntries(accountId),
          sources.auditEvents(accountId),
          sources.linkedIdentities(accountId),
        ]);
      return {
        format: 'fairyid-account-export/1',
        exported_at: now.toISOString(),
        profile: {
          sub: account.id,
          fairyname: account.fairyname,
          name: account.name,
          picture: account.picture_url,
          status: account.status,
          platform_owner: account.platform_owner,
          created_at: iso(account.created_at),
          updated_at: iso(account.updated_at),
        },
        identifiers: {
          email: account.email,
          email_verified: account.email ? account.email_verified : null,
          phone_number: account.phone_number,
          phone_number_verified: account.phone_number ? account.phone_number_verified : null,
        },
        factors: {
          passkeys: passkeys.map((passkey) => ({
            name: passkey.name,
            device_type: passkey.device_type,
            backed_up: passkey.backed_up,
            transports: passkey.transports,
            created_at: iso(passkey.created_at),
            last_used_at: iso(passkey.last_used_at),
          })),
          authenticator_app: totp
            ? { name: totp.name, created_at: iso(totp.created_at), last_used_at: iso(totp.last_used_at) }
            : null,
          backup_codes_left: backupCodesLeft,
        },
        sessions: sessions.map((session) => ({
          user_agent: session.user_agent,
          ip: session.ip,
          created_at: iso(session.created_at),
          last_seen_at: iso(session.last_seen_at),
          expires_at: iso(session.expires_at),
          ended_at: iso(session.ended_at),
        })),
        grants: apps.map((app) => ({
          client_id: app.clientId,
          app: app.name,
          scopes: app.scopes,
          organizations: app.organizations,
          since: iso(app.since),
        })),
        memberships: memberships.map((membership) => ({
          organization_id: membership.id,
          slug: membership.slug,
          name: membership.name,
          status: membership.status,
          role: membership.role,
        })),
        dust: {
          balance,
          history: entries.map((entry) => ({
            transaction_id: entry.transaction_id,
            kind: entry.kind,
            amount: entry.amount,
            description: entry.description,
            client_id: entry.client_id,
            organization_id: entry.organization_id,
            reverses: entry.reverses_id,
            at: iso(entry.created_at),
          })),
        },
        audit_events: audit.map((event) => ({
          event: event.event,
          outcome: event.outcome,
          client_id: event.client_id,
          ip: event.ip,
          user_agent: event.user_agent,
          detail: event.detail,
          at: iso(event.created_at),
        })),
        linked_identities: identities.map((identity) => ({
          provider: identity.provider,
          provider_name: identity.providerName,
          subject: identity.subject,
          email: identity.email,
          display_name: identity.display_name,
          created_at: iso(identity.created_at),
          last_used_at: iso(identity.last_used_at),
        })),
      };
    },
  };
}

export type AccountExport = NonNullable<Awaited<ReturnType<ReturnType<typeof createAccountExportService>['export']>>>;
export type AccountExportService = ReturnType<typeof createAccountExportService>;
