import type { JSONWebKeySet, JWK } from 'jose';
import Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { clientSecretMatches } from './client-secrets.ts';
import { buildConfiguration, type ProviderDeps } from './configuration.ts';
import type { SigningKeys } from './signing-keys.ts';

export type ProviderHost = {
  /** The provider built from the currently published keys; replaced when they change. */
  current(): Provider;
  /** The public half of the published keys, for verifying our own tokens in-process. */
  publicKeys(): JSONWebKeySet;
  /** Rebuilds the provider if the published key set changed; true when it did. */
  refreshKeys(): Promise<boolean>;
  stop(): void;
};

type HostDeps = Omit<ProviderDeps, 'jwks'> & { keys: SigningKeys; log: Logger; onGrantRevoked(grantId: string): Promise<void> };

/**
 * oidc-provider fixes its key set at construction, so a rotation (by the CLI or another instance)
 * is picked up by building a fresh Provider over the same storage and swapping it in. Requests in
 * flight finish on the instance they started with.
 */
export async function startProviderHost(deps: HostDeps): Promise<ProviderHost> {
  let fingerprint = await deps.keys.fingerprint();
  let jwks = await deps.keys.loadPublished();
  let provider = buildProvider(deps, jwks);
  let publicKeys = toPublicKeySet(jwks);

  async function refreshKeys() {
    const latest = await deps.keys.fingerprint();
    if (latest === fingerprint) return false;
    jwks = await deps.keys.loadPublished();
    provider = buildProvider(deps, jwks);
    publicKeys = toPublicKeySet(jwks);
    fingerprint = latest;
    deps.log.info({ kids: latest }, 'signing keys changed; provider rebuilt');
    return true;
  }

  const timer = setInterval(() => {
    refreshKeys().catch((error: unknown) => deps.log.error({ err: error }, 'signing key refresh failed'));
  }, deps.config.keysRefreshSeconds * 1000).unref();

  return { current: () => provider, publicKeys: () => publicKeys, refreshKeys, stop: () => clearInterval(timer) };
}

function toPublicKeySet(jwks: JWK[]): JSONWebKeySet {
  return { keys: jwks.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart }) => publicPart) };
}

function buildProvider(deps: HostDeps, jwks: ProviderDeps['jwks']): Provider {
  const provider = new Provider(deps.config.issuer, buildConfiguration({ ...deps, jwks }));
  provider.proxy = deps.config.trustProxy;
  // Stored client secrets are hashes (see client-secrets.ts), so compare the hash of what was presented.
  provider.Client.prototype.compareClientSecret = function compareHashedSecret(this: { clientSecret: string }, actual: string) {
    return clientSecretMatches(this.clientSecret, actual);
  };
  provider.on('server_error', (ctx, error) => deps.log.error({ err: error, path: ctx.path }, 'oidc-provider server error'));
  provider.on('grant.revoked', (_ctx, grantId: string) => {
    deps.log.info({ grantId }, 'grant revoked');
    deps.onGrantRevoked(grantId).catch((error: unknown) => deps.log.error({ err: error, grantId }, 'recording a revoked grant failed'));
  });
  return provider;
}
