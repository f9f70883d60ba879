import type { CDPSession, Page } from 'playwright-core';

/** A credential as Chrome's DevTools protocol reports it (WebAuthn.Credential), enough to copy it elsewhere. */
export type VirtualCredential = {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
  backupEligibility?: boolean;
  backupState?: boolean;
};

export type AuthenticatorOptions = {
  /** Whether the key reports user verification (a fingerprint, a PIN). */
  isUserVerified?: boolean;
  /** Backup eligible: a synced passkey (multi-device) rather than a device-bound key. */
  defaultBackupEligibility?: boolean;
  defaultBackupState?: boolean;
};

/**
 * A virtual platform authenticator in `page`'s browser (Chrome DevTools protocol): it answers
 * navigator.credentials with discoverable credentials and user verification, with no person there.
 */
export async function addVirtualAuthenticator(page: Page, options: AuthenticatorOptions = {}) {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: options.isUserVerified ?? true,
      automaticPresenceSimulation: true,
      ...(options.defaultBackupEligibility !== undefined
        ? { defaultBackupEligibility: options.defaultBackupEligibility }
        : {}),
      ...(options.defaultBackupState !== undefined ? { defaultBackupState: options.defaultBackupState } : {}),
    },
  });
  return {
    authenticatorId,
    async credentials(): Promise<VirtualCredential[]> {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials as VirtualCredential[];
    },
    /** Puts a copy of a credential (from another authenticator) into this one. */
    async addCredential(credential: VirtualCredential) {
      await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: credential as never });
    },
    async clearCredentials() {
      await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
    },
    async setUserVerified(isUserVerified: boolean) {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified });
    },
  };
}

export type VirtualAuthenticator = Awaited<ReturnType<typeof addVirtualAuthenticator>>;
