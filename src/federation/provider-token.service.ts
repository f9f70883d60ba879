import { randomUUID } from 'node:crypto';
import type { Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/audit.service.ts';
import type { Db } from '../db/database.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';
import type { Clock } from '../shared/clock.ts';
import { UnsealError } from '../shared/sealed-box.ts';
import type { LinkedIdentity } from './linked-identity.table.ts';
import { providerTokenErrors as errors } from './provider-token.errors.ts';
import { createProviderTokenRepository } from './provider-token.repository.ts';
import type { ProviderTokenSeal } from './provider-token-seal.ts';
import type { ProviderTokenRow, ProviderTokensTable } from './provider-token.table.ts';
import { UpstreamFailure } from './upstream-client.ts';
import { RefreshRefused, type UpstreamTokens } from './upstream-tokens.ts';

/** The background refresh renews a token this long before it expires (half its lifetime, if that is shorter). */
export const REFRESH_AHEAD_SECONDS = 300;
/** An app is never handed a token that expires sooner than this: it is refreshed first. */
export const SERVE_MARGIN_SECONDS = 60;
/** Longer than any upstream call may take (FEDERATION_TIMEOUT_SECONDS is at most 60). */
const LEASE_SECONDS = 120;
/** After an upstream failure the next try waits 30 s, doubling to at most an hour. */
const FIRST_BACKOFF_SECONDS = 30;
const MAX_BACKOFF_SECONDS = 3600;
const BATCH = 20;

/** What GET /api/provider-token/{provider} answers. */
export type ServedToken = {
  provider: string;
  access_token: string;
  token_type: 'Bearer';
  /** ISO 8601; null when the upstream gave no expiry. */
  expires_at: string | null;
  scopes: string[];
};

/** When the background refresh of a token expiring at `expiresAt` is due; null without a refresh token or expiry. */
function refreshAtFor(expiresAt: Date | null, lifetimeSeconds: number | undefined, refreshable: boolean) {
  if (!refreshable || !expiresAt) return null;
  const ahead = Math.min(REFRESH_AHEAD_SECONDS, Math.max(0, (lifetimeSeconds ?? 0) / 2));
  return new Date(expiresAt.getTime() - ahead * 1000);
}

const expiryOf = (now: number, tokens: UpstreamTokens) =>
  tokens.expiresIn === undefined ? null : new Date(now + tokens.expiresIn * 1000);

/**
 * Keeps the tokens an upstream gives at a federated sign-in or link, sealed, for apps the person
 * allows (`provider_tokens`). Built before the federation service, which calls it.
 */
export function createProviderTokenKeeper(deps: { db: Db; seal: ProviderTokenSeal; clock: Clock }) {
  const repo = createProviderTokenRepository(deps.db);
  return {
    async keep(identity: LinkedIdentity, tokens: UpstreamTokens): Promise<void> {
      const now = deps.clock.now();
      // An upstream that gives a refresh token only at the first consent (Google) keeps the one held.
      const held = tokens.refreshToken ? undefined : await repo.find(identity.id);
      const refreshable = Boolean(tokens.refreshToken ?? held?.refresh_token_sealed);
      const expiresAt = expiryOf(now, tokens);
      await repo.upsert({
        linked_identity_id: identity.id,
        account_id: identity.account_id,
        provider: identity.provider,
        access_token_sealed: deps.seal.seal(identity.id, 'access', tokens.accessToken),
        refresh_token_sealed: tokens.refreshToken
          ? deps.seal.seal(identity.id, 'refresh', tokens.refreshToken)
          : undefined,
        scope: tokens.scope ?? null,
        expires_at: expiresAt,
        refresh_at: refreshAtFor(expiresAt, tokens.expiresIn, refreshable),
        updated_at: new Date(now),
      });
    },
  };
}

export type ProviderTokenKeeper = ReturnType<typeof createProviderTokenKeeper>;

/**
 * Upstream tokens for apps: the current access token of a person's linked identity (refreshed first
 * when it is about to expire), and the background refresh that renews tokens before they expire.
 * A row is refreshed only under a lease (claim, refresh, release), so of several instances, and of
 * the background job and an app's request, one refreshes it and the others use the result.
 */
export function createProviderTokenService(deps: {
  db: Db;
  seal: ProviderTokenSeal;
  clock: Clock;
  upstream: {
    nameOf(provider: string): string | undefined;
    refreshTokens(provider: string, refreshToken: string, scope: string | undefined): Promise<UpstreamTokens>;
  };
  audit: Pick<AuditService, 'record'>;
  log: Logger;
}) {
  const { seal, clock, log } = deps;
  const repo = createProviderTokenRepository(deps.db);
  const instance = randomUUID();
  const leaseUntil = (now: number) => new Date(now + LEASE_SECONDS * 1000);

  const served = (row: ProviderTokenRow): ServedToken => ({
    provider: row.provider,
    access_token: seal.open(row.linked_identity_id, 'access', row.access_token_sealed),
    token_type: 'Bearer',
    expires_at: row.expires_at?.toISOString() ?? null,
    scopes: row.scope ? row.scope.split(' ') : [],
  });

  /** Refreshes a row this instance leased, and releases it with the outcome. */
  async function refreshLeased(row: ProviderTokenRow): Promise<'fresh' | 'reconsent' | 'failed'> {
    const id = row.linked_identity_id;
    const release = (changes: Updateable<ProviderTokensTable>) =>
      repo.release(id, instance, { ...changes, updated_at: new Date(clock.now()) });
    try {
      if (!row.refresh_token_sealed) throw new Error('a row without a refresh token was due for a refresh');
      const refreshToken = seal.open(id, 'refresh', row.refresh_token_sealed);
      const tokens = await deps.upstream.refreshTokens(row.provider, refreshToken, row.scope ?? undefined);
      const now = clock.now();
      const expiresAt = expiryOf(now, tokens);
      await release({
        access_token_sealed: seal.seal(id, 'access', tokens.accessToken),
        // Sealed again even when unchanged: under the newest KEYS_SECRET secret.
        refresh_token_sealed: tokens.refreshToken ? seal.seal(id, 'refresh', tokens.refreshToken) : null,
        scope: tokens.scope ?? null,
        expires_at: expiresAt,
        refresh_at: refreshAtFor(expiresAt, tokens.expiresIn, Boolean(tokens.refreshToken)),
        refresh_failures: 0,
      });
      return 'fresh';
    } catch (error) {
      if (error instanceof RefreshRefused) {
        log.info(
          { provider: row.provider, linkedIdentity: id },
          'upstream refused the refresh token: re-consent needed',
        );
        await release({ reconsent_needed_at: new Date(clock.now()), refresh_at: null });
        return 'reconsent';
      }
      const failures = row.refresh_failures + 1;
      const wait = Math.min(FIRST_BACKOFF_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS);
      const expected = error instanceof UpstreamFailure;
      if (error instanceof UnsealError) {
        // Sealed under a secret no longer listed in KEYS_SECRET: nothing to try again; a new sign-in replaces it.
        log.error({ provider: row.provider, linkedIdentity: id }, 'a kept refresh token does not open: KEYS_SECRET?');
        await release({ refresh_at: null, refresh_failures: failures });
        return 'failed';
      }
      log[expected ? 'warn' : 'error'](
        { err: expected ? error.cause : error, provider: row.provider, failures },
        'provider token refresh failed',
      );
      await release({ refresh_failures: failures, refresh_at: new Date(clock.now() + wait * 1000) });
      return 'failed';
    }
  }

  /**
   * A valid access token of the person's identity at `provider`, refreshed first when it expires
   * within SERVE_MARGIN_SECONDS. Only ever the account's own: the caller passes the token's subject.
   */
  async function current(accountId: string, provider: string): Promise<ServedToken> {
    const name = deps.upstream.nameOf(provider);
    if (!name) throw errors.unknownProvider(provider);
    const found = await repo.findForAccount(accountId, provider);
    if (!found) throw errors.notLinked(name);
    const row = found.row;
    if (!row) throw errors.noToken(name);
    if (row.reconsent_needed_at) throw errors.reconsentNeeded(name);
    const now = clock.now();
    const valid = (r: ProviderTokenRow, margin: number) => !r.expires_at || r.expires_at.getTime() > now + margin;
    try {
      if (valid(row, SERVE_MARGIN_SECONDS * 1000)) return served(row);
      if (!row.refresh_token_sealed) {
        if (valid(row, 0)) return served(row);
        throw errors.expired(name);
      }
      const leased = await repo.claim(row.linked_identity_id, instance, new Date(now), leaseUntil(now));
      if (!leased) {
        // Another instance (or the background job) is refreshing it: the current token if it still works.
        if (valid(row, 0)) return served(row);
        throw errors.refreshing();
      }
      if (valid(leased, SERVE_MARGIN_SECONDS * 1000) || leased.reconsent_needed_at) {
        // Refreshed (or refused) by another between our read and our lease.
        await repo.release(leased.linked_identity_id, instance, {});
        if (leased.reconsent_needed_at) throw errors.reconsentNeeded(name);
        return served(leased);
      }
      const outcome = await refreshLeased(leased);
      if (outcome === 'reconsent') throw errors.reconsentNeeded(name);
      if (outcome === 'failed') {
        if (valid(leased, 0)) return served(leased);
        throw errors.unavailable(name);
      }
      const fresh = await repo.find(leased.linked_identity_id);
      if (!fresh) throw errors.notLinked(name);
      return served(fresh);
    } catch (error) {
      if (!(error instanceof UnsealError)) throw error;
      log.error(
        { provider, linkedIdentity: row.linked_identity_id },
        'a kept provider token does not open: KEYS_SECRET?',
      );
      throw errors.noToken(name);
    }
  }

  return {
    instance,

    /**
     * The token for an app the person allowed `provider_tokens`, with an audit record of the hand-out
     * (who, which app, which provider, which request): the person sees on their activity page which
     * app took their upstream token and when. The token itself is never recorded.
     */
    async serve(
      actor: { accountId: string; clientId: string | undefined; origin: RequestOrigin },
      provider: string,
    ): Promise<ServedToken> {
      const token = await current(actor.accountId, provider);
      await deps.audit.record({
        event: 'provider_token_fetched',
        outcome: 'success',
        origin: actor.origin,
        accountId: actor.accountId,
        clientId: actor.clientId,
        detail: { provider, provider_name: deps.upstream.nameOf(provider) ?? provider },
      });
      return token;
    },

    /** The ids of the account's linked identities whose upstream refused the kept token (for its page). */
    reconsentNeeded: (accountId: string) => repo.reconsentNeeded(accountId),

    /**
     * One pass of the background refresh: every token due (before its expiry, or after its back-off)
     * that no other instance holds. Returns how many were refreshed, refused and failed.
     */
    async refreshDue(): Promise<{ fresh: number; reconsent: number; failed: number }> {
      const counts = { fresh: 0, reconsent: 0, failed: 0 };
      for (;;) {
        const now = clock.now();
        const claimed = await repo.claimDue(instance, new Date(now), leaseUntil(now), BATCH);
        for (const row of claimed) counts[await refreshLeased(row)] += 1;
        if (claimed.length < BATCH) return counts;
      }
    },
  };
}

export type ProviderTokenService = ReturnType<typeof createProviderTokenService>;
