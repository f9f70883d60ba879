import { randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { KeyValueStore } from '../db/key-value.ts';
import type { Account } from './account.table.ts';
import type { Passkey } from './factor.table.ts';
import { accountLabel } from './account-label.ts';
import type { PasskeyRepository } from './passkey.repository.ts';
import type { UnitOfWork } from '../events/unit-of-work.ts';
import { DATE_LOCALES, DEFAULT_LOCALE, type Locale } from '../i18n/locales.ts';
import { translator } from '../i18n/translator.ts';
import { factorEvent } from './factor-events.ts';

/** How long a ceremony may take; the challenge lives a little longer than the browser waits. */
const CEREMONY_TIMEOUT_MS = 180_000;
const CHALLENGE_TTL_SECONDS = 240;

export type RelyingParty = { id: string; name: string; origin: string };

/** The WebAuthn relying party is the issuer: its host name is the RP ID, and only its origin may answer. */
export function relyingPartyOf(issuer: string): RelyingParty {
  const url = new URL(issuer);
  return { id: url.hostname, name: 'FairyID', origin: url.origin };
}

/** What a challenge was issued for: a ceremony answers only the one it was asked for, in the place it was asked. */
type ChallengeRecord = {
  purpose: 'register' | 'authenticate';
  /** Where it was issued: `interaction:<uid>` or `session:<uid>`. */
  binding: string;
  accountId?: string | undefined;
};

const base64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/)
  .max(8192);

/** The browser's JSON forms of a WebAuthn credential (what @simplewebauthn/browser sends). */
export const authenticationResponseSchema = z.object({
  id: base64url.min(1),
  rawId: base64url.min(1),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

export const registrationResponseSchema = z.object({
  id: base64url.min(1),
  rawId: base64url.min(1),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url.max(65536),
    authenticatorData: base64url.optional(),
    transports: z.array(z.string().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

export type PasskeyRefusal =
  /** No challenge, one already used, or one issued for another purpose, page or person. */
  | 'challenge'
  | 'unknown_credential'
  /** A credential of another account than the one signing in. */
  | 'wrong_account'
  /** The signature, origin, relying party or flags did not verify. */
  | 'invalid'
  | 'user_not_verified'
  /** The signature counter did not move forward: a copy of the key may exist (WebAuthn 6.1.1). */
  | 'cloned'
  /** A device-bound key now claims to be backed up or syncable: not the authenticator that registered. */
  | 'backup_state'
  | 'already_registered';

export type VerifiedPasskey = {
  ok: true;
  passkey: Passkey;
  accountId: string;
  /** Synced passkeys are software-held keys (`swk`); device-bound ones hardware-held (`hwk`). RFC 8176. */
  method: 'passkey_swk' | 'passkey_hwk';
  /** When the authenticator reports a different backup state than last time. */
  backedUpChanged?: { from: boolean; to: boolean };
};

export type Refused = {
  ok: false;
  reason: PasskeyRefusal;
  accountId?: string | undefined;
  passkey?: Passkey | undefined;
};

/** The user handle: the account id's bytes. Opaque (a random UUID), stable, and no personal data (WebAuthn 14.6.1). */
export const userHandle = (accountId: string) => new TextEncoder().encode(accountId);
const userHandleText = (accountId: string) => Buffer.from(userHandle(accountId)).toString('base64url');

export const methodOf = (passkey: Pick<Passkey, 'device_type' | 'backed_up'>) =>
  passkey.device_type === 'multiDevice' || passkey.backed_up ? 'passkey_swk' : 'passkey_hwk';

/**
 * Passkeys (WebAuthn credentials): registering one, and signing in with one as a first factor
 * (discoverable credentials) or as a second. Challenges live in the key-value store, are bound to
 * where they were issued, and are used up by the first answer, right or wrong.
 */
export function createPasskeyService(deps: {
  repository: PasskeyRepository;
  /** A passkey's row and its account.factor_added or _removed event commit together. */
  transaction: UnitOfWork<PasskeyRepository>;
  kv: KeyValueStore;
  relyingParty: RelyingParty;
}) {
  const { repository, kv, relyingParty } = deps;
  const challengeKey = (challenge: string) => `passkey-challenge:${challenge}`;

  const holdChallenge = async (challenge: string, record: ChallengeRecord) => {
    await kv.write([
      { op: 'set', key: challengeKey(challenge), value: JSON.stringify(record), ttlSeconds: CHALLENGE_TTL_SECONDS },
    ]);
  };

  /**
   * Takes the challenge the browser signed out of the store: only the request whose delete removed
   * it goes on, so a replayed or concurrent answer finds nothing.
   */
  const takeChallenge = async (clientDataJSON: string, expected: ChallengeRecord): Promise<string | undefined> => {
    let challenge: unknown;
    try {
      challenge = (JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown })
        .challenge;
    } catch {
      return undefined;
    }
    if (typeof challenge !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) return undefined;
    const stored = await kv.get(challengeKey(challenge));
    if (!stored || (await kv.del(challengeKey(challenge))) !== 1) return undefined;
    const record = JSON.parse(stored) as ChallengeRecord;
    const matches =
      record.purpose === expected.purpose &&
      record.binding === expected.binding &&
      record.accountId === expected.accountId;
    return matches ? challenge : undefined;
  };

  return {
    list: (accountId: string) => repository.findByAccount(accountId),

    /** Options for navigator.credentials.create(): a discoverable credential with user verification, none this person already has. */
    async registrationOptions(account: Account, binding: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
      // What the browser's passkey list shows: the address the person signs in with.
      const userName = accountLabel(account);
      const existing = await repository.findByAccount(account.id);
      const options = await generateRegistrationOptions({
        rpName: relyingParty.name,
        rpID: relyingParty.id,
        userID: userHandle(account.id),
        userName,
        userDisplayName: account.name ?? userName,
        timeout: CEREMONY_TIMEOUT_MS,
        attestationType: 'none',
        excludeCredentials: existing.map((passkey) => ({ id: passkey.credential_id, transports: passkey.transports })),
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      });
      await holdChallenge(options.challenge, { purpose: 'register', binding, accountId: account.id });
      return options;
    },

    /**
     * Verifies a new credential and stores it under `name` (or a dated default, in the person's
     * language). `clientId`: the app being signed in to, when the person makes it during a sign-in.
     */
    async verifyRegistration(
      accountId: string,
      binding: string,
      response: RegistrationResponseJSON,
      name?: string | undefined,
      locale: Locale = DEFAULT_LOCALE,
      clientId?: string | undefined,
    ): Promise<VerifiedPasskey | Refused> {
      const challenge = await takeChallenge(response.response.clientDataJSON, {
        purpose: 'register',
        binding,
        accountId,
      });
      if (!challenge) return { ok: false, reason: 'challenge', accountId };
      let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: relyingParty.origin,
          expectedRPID: relyingParty.id,
          requireUserVerification: true,
        });
      } catch {
        return { ok: false, reason: 'invalid', accountId };
      }
      if (!verification.verified) return { ok: false, reason: 'invalid', accountId };
      const info = verification.registrationInfo;
      if (!info.userVerified) return { ok: false, reason: 'user_not_verified', accountId };
      const passkey = await deps.transaction(async (repo, emit) => {
        const inserted = await repo.insert({
          id: randomUUID(),
          account_id: accountId,
          credential_id: info.credential.id,
          public_key: info.credential.publicKey,
          counter: info.credential.counter,
          transports: info.credential.transports ?? response.response.transports ?? [],
          device_type: info.credentialDeviceType,
          backed_up: info.credentialBackedUp,
          name: name ?? defaultName(locale),
        });
        if (inserted) await emit(factorEvent('account.factor_added', accountId, 'passkey', clientId));
        return inserted;
      });
      if (!passkey) return { ok: false, reason: 'already_registered', accountId };
      return { ok: true, passkey, accountId, method: methodOf(passkey) };
    },

    /**
     * Options for navigator.credentials.get(). Without an account: any discoverable credential
     * (the person picks one, first factor). With one: that account's credentials (second factor).
     */
    async authenticationOptions(binding: string, accountId?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const allow = accountId ? await repository.findByAccount(accountId) : [];
      const options = await generateAuthenticationOptions({
        rpID: relyingParty.id,
        timeout: CEREMONY_TIMEOUT_MS,
        userVerification: 'required',
        allowCredentials: allow.map((passkey) => ({ id: passkey.credential_id, transports: passkey.transports })),
      });
      await holdChallenge(options.challenge, { purpose: 'authenticate', binding, accountId });
      return options;
    },

    /** Verifies an assertion; with `expectedAccountId`, the credential must be one of that account's. */
    async verifyAuthentication(
      binding: string,
      response: AuthenticationResponseJSON,
      expectedAccountId?: string,
    ): Promise<VerifiedPasskey | Refused> {
      const challenge = await takeChallenge(response.response.clientDataJSON, {
        purpose: 'authenticate',
        binding,
        accountId: expectedAccountId,
      });
      if (!challenge) return { ok: false, reason: 'challenge', accountId: expectedAccountId };
      const passkey = await repository.findByCredentialId(response.id);
      if (!passkey) return { ok: false, reason: 'unknown_credential', accountId: expectedAccountId };
      const accountId = passkey.account_id;
      if (expectedAccountId && accountId !== expectedAccountId)
        return { ok: false, reason: 'wrong_account', accountId: expectedAccountId };
      // A discoverable credential names its user; it must be the account the credential is filed under.
      if (response.response.userHandle && response.response.userHandle !== userHandleText(accountId)) {
        return { ok: false, reason: 'wrong_account', accountId, passkey };
      }
      let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
      try {
        verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: relyingParty.origin,
          expectedRPID: relyingParty.id,
          requireUserVerification: true,
          // The counter is checked below, after the signature, so that only a correctly signed
          // assertion can be taken for a clone (and recorded as one); the library would refuse first.
          credential: {
            id: passkey.credential_id,
            publicKey: new Uint8Array(passkey.public_key),
            counter: 0,
            transports: passkey.transports,
          },
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : '';
        if (/user verification/i.test(message)) return { ok: false, reason: 'user_not_verified', accountId, passkey };
        // parseBackupFlags refuses a backup state without backup eligibility.
        if ((error as Error | undefined)?.name === 'InvalidBackupFlags')
          return { ok: false, reason: 'backup_state', accountId, passkey };
        return { ok: false, reason: 'invalid', accountId, passkey };
      }
      const info = verification.authenticationInfo;
      if (!verification.verified) return { ok: false, reason: 'invalid', accountId, passkey };
      if (!info.userVerified) return { ok: false, reason: 'user_not_verified', accountId, passkey };
      // Backup eligibility is fixed when a credential is made (WebAuthn 6.1.3): a device-bound key
      // that now says it can sync, or is backed up, is not the key that registered.
      if (
        info.credentialDeviceType !== passkey.device_type ||
        (passkey.device_type === 'singleDevice' && info.credentialBackedUp)
      ) {
        return { ok: false, reason: 'backup_state', accountId, passkey };
      }
      const stored = Number(passkey.counter);
      if ((info.newCounter > 0 || stored > 0) && info.newCounter <= stored)
        return { ok: false, reason: 'cloned', accountId, passkey };
      // The same rule, atomically: a concurrent request with the same counter loses here.
      if (!(await repository.updateUse(passkey.id, { counter: info.newCounter, backedUp: info.credentialBackedUp }))) {
        return { ok: false, reason: 'cloned', accountId, passkey };
      }
      const used = {
        ...passkey,
        counter: String(info.newCounter),
        backed_up: info.credentialBackedUp,
        last_used_at: new Date(),
      };
      return {
        ok: true,
        passkey: used,
        accountId,
        method: methodOf(used),
        ...(info.credentialBackedUp !== passkey.backed_up
          ? { backedUpChanged: { from: passkey.backed_up, to: info.credentialBackedUp } }
          : {}),
      };
    },

    /** Undefined when the passkey is not this person's. */
    rename: (accountId: string, id: string, name: string) => repository.updateName(accountId, id, name),

    /** The removed passkey; undefined when it is not this person's (or is already gone). */
    remove: (accountId: string, id: string) =>
      deps.transaction(async (repo, emit) => {
        const removed = await repo.delete(accountId, id);
        if (removed) await emit(factorEvent('account.factor_removed', accountId, 'passkey'));
        return removed;
      }),
  };
}

function defaultName(locale: Locale, now = new Date()) {
  const date = new Intl.DateTimeFormat(DATE_LOCALES[locale], { dateStyle: 'medium', timeZone: 'UTC' }).format(now);
  return translator(locale).t('notices.passkeyDefaultName', { date });
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
