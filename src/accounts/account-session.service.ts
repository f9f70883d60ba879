import type { AuditService } from '../audit/audit.service.ts';
import type { UnitOfWork } from '../events/unit-of-work.ts';
import type { GrantRevocationCause } from '../events/event-catalog.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';
import type { AccountSessionRepository } from './account-session.repository.ts';

const USER_AGENT_LENGTH = 512;

/** A provider session seen at an authorization: who, from where, and until when it lives. */
export type SessionSighting = {
  sessionUid: string;
  /** The provider's current id for the session; it changes at every sign-in. */
  sessionId: string;
  accountId: string;
  origin: RequestOrigin;
  expiresAt: Date;
};

/** The person signed out through the provider's own logout (RP-initiated or our pages' sign-out link). */
export type ProviderSignOut = {
  sessionUid: string;
  sessionId: string;
  accountId: string;
  /** The app that asked for the sign-out, if one did. */
  clientId: string | undefined;
  /** False when the person signed out of that app only and kept their FairyID session. */
  everywhere: boolean;
  origin: RequestOrigin;
};

/** The provider's own record of sessions, which is the truth this index follows. */
export type ProviderSessions = {
  exists(sessionUid: string): Promise<boolean>;
  /**
   * Ends a session in the provider (back-channel logout, grants and tokens, the session itself); false
   * if it was already gone. `cause` is what the revoked grants' grant.revoked events say.
   */
  end(sessionUid: string, cause: GrantRevocationCause): Promise<boolean>;
};

/** The person signing out one of their own sessions, from their account page. */
const signedOut = (accountId: string): GrantRevocationCause => ({
  actor: { type: 'account', id: accountId, client_id: null },
  reason: 'signed_out',
});

/** A person's devices: the provider sessions they are signed in with, and signing them out. */
export function createAccountSessionService(
  repository: AccountSessionRepository,
  /** A session's row closed and its session.revoked event commit together. */
  transaction: UnitOfWork<AccountSessionRepository>,
  audit: AuditService,
) {
  const signOutOne = async (
    accountId: string,
    sessionUid: string,
    origin: RequestOrigin,
    provider: ProviderSessions,
    cause: GrantRevocationCause,
  ) => {
    // The provider's session (in the key-value store, with its back-channel logouts) ends first and
    // outside the transaction: no database transaction should wait on an app's logout endpoint. The
    // row and the event record that it ended; if they fail, the session is gone all the same and
    // `listLive` closes its row later.
    await provider.end(sessionUid, cause);
    await transaction(async (repo, emit) => {
      if (!(await repo.updateEnded(sessionUid))) return;
      await emit({
        type: 'session.revoked',
        actor: { type: 'account', id: accountId, client_id: null },
        subject: { type: 'account', id: accountId },
        data: { session_id: sessionUid },
      });
    });
    await audit.record({
      event: 'session_revoked',
      outcome: 'success',
      origin,
      accountId,
      detail: { session_uid: sessionUid },
    });
  };

  return {
    seen: (sighting: SessionSighting) =>
      repository.upsert({
        session_uid: sighting.sessionUid,
        account_id: sighting.accountId,
        session_id: sighting.sessionId,
        user_agent: sighting.origin.userAgent?.slice(0, USER_AGENT_LENGTH) ?? null,
        ip: sighting.origin.ip,
        expires_at: sighting.expiresAt,
      }),

    async signedOut(event: ProviderSignOut): Promise<void> {
      // Signing out of one app resets the session's id but keeps the session.
      if (event.everywhere) await repository.updateEnded(event.sessionUid);
      else await repository.updateSessionId(event.sessionUid, event.sessionId);
      await audit.record({
        event: 'sign_out',
        outcome: 'success',
        origin: event.origin,
        accountId: event.accountId,
        clientId: event.clientId,
        detail: { session_uid: event.sessionUid, everywhere: event.everywhere },
      });
    },

    touch: (sessionUid: string) => repository.updateLastSeen(sessionUid),

    /** Every session the account had, ended ones too (the person's data export). */
    history: (accountId: string) => repository.findAll(accountId),

    /**
     * The person's sessions that the provider still has. A session can vanish without a logout (the
     * embedded store forgets sessions at a restart); its row is closed here instead of shown.
     */
    async listLive(accountId: string, provider: ProviderSessions) {
      const rows = await repository.findLive(accountId);
      const exists = await Promise.all(rows.map((row) => provider.exists(row.session_uid)));
      await Promise.all(
        rows.filter((_row, index) => !exists[index]).map((row) => repository.updateEnded(row.session_uid)),
      );
      return rows.filter((_row, index) => exists[index]);
    },

    /** False when the session is not one of this person's live sessions (someone else's, or already ended). */
    async signOut(
      accountId: string,
      sessionUid: string,
      origin: RequestOrigin,
      provider: ProviderSessions,
    ): Promise<boolean> {
      if (!(await repository.findLiveOne(accountId, sessionUid))) return false;
      await signOutOne(accountId, sessionUid, origin, provider, signedOut(accountId));
      return true;
    },

    /**
     * Every live session but `keepUid` (the device the person is using); returns how many ended. The
     * grants they revoke are the person's doing unless a `cause` says otherwise (a suspension).
     */
    async signOutOthers(
      accountId: string,
      keepUid: string,
      origin: RequestOrigin,
      provider: ProviderSessions,
      cause: GrantRevocationCause = signedOut(accountId),
    ): Promise<number> {
      const others = (await repository.findLive(accountId)).filter((row) => row.session_uid !== keepUid);
      await Promise.all(others.map((row) => signOutOne(accountId, row.session_uid, origin, provider, cause)));
      return others.length;
    },
  };
}

export type AccountSessionService = ReturnType<typeof createAccountSessionService>;
