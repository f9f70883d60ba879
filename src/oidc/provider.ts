import type { JSONWebKeySet, JWK } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/audit.service.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';
import { findClientsByMetadataIdentity } from './client-lookup.ts';
import { clientSecretMatches } from './client-secrets.ts';
import { buildConfiguration, type ProviderDeps } from './configuration.ts';
import type { GrantRevocationCause } from '../events/event-catalog.ts';
import type { PublishGrantRevoked } from './grant-revocation-events.ts';
import { createGrantRevoker, type RevokeGrant } from './grant-revoker.ts';
import { type Track, watchProviderRevocations } from './provider-revocations.ts';
import { type RefreshGraceDeps, withRefreshGrace } from './refresh-grace.ts';
import { createSessionTermination } from './session-termination.ts';
import type { SigningKeys } from './signing-keys.ts';

export type ProviderHost = {
  /** The provider built from the currently published keys; replaced when they change. */
  current(): Provider;
  /** The public half of the published keys, for verifying our own tokens in-process. */
  publicKeys(): JSONWebKeySet;
  /** Rebuilds the provider if the published key set changed; true when it did. */
  refreshKeys(): Promise<boolean>;
  /** Whether the provider still has the session with this stable uid. */
  sessionExists(sessionUid: string): Promise<boolean>;
  /** Signs a session out from elsewhere (see session-termination.ts); false if it was already gone. */
  endSession(sessionUid: string, cause: GrantRevocationCause): Promise<boolean>;
  /** Revokes a grant and its tokens (grant-revoker.ts), published as grant.revoked when given a cause. */
  revokeGrant: RevokeGrant;
  stop(): void;
};

/** What the rest of FairyID learns about provider sessions, without oidc/ knowing who listens. */
export type SessionEvents = {
  /** An authorization succeeded in this session (a sign-in, or a silent request from an app). */
  seen(sighting: {
    sessionUid: string;
    sessionId: string;
    accountId: string;
    origin: RequestOrigin;
    expiresAt: Date;
  }): Promise<void>;
  /** The person went through the provider's logout; `everywhere` is false when they left one app only. */
  signedOut(event: {
    sessionUid: string;
    sessionId: string;
    accountId: string;
    clientId: string | undefined;
    everywhere: boolean;
    origin: RequestOrigin;
  }): Promise<void>;
};

type HostDeps = Omit<ProviderDeps, 'jwks'> & {
  keys: SigningKeys;
  log: Logger;
  audit: AuditService;
  onGrantRevoked(grantId: string): Promise<void>;
  /** Writes grant.revoked for a grant revoked anywhere but the account page's disconnect. */
  publishGrantRevoked: PublishGrantRevoked;
  sessions: SessionEvents;
  /** Called with each provider built (at start and after each key rotation), to listen to its events. */
  onProvider?: ((provider: Provider) => void) | undefined;
  /** Unset when REFRESH_TOKEN_REUSE_GRACE_SECONDS is 0: every reuse of a rotated token then revokes. */
  refreshGrace?: Omit<RefreshGraceDeps, 'log' | 'audit' | 'revokeGrant'> | undefined;
};

/**
 * oidc-provider fixes its key set at construction, so a rotation (by the CLI or another instance)
 * is picked up by building a fresh Provider over the same storage and swapping it in. Requests in
 * flight finish on the instance they started with.
 */
export async function startProviderHost(deps: HostDeps): Promise<ProviderHost> {
  const revokeGrant = createGrantRevoker({
    provider: () => provider,
    onGrantRevoked: deps.onGrantRevoked,
    publish: deps.publishGrantRevoked,
  });
  let fingerprint = await deps.keys.fingerprint();
  let jwks = await deps.keys.loadPublished();
  let provider = buildProvider(deps, jwks, revokeGrant);
  let publicKeys = toPublicKeySet(jwks);

  async function refreshKeys() {
    const latest = await deps.keys.fingerprint();
    if (latest === fingerprint) return false;
    jwks = await deps.keys.loadPublished();
    provider = buildProvider(deps, jwks, revokeGrant);
    publicKeys = toPublicKeySet(jwks);
    fingerprint = latest;
    deps.log.info({ kids: latest }, 'signing keys changed; provider rebuilt');
    return true;
  }

  const timer = setInterval(() => {
    refreshKeys().catch((error: unknown) => deps.log.error({ err: error }, 'signing key refresh failed'));
  }, deps.config.keysRefreshSeconds * 1000).unref();

  const termination = createSessionTermination({ provider: () => provider, log: deps.log, revokeGrant });

  return {
    current: () => provider,
    publicKeys: () => publicKeys,
    refreshKeys,
    sessionExists: termination.exists,
    endSession: termination.end,
    revokeGrant,
    stop: () => clearInterval(timer),
  };
}

function toPublicKeySet(jwks: JWK[]): JSONWebKeySet {
  return { keys: jwks.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart }) => publicPart) };
}

function buildProvider(deps: HostDeps, jwks: ProviderDeps['jwks'], revokeGrant: RevokeGrant): Provider {
  const Base = deps.refreshGrace
    ? withRefreshGrace({ ...deps.refreshGrace, log: deps.log, audit: deps.audit, revokeGrant })
    : Provider;
  const provider = new Base(deps.config.issuer, buildConfiguration({ ...deps, jwks }));
  provider.proxy = deps.config.trustProxy;
  // Our code reads the client address through clientIp (http/request-origin.ts); this keeps
  // oidc-provider's own ctx.ip (the device confirm page's deviceInfo) on the same entry.
  provider.maxIpsCount = deps.config.trustedProxyHops;
  // Stored client secrets are hashes (see client-secrets.ts), so compare the hash of what was presented.
  provider.Client.prototype.compareClientSecret = function compareHashedSecret(
    this: { clientSecret: string },
    actual: string,
  ) {
    return clientSecretMatches(this.clientSecret, actual);
  };
  findClientsByMetadataIdentity(provider);
  provider.on('server_error', (ctx, error) =>
    deps.log.error({ err: error, path: ctx.path }, 'oidc-provider server error'),
  );
  keepDeviceResumeErrorPages(provider);
  const track = awaitedBeforeResponse(provider, deps.log);
  watchProviderRevocations(
    provider,
    { log: deps.log, audit: deps.audit, onGrantRevoked: deps.onGrantRevoked, publish: deps.publishGrantRevoked },
    track,
  );
  recordSessions(provider, deps, track);
  deps.onProvider?.(provider);
  return provider;
}

/**
 * oidc-provider 9 answers 500 to GET /device/<anything> from a browser with no session: its error
 * handler puts an anti-forgery secret into the new session after the session middleware left it
 * unsaved, then fails to persist a session that was never saved ("persist can only be called on
 * previously persisted Sessions"). The error page is rendered by then; that page is the answer.
 */
function keepDeviceResumeErrorPages(provider: Provider) {
  provider.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const { oidc } = ctx as Partial<KoaContextWithOIDC>;
      const unsavedSession =
        error instanceof TypeError &&
        error.message.includes('previously persisted') &&
        (oidc?.session as { new?: boolean } | undefined)?.new === true;
      if (oidc?.route === 'device_resume' && unsavedSession && ctx.body !== undefined) return;
      throw error;
    }
  });
}

/**
 * Work started by oidc-provider's events and awaited before the response goes out, so the page the
 * person lands on next, or the app's next request, already reflects it. A failure is logged: the
 * protocol's answer stands.
 */
function awaitedBeforeResponse(provider: Provider, log: Logger): Track {
  const pending = new WeakMap<object, Promise<void>[]>();
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      const work = pending.get(ctx);
      if (work) await Promise.all(work);
    }
  });
  return (ctx, work, what) => {
    const settled = work.catch((error: unknown) => log.error({ err: error }, `recording ${what} failed`));
    pending.set(ctx, [...(pending.get(ctx) ?? []), settled]);
  };
}

/** Keeps the account pages' list of sessions current and audits sign-outs. */
function recordSessions(provider: Provider, deps: HostDeps, track: Track) {
  provider.on('authorization.success', (ctx) => {
    const session = ctx.oidc.session;
    if (!session?.accountId) return;
    const sighting = {
      sessionUid: session.uid,
      sessionId: session.jti,
      accountId: session.accountId,
      origin: requestOrigin(ctx),
      // Every authorization saves the session again for the full TTL (oidc-provider's shared/session.js).
      expiresAt: new Date(Date.now() + deps.config.ttl.session * 1000),
    };
    track(ctx, deps.sessions.seen(sighting), 'a session');
  });
  provider.on('end_session.success', (ctx) => {
    const session = ctx.oidc.session;
    if (!session?.accountId) return;
    const event = {
      sessionUid: session.uid,
      sessionId: session.jti,
      accountId: session.accountId,
      clientId: ctx.oidc.client?.clientId,
      everywhere: Boolean((session as { destroyed?: boolean }).destroyed),
      origin: requestOrigin(ctx),
    };
    track(ctx, deps.sessions.signedOut(event), 'a sign-out');
  });
  // An app that is down or answers an error does not stop the person's logout; it is only logged.
  provider.on('backchannel.error', (_ctx, error, client, accountId, sid) => {
    deps.log.warn({ err: error, clientId: client.clientId, accountId, sid }, 'back-channel logout failed');
  });
}
