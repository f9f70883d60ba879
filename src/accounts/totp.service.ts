import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import { createSealedBox, UnsealError } from '../shared/sealed-box.ts';
import type { TotpRepository } from './totp.repository.ts';
import type { UnitOfWork } from '../events/unit-of-work.ts';
import { factorEvent } from './factor-events.ts';
import { required } from '../shared/required.ts';
import { type Clock, systemClock } from '../shared/clock.ts';

const ISSUER_NAME = 'FairyID';
const ENROLLMENT_SECONDS = 15 * 60;
// One step (30 s) either side, for clocks that drift and codes typed as the step turns.
const TOLERANCE_SECONDS = 30;
const DEFAULT_NAME = 'Authenticator app';

export type TotpEnrollment = {
  /** The secret in base32, for typing into the app by hand. */
  secret: string;
  uri: string;
  /** The otpauth URI as a QR code: an SVG drawn here, so no image service sees the secret. */
  qrSvg: string;
  /** The secret sealed to this account and time, carried by the confirmation form. */
  pending: string;
};

export type TotpCheck = 'ok' | 'wrong' | 'replayed' | 'none';

/**
 * Authenticator apps (RFC 6238: SHA-1, 6 digits, 30-second steps, what every app supports). The
 * secret is sealed at rest under KEYS_SECRET; a code is accepted once, and never one from a step at
 * or before the last accepted one.
 */
export function createTotpService(
  repository: TotpRepository,
  /** A factor's row and its account.factor_added or _removed event commit together. */
  transaction: UnitOfWork<TotpRepository>,
  secrets: string | readonly string[],
  clock: Clock = systemClock,
) {
  const sealedSecrets = createSealedBox(secrets, 'totp-secrets-at-rest');
  const enrollments = createSealedBox(secrets, 'totp-enrollment');

  const openPending = (accountId: string, pending: string): string | undefined => {
    try {
      const { secret: base32, issuedAt } = JSON.parse(enrollments.open(accountId, pending)) as {
        secret: string;
        issuedAt: number;
      };
      return clock.now() / 1000 - issuedAt <= ENROLLMENT_SECONDS ? base32 : undefined;
    } catch (error) {
      if (error instanceof UnsealError || error instanceof SyntaxError) return undefined;
      throw error;
    }
  };

  /** The enrollment a pending form stands for, or undefined when the form is forged or too old. */
  const enrollmentOf = async (
    accountId: string,
    label: string,
    pending: string,
  ): Promise<TotpEnrollment | undefined> => {
    const base32 = openPending(accountId, pending);
    if (!base32) return undefined;
    const uri = generateURI({ issuer: ISSUER_NAME, label, secret: base32 });
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret: base32, uri, qrSvg, pending };
  };

  return {
    find: (accountId: string) => repository.find(accountId),

    /**
     * A new secret for the enrollment page. Nothing is stored until the person proves their app
     * has it: the secret travels sealed in the form, bound to the account and good for 15 minutes.
     */
    async beginEnrollment(accountId: string, label: string): Promise<TotpEnrollment> {
      const pending = enrollments.seal(
        accountId,
        JSON.stringify({ secret: generateSecret(), issuedAt: Math.floor(clock.now() / 1000) }),
      );
      // Sealed a moment ago with this process's key, so it opens.
      return required(await enrollmentOf(accountId, label, pending), 'the new enrollment');
    },

    /** The same enrollment again (after a wrong code), or undefined when its form is forged or too old. */
    resumeEnrollment: enrollmentOf,

    /**
     * 'ok' once the app's code matches; 'expired' when the form is too old to trust. `clientId`: the
     * app being signed in to, when the person enrolls during a sign-in.
     */
    async confirmEnrollment(
      accountId: string,
      pending: string,
      code: string,
      clientId?: string | undefined,
    ): Promise<'ok' | 'wrong' | 'expired' | 'exists'> {
      const base32 = openPending(accountId, pending);
      if (!base32) return 'expired';
      const step = await matchedStep(base32, code, clock);
      if (step === undefined) return 'wrong';
      const inserted = await transaction(async (repo, emit) => {
        const added = await repo.insert({
          account_id: accountId,
          sealed_secret: sealedSecrets.seal(accountId, base32),
          name: DEFAULT_NAME,
          // The confirming code is spent: it cannot also pass the sign-in that follows.
          last_used_step: step,
        });
        if (added) await emit(factorEvent('account.factor_added', accountId, 'totp', clientId));
        return added;
      });
      return inserted ? 'ok' : 'exists';
    },

    async check(accountId: string, code: string): Promise<TotpCheck> {
      const factor = await repository.find(accountId);
      if (!factor) return 'none';
      const base32 = sealedSecrets.open(accountId, factor.sealed_secret);
      const step = await matchedStep(base32, code, clock);
      if (step === undefined) return 'wrong';
      return (await repository.advanceStep(accountId, step)) ? 'ok' : 'replayed';
    },

    /** 1 to 60 characters; the page checks the length. */
    rename: (accountId: string, name: string) => repository.rename(accountId, name),

    remove: (accountId: string) =>
      transaction(async (repo, emit) => {
        const removed = await repo.delete(accountId);
        if (removed) await emit(factorEvent('account.factor_removed', accountId, 'totp'));
        return removed;
      }),
  };
}

/** The RFC 6238 time step the code belongs to, within the tolerance; undefined for a wrong code. */
async function matchedStep(secret: string, code: string, clock: Clock): Promise<number | undefined> {
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(clock.now() / 1000),
    epochTolerance: TOLERANCE_SECONDS,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

export type TotpService = ReturnType<typeof createTotpService>;
