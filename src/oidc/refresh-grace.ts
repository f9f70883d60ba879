import { hash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import Provider, {
  type CanBePromise,
  errors,
  type KoaContextWithOIDC,
  type TokenEndpointGrantContext,
} from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/audit.service.ts';
import type { KeyValueStore, KeyValueWrite } from '../db/key-value.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { Clock } from '../shared/clock.ts';
import { RefreshCopyAdapter, rideWithNextSave, settleDeferredConsume, unriddenWrites } from './adapter.ts';
import type { RevokeGrant } from './grant-revoker.ts';

/**
 * A bounded grace window for rotated refresh tokens.
 *
 * FairyID rotates refresh tokens, and oidc-provider revokes the whole grant when a rotated one is
 * presented again (OAuth 2.0 Security BCP, RFC 9700 4.14.2): the server cannot tell the client from
 * a thief, so both lose. A client whose refresh answer was lost (a dropped connection, a process
 * killed before it saved the new token) then logs its person out by retrying. So, for a few seconds
 * after a rotation, the rotated token may be presented once more by the client it was issued to
 * (with the same DPoP key, if it is bound to one), and is answered with its successor and a fresh
 * access token: the same successor, not a new one, so the grant keeps a single rotation chain and
 * the next reuse of either copy is still detected. Every other reuse (a second one, concurrent or
 * not; another client; another DPoP key; after the window; after the successor was used itself)
 * revokes the grant as before.
 *
 * Hooked in one place: the refresh_token grant handler oidc-provider registers is wrapped, so its
 * own checks and token issuance run unchanged. Rotations are remembered in the shared store; a
 * rotation's record is deleted by the request that uses its grace, and a delete counts once across
 * every instance (KeyValueStore.del), which makes the grace single-use.
 */

/** Requests answered with a rotated token's successor: configuration.ts tells oidc-provider not to rotate it. */
const graceReuses = new WeakSet<object>();

export function isGraceReuse(ctx: object): boolean {
  return graceReuses.has(ctx);
}

/** Requests whose refused reuse of a rotated token is on the audit trail already. */
const auditedReuses = new WeakSet<object>();

/** Whether this request's reuse was audited here: oidc-provider's own reuse revocation audits the others. */
export function isReuseAudited(ctx: object): boolean {
  return auditedReuses.has(ctx);
}

type Rotation = {
  successor: string;
  clientId: string;
  grantId: string;
  accountId: string;
  /** RFC 9449 5: the DPoP key the rotated token was bound to. */
  jkt?: string | undefined;
  /** When the rotation happened, on our clock (milliseconds). */
  rotatedAt: number;
};

type RefusedReuse = 'already_used' | 'window_over' | 'other_client' | 'other_key';

export type RefreshGraceDeps = {
  windowSeconds: number;
  kv: KeyValueStore;
  clock: Clock;
  audit: AuditService;
  log: Logger;
  revokeGrant: RevokeGrant;
};

type GrantHandler<Params extends object> = (ctx: TokenEndpointGrantContext<Params>) => CanBePromise<void>;
type ParameterNames = string | readonly string[] | ReadonlySet<string>;

/** oidc-provider's Provider, with the refresh_token grant wrapped in the grace window. */
export function withRefreshGrace(deps: RefreshGraceDeps): typeof Provider {
  const windowMs = deps.windowSeconds * 1000;
  // The clock decides when the window ends; the TTL only cleans up, a minute later, so that the window
  // is never cut short by a store whose time runs apart from the injected clock.
  const ttlSeconds = deps.windowSeconds + 60;
  // The rotated token is no longer valid, yet it is hashed so that the store's keys name no token. The
  // one-shot hash, once per refresh (the screened token is the one rotated): createHash and a second
  // digest were 2-3 % of a refresh's CPU in the profile of README's round six.
  const key = (token: string) => `refresh-grace:${hash('sha256', token, 'base64url')}`;
  const screenedKeys = new WeakMap<object, { token: string; key: string }>();
  const keyOf = (ctx: KoaContextWithOIDC, token: string) => {
    const screened = screenedKeys.get(ctx);
    return screened?.token === token ? screened.key : key(token);
  };

  function rotationWrites(ctx: KoaContextWithOIDC): KeyValueWrite[] {
    const rotated = ctx.oidc.entities.RotatedRefreshToken;
    const successor = ctx.oidc.entities.RefreshToken;
    if (!rotated?.jti || !successor?.jti || !rotated.grantId || !rotated.clientId || !rotated.accountId) return [];
    // The successor is stored as the adapter stores every refresh token: by its value, here for seconds.
    const rotation: Rotation = {
      successor: successor.jti,
      clientId: rotated.clientId,
      grantId: rotated.grantId,
      accountId: rotated.accountId,
      jkt: rotated.jkt,
      rotatedAt: deps.clock.now(),
    };
    return [{ op: 'set', key: keyOf(ctx, rotated.jti), value: JSON.stringify(rotation), ttlSeconds }];
  }

  /** Writes the rotation's record, unless it already went out with the access token's save. */
  async function remember(ctx: KoaContextWithOIDC) {
    const writes = unriddenWrites(ctx);
    if (!writes.length) return;
    try {
      await deps.kv.write(writes);
    } catch (error) {
      // The rotation stands; without its record a reuse revokes the grant, as with no grace at all.
      deps.log.error({ err: error }, 'remembering a refresh token rotation failed');
    }
  }

  function record(ctx: KoaContextWithOIDC, rotation: Rotation, reason?: RefusedReuse) {
    // A grace reuse whose successor turns out used as well is a reuse oidc-provider revokes for: not this one.
    if (reason) auditedReuses.add(ctx);
    return deps.audit.record({
      event: 'refresh_token_reused',
      outcome: reason ? 'failure' : 'success',
      origin: requestOrigin(ctx),
      accountId: rotation.accountId,
      clientId: rotation.clientId,
      ...(reason ? { detail: { reason } } : {}),
    });
  }

  /**
   * Points a grace reuse at its successor (true), refuses a reuse outright, or leaves the request to
   * oidc-provider's rules (false).
   */
  async function screen(ctx: KoaContextWithOIDC): Promise<boolean> {
    const presented = ctx.oidc.params?.refresh_token;
    if (typeof presented !== 'string') return false;
    const presentedKey = key(presented);
    screenedKeys.set(ctx, { token: presented, key: presentedKey });
    // The presented token's copy (adapter.ts) is taken in the same round trip (the client pipelines
    // both), for oidc-provider's lookup of the token if no grace reuse points it elsewhere.
    const copies = ctx.oidc.provider.RefreshToken.adapter;
    const [raw] = await Promise.all([
      deps.kv.get(presentedKey),
      copies instanceof RefreshCopyAdapter ? copies.take(ctx, presented) : undefined,
    ]);
    // Never rotated, or longer ago than the window: oidc-provider's own rules apply (a reuse revokes).
    if (!raw) return false;
    const rotation = JSON.parse(raw) as Rotation;
    const claimed = (await deps.kv.del(presentedKey)) === 1;

    const mismatch: RefusedReuse | undefined =
      ctx.oidc.client?.clientId !== rotation.clientId
        ? 'other_client'
        : rotation.jkt && (await proofThumbprint(ctx)) !== rotation.jkt
          ? 'other_key'
          : undefined;
    if (mismatch) {
      // oidc-provider would only answer "client mismatch" or "failed jkt verification"; but a rotated
      // token in other hands has leaked, and RFC 9700 4.14.2 asks for the grant to go.
      await deps.revokeGrant(rotation.grantId, { actor: { type: 'system' }, reason: 'refresh_token_reused' });
      deps.log.info({ grantId: rotation.grantId, reason: mismatch }, 'grant revoked: rotated refresh token reused');
      await record(ctx, rotation, mismatch);
      throw new errors.InvalidGrant('refresh token already used');
    }

    const refusal: RefusedReuse | undefined = !claimed
      ? 'already_used'
      : deps.clock.now() - rotation.rotatedAt > windowMs
        ? 'window_over'
        : undefined;
    if (refusal) {
      // The presented token is consumed, so oidc-provider's handler revokes the grant.
      await record(ctx, rotation, refusal);
      return false;
    }
    (ctx.oidc.params as Record<string, unknown>).refresh_token = rotation.successor;
    graceReuses.add(ctx);
    // Recorded as it is granted: whether the successor still works (it may have been rotated or
    // revoked meanwhile) is for oidc-provider's handler to say.
    await record(ctx, rotation);
    return true;
  }

  function wrap<Params extends object>(handler: GrantHandler<Params>): GrantHandler<Params> {
    return async (ctx) => {
      const graced = await screen(ctx);
      // The rotation's record rides with the opaque access token's save, one Redis round trip for both.
      if (!graced) rideWithNextSave(ctx, () => rotationWrites(ctx));
      // oidc-provider still checks the successor (its client, binding, grant, account) and may refuse it.
      await handler(ctx);
      // The rotated token's consumption normally went out with its successor's save (adapter.ts).
      await settleDeferredConsume(ctx);
      if (!graced) await remember(ctx);
    };
  }

  return class RefreshGraceProvider extends Provider {
    // oidc-provider registers its own grants through this method while it is being constructed.
    override registerGrantType<Params extends object>(
      name: string,
      handler: GrantHandler<Params>,
      params?: ParameterNames,
      duplicates?: ParameterNames,
    ) {
      super.registerGrantType(name, name === 'refresh_token' ? wrap(handler) : handler, params, duplicates);
    }
  };
}

/**
 * The thumbprint of the key in the request's DPoP proof header (RFC 7638), undefined without a
 * usable one. Only compared with the rotated token's binding here: oidc-provider's handler then
 * verifies the proof itself against the successor, which carries the same binding.
 */
async function proofThumbprint(ctx: KoaContextWithOIDC): Promise<string | undefined> {
  const proof = ctx.get('DPoP');
  if (!proof) return undefined;
  try {
    const { jwk } = decodeProtectedHeader(proof);
    return jwk ? await calculateJwkThumbprint(jwk as JWK, 'sha256') : undefined;
  } catch {
    return undefined;
  }
}
