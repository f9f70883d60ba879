import { randomUUID } from 'node:crypto';
import type { AccountService } from '../accounts/account.service.ts';
import type { Account } from '../accounts/account.table.ts';
import type { UpstreamProviderSettings } from '../config.ts';
import type { KeyValueStore } from '../db/key-value.ts';
import type { Clock } from '../shared/clock.ts';
import type { Db } from '../db/database.ts';
import { createSealedBox, UnsealError } from '../shared/sealed-box.ts';
import { createLinkedIdentityRepository } from './linked-identity.repository.ts';
import type { LinkedIdentity } from './linked-identity.table.ts';
import { createAppleClient } from './apple-client.ts';
import { createFacebookClient } from './facebook-client.ts';
import { createGitHubClient } from './github-client.ts';
import { createMicrosoftClient } from './microsoft-client.ts';
import {
  createUpstreamClient,
  type UpstreamClient,
  type UpstreamFlow,
  type UpstreamIdentity,
} from './upstream-client.ts';
import type { UpstreamTokens } from './upstream-tokens.ts';

/**
 * An authorization request sent to an upstream, waiting for its answer: bound to one sign-in
 * interaction, or to a signed-in session linking another provider from the account pages.
 */
export type FlowOwner = { interaction: string } | { account: string; session: string };
export type PendingFlow = UpstreamFlow & {
  provider: string;
  owner: FlowOwner;
  /** Epoch milliseconds by the service's clock: an answer after this finds no flow (absent in older flows). */
  expiresAt?: number;
};

/** Linking from the account pages: the identity was linked, was already this account's, or signs in to another account. */
export type AccountLinkOutcome = { status: 'linked' | 'already_linked' | 'taken' };

/** An upstream identity whose address belongs to an existing account, waiting for the person to prove that account. */
export type PendingLink = {
  provider: string;
  subject: string;
  email: string;
  displayName: string | null;
  accountId: string;
  /**
   * What the upstream's token endpoint gave, linked with the identity once the account is proved.
   * Kept only in memory here: holdLink seals it, and heldLink never hands it out.
   */
  tokens?: UpstreamTokens | undefined;
};

/** A pending link as the store holds it: the upstream tokens sealed, bound to the sign-in and the identity. */
type StoredLink = Omit<PendingLink, 'tokens'> & { tokensSealed?: string };

/**
 * Where an upstream sign-in lands: an account (found through its linked identity, linked now, or
 * created now), or a request to prove the existing account with the upstream's address first.
 */
export type FederatedOutcome = SignedIn | { status: 'proof_needed'; link: PendingLink };
export type SignedIn = { status: 'signed_in'; account: Account; created: boolean; linked: boolean };

/** A linked identity with its provider's name as people read it. */
export type NamedIdentity = LinkedIdentity & { providerName: string };

/**
 * Whether `identityId` may be unlinked from the account's `linked` identities: not when it is the
 * last of them and the account has no other way to sign in (`otherMethods`).
 */
function unlinkVerdict<Identity extends { id: string }>(
  linked: Identity[],
  identityId: string,
  otherMethods: boolean,
): Identity | 'last_method' | 'not_found' {
  const identity = linked.find((candidate) => candidate.id === identityId);
  if (!identity) return 'not_found';
  return linked.length === 1 && !otherMethods ? 'last_method' : identity;
}

// Longer than any upstream sign-in page takes; the answer must come back within it.
const FLOW_TTL_SECONDS = 600;

/**
 * Upstream identity providers and the linking rules. An identity signs in to the account it is
 * linked to; a first sign-in links to the account with the same address only when the upstream
 * asserts that address as verified (the boolean `true`) and is trusted for that (`trustsEmail`);
 * an untrusted but verified address must prove the existing account with a code first; anything
 * else creates a new account, which takes the address only from a trusted provider.
 */
export function createFederationService(deps: {
  providers: readonly UpstreamProviderSettings[];
  issuer: string;
  timeoutSeconds: number;
  kv: KeyValueStore;
  db: Db;
  accounts: AccountService;
  clock: Clock;
  /** KEYS_SECRET's secrets, newest first: the newest seals a pending link's upstream tokens, every one opens. */
  keysSecrets: readonly string[];
  /** Keeps (sealed) what the upstream's token endpoint gave at a sign-in or link (provider-token.service.ts). */
  keepTokens?: (identity: LinkedIdentity, tokens: UpstreamTokens) => Promise<void>;
}) {
  const clients = new Map<string, UpstreamClient>(
    deps.providers.map((settings) => {
      const options = {
        redirectUri: callbackUri(deps.issuer, settings.id),
        timeoutSeconds: deps.timeoutSeconds,
        clock: deps.clock,
      };
      const client =
        settings.kind === 'github'
          ? createGitHubClient(settings, options)
          : settings.kind === 'facebook'
            ? createFacebookClient(settings, options)
            : settings.kind === 'microsoft'
              ? createMicrosoftClient(settings, options)
              : settings.kind === 'apple'
                ? createAppleClient(settings, options)
                : createUpstreamClient(settings, options);
      return [settings.id, client];
    }),
  );
  const identities = createLinkedIdentityRepository(deps.db);
  const flowKey = (state: string) => `federation:flow:${state}`;
  const linkKey = (uid: string) => `federation:link:${uid}`;
  const now = () => new Date(deps.clock.now());

  const postedKey = (state: string) => `federation:posted:${state}`;
  // Bound to the sign-in and the identity: sealed tokens copied into another pending link do not open.
  const linkBox = createSealedBox(deps.keysSecrets, 'federation-pending-link-tokens');
  const linkContext = (uid: string, link: Pick<PendingLink, 'provider' | 'subject' | 'accountId'>) =>
    JSON.stringify([uid, link.provider, link.subject, link.accountId]);

  const flowFor = async (state: string): Promise<PendingFlow | undefined> => {
    const raw = await deps.kv.get(flowKey(state));
    const flow = raw ? (JSON.parse(raw) as PendingFlow) : undefined;
    // The store forgets a flow by its own clock; this one is the service's, which tests can move.
    return flow && (flow.expiresAt === undefined || deps.clock.now() < flow.expiresAt) ? flow : undefined;
  };

  /**
   * The flow `response` answers, used up, if `owns` accepts its owner; a replayed answer finds
   * nothing. For a provider that posts its answer (Apple), `response` carries only the state, and
   * the answer is the one posted to the callback for it (holdPostedAnswer), also used up.
   */
  const takeFlow = async (response: URLSearchParams, owns: (owner: FlowOwner) => boolean) => {
    const state = response.get('state');
    const flow = state ? await flowFor(state) : undefined;
    const client = flow && clients.get(flow.provider);
    if (!state || !flow || !client || !owns(flow.owner)) return undefined;
    const posted = client.responseMode === 'form_post' ? await deps.kv.get(postedKey(state)) : undefined;
    if (posted === null || (await deps.kv.del(flowKey(state))) !== 1) return undefined;
    if (posted !== undefined && (await deps.kv.del(postedKey(state))) !== 1) return undefined;
    return { flow, client, answer: posted === undefined ? response : new URLSearchParams(posted) };
  };

  const storedLink = async (uid: string): Promise<StoredLink | undefined> => {
    const raw = await deps.kv.get(linkKey(uid));
    return raw ? (JSON.parse(raw) as StoredLink) : undefined;
  };

  /** The pending link without its tokens: what the linking pages show and check against. */
  const heldLink = async (uid: string): Promise<PendingLink | undefined> => {
    const stored = await storedLink(uid);
    if (!stored) return undefined;
    const { tokensSealed: _sealed, ...link } = stored;
    return link;
  };

  const link = async (accountId: string, provider: string, identity: UpstreamIdentity) => {
    const inserted = await identities.insert(
      {
        id: randomUUID(),
        account_id: accountId,
        provider,
        subject: identity.subject,
        email: identity.email,
        display_name: identity.name,
      },
      now(),
    );
    // A concurrent first sign-in with the same identity linked it first: that link stands.
    return inserted ?? (await identities.find(provider, identity.subject));
  };

  /**
   * The upstream tokens sealed into a pending link. One sealed under a secret no longer listed
   * (KEYS_SECRET rotated out during the sign-in) links without tokens: the next sign-in there brings new ones.
   */
  const openLinkTokens = (uid: string, link: StoredLink, sealed: string): UpstreamTokens | undefined => {
    try {
      return JSON.parse(linkBox.open(linkContext(uid, link), sealed)) as UpstreamTokens;
    } catch (error) {
      if (error instanceof UnsealError) return undefined;
      throw error;
    }
  };

  const keepTokens = async (linked: LinkedIdentity, identity: UpstreamIdentity) => {
    if (identity.tokens && deps.keepTokens) await deps.keepTokens(linked, identity.tokens);
  };

  const signedIn = async (accountId: string, created: boolean, linked: boolean): Promise<SignedIn> => {
    const account = await deps.accounts.findById(accountId);
    if (!account) throw new Error(`linked account ${accountId} does not exist`);
    return { status: 'signed_in', account, created, linked };
  };

  const named = (identity: LinkedIdentity): NamedIdentity => ({
    ...identity,
    // A provider no longer configured keeps its links (they work again if it comes back).
    providerName: clients.get(identity.provider)?.settings.name ?? identity.provider,
  });

  /** Whether the account signs in some other way than its linked identities; undefined when it is gone. */
  const otherMethods = async (accountId: string): Promise<boolean | undefined> => {
    const account = await deps.accounts.findById(accountId);
    if (!account) return undefined;
    const { passkeys } = await deps.accounts.factorSummary(accountId);
    return Boolean(account.email || account.phone_number || passkeys > 0);
  };

  return {
    /** The enabled providers, for the sign-in page's buttons. */
    providers: deps.providers.map(({ id, name, kind }) => ({ id, name, kind })),

    nameOf: (provider: string) => clients.get(provider)?.settings.name,

    /**
     * A fresh access token from `provider` for a kept refresh token. Throws RefreshRefused when the
     * upstream refuses the refresh token for good, UpstreamFailure otherwise (upstream-tokens.ts).
     */
    async refreshTokens(provider: string, refreshToken: string, scope: string | undefined): Promise<UpstreamTokens> {
      const client = clients.get(provider);
      if (!client) throw new Error(`${provider} is not a configured upstream provider`);
      return client.refresh(refreshToken, scope);
    },

    /** Starts a sign-in at `provider` for `owner`; undefined for a provider that is not enabled. */
    async begin(provider: string, owner: FlowOwner): Promise<URL | undefined> {
      const client = clients.get(provider);
      if (!client) return undefined;
      const { url, flow } = await client.authorizationUrl();
      const pending: PendingFlow = { ...flow, provider, owner, expiresAt: deps.clock.now() + FLOW_TTL_SECONDS * 1000 };
      await deps.kv.write([
        { op: 'set', key: flowKey(flow.state), value: JSON.stringify(pending), ttlSeconds: FLOW_TTL_SECONDS },
      ]);
      return url;
    },

    /** The flow an answer's `state` belongs to, while it waits; it is not used up by looking. */
    flowFor,

    /** Whether `provider` sends its answer as a POST to the callback (Apple's form_post). */
    postsAnswer: (provider: string) => clients.get(provider)?.responseMode === 'form_post',

    /**
     * Keeps an answer posted to the callback (form_post) for the flow its `state` names, until the
     * browser comes back with the cookie of the sign-in (or account session) that asked: the POST
     * is cross-site and carries none. The first answer stands; false if one was already posted.
     */
    async holdPostedAnswer(state: string, answer: URLSearchParams): Promise<boolean> {
      return deps.kv.setIfAbsent(postedKey(state), answer.toString(), FLOW_TTL_SECONDS);
    },

    /**
     * Redeems the upstream's answer for the flow `state` names, which must belong to interaction
     * `uid`. A flow is used once: a replayed answer finds nothing (undefined).
     */
    async finish(uid: string, response: URLSearchParams): Promise<FederatedOutcome | undefined> {
      const taken = await takeFlow(response, (owner) => 'interaction' in owner && owner.interaction === uid);
      if (!taken) return undefined;
      const { flow, client } = taken;
      const identity = await client.redeem(taken.answer, flow);
      const existingLink = await identities.find(flow.provider, identity.subject);
      if (existingLink) {
        // Apple gives the name on the first sign-in only: a later one without it keeps it.
        const displayName = identity.name ?? existingLink.display_name;
        await identities.updateLastUsed(existingLink.id, { email: identity.email, display_name: displayName }, now());
        await keepTokens(existingLink, identity);
        return signedIn(existingLink.account_id, false, false);
      }
      // An address the upstream did not verify (the boolean true) matches nothing and is given to no account.
      const email = identity.emailVerified ? identity.email : null;
      const holder = email ? await deps.accounts.findBySignInAddress('email', email) : undefined;
      if (holder && email && !client.settings.trustsEmail) {
        return {
          status: 'proof_needed',
          link: {
            provider: flow.provider,
            subject: identity.subject,
            email,
            displayName: identity.name,
            accountId: holder.id,
            tokens: identity.tokens,
          },
        };
      }
      const { account, created } = holder
        ? { account: holder, created: false }
        : email && client.settings.trustsEmail
          ? await deps.accounts.signInWithVerifiedEmail(email)
          : { account: await deps.accounts.signUpWithoutAddress(), created: true };
      const linked = await link(account.id, flow.provider, identity);
      if (!linked) throw new Error('the linked identity vanished while it was being linked');
      await keepTokens(linked, identity);
      return signedIn(linked.account_id, created && linked.account_id === account.id, !created);
    },

    /**
     * Links another provider from the account pages: the answer must come back to the session that
     * asked for it. An identity already linked to another account stays there.
     */
    async linkToAccount(
      accountId: string,
      sessionUid: string,
      response: URLSearchParams,
    ): Promise<(AccountLinkOutcome & { provider: string }) | undefined> {
      const taken = await takeFlow(
        response,
        (owner) => 'account' in owner && owner.account === accountId && owner.session === sessionUid,
      );
      if (!taken) return undefined;
      const { flow, client } = taken;
      const identity = await client.redeem(taken.answer, flow);
      const { provider } = flow;
      const existing = await identities.find(provider, identity.subject);
      if (existing && existing.account_id !== accountId) return { status: 'taken', provider };
      // Linking an identity again (to reconnect it) keeps the tokens it now comes with.
      if (existing) {
        await keepTokens(existing, identity);
        return { status: 'already_linked', provider };
      }
      // The unique constraint decides a race with a first sign-in of the same identity.
      const linked = await link(accountId, provider, identity);
      if (linked?.account_id !== accountId) return { status: 'taken', provider };
      await keepTokens(linked, identity);
      return { status: 'linked', provider };
    },

    /** The identities linked to an account, oldest first, with the name of their provider. */
    async linkedTo(accountId: string): Promise<NamedIdentity[]> {
      return (await identities.findByAccount(accountId)).map(named);
    },

    /** What `unlink` would answer now, without unlinking: the confirm step asks only about what it may do. */
    async mayUnlink(accountId: string, identityId: string): Promise<NamedIdentity | 'last_method' | 'not_found'> {
      const others = await otherMethods(accountId);
      if (others === undefined) return 'not_found';
      const verdict = unlinkVerdict(await identities.findByAccount(accountId), identityId, others);
      return typeof verdict === 'string' ? verdict : named(verdict);
    },

    /**
     * Unlinks one of the account's identities, unless it is the last way to sign in: the account
     * keeps an email address, a phone number, a passkey or another linked identity.
     */
    async unlink(accountId: string, identityId: string): Promise<LinkedIdentity | 'last_method' | 'not_found'> {
      const others = await otherMethods(accountId);
      if (others === undefined) return 'not_found';
      return deps.db.transaction().execute(async (trx) => {
        const locked = createLinkedIdentityRepository(trx);
        const verdict = unlinkVerdict(await locked.lockByAccount(accountId), identityId, others);
        if (typeof verdict === 'string') return verdict;
        return (await locked.delete(accountId, identityId)) ?? 'not_found';
      });
    },

    /** Keeps a link that waits for proof of the account, for as long as the sign-in lasts. */
    async holdLink(uid: string, pending: PendingLink, ttlSeconds: number): Promise<void> {
      const { tokens, ...link } = pending;
      const stored: StoredLink = tokens
        ? { ...link, tokensSealed: linkBox.seal(linkContext(uid, link), JSON.stringify(tokens)) }
        : link;
      await deps.kv.write([{ op: 'set', key: linkKey(uid), value: JSON.stringify(stored), ttlSeconds }]);
    },

    heldLink,

    /**
     * After the person proved the account: links the identity, keeps the upstream tokens it came
     * with as a direct sign-in does, and signs in to that account.
     */
    async completeLink(uid: string): Promise<SignedIn | undefined> {
      const pending = await storedLink(uid);
      if (!pending || (await deps.kv.del(linkKey(uid))) !== 1) return undefined;
      const tokens = pending.tokensSealed ? openLinkTokens(uid, pending, pending.tokensSealed) : undefined;
      const identity: UpstreamIdentity = {
        subject: pending.subject,
        email: pending.email,
        emailVerified: true,
        name: pending.displayName,
        ...(tokens ? { tokens } : {}),
      };
      const linked = await link(pending.accountId, pending.provider, identity);
      if (!linked) throw new Error('the linked identity vanished while it was being linked');
      // An identity that a concurrent sign-in linked to another account does not take these tokens there.
      if (linked.account_id === pending.accountId) await keepTokens(linked, identity);
      return signedIn(linked.account_id, false, true);
    },
  };
}

export type FederationService = ReturnType<typeof createFederationService>;

/** Where an answer to linking from the account pages goes on (account-pages/linked-identities.routes.ts). */
export const ACCOUNT_LINK_RETURN = '/account/providers/return';

/** The redirect URI to register at the upstream provider. */
export function callbackUri(issuer: string, provider: string): string {
  return `${issuer}/federation/${provider}/callback`;
}
