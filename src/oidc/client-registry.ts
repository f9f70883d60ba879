import { randomBytes } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { ClientRepository } from './client.repository.ts';
import { generateClientSecret, hashClientSecret } from './client-secrets.ts';
import type { ResponseType } from 'oidc-provider';
import type { ClientMetadata } from './oidc.tables.ts';
import { redirectUriProblem } from './redirect-uris.ts';
import { APP_LINK_FIELDS, appLinksProblem, type AppLinks } from './app-links.ts';
import type { Actor } from '../events/event-catalog.ts';

export type ClientRegistration = {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  /** Defaults to ['code'] when authorization_code is granted, none otherwise. */
  responseTypes?: ResponseType[];
  authMethod: ClientMetadata['token_endpoint_auth_method'];
  scope?: string | undefined;
  firstParty: boolean;
  clientId?: string | undefined;
  /** Set for clients an organization registers through the API. */
  organizationId?: string | undefined;
  /** Set for clients a builder registers for themselves (src/builders/). */
  ownerAccountId?: string | undefined;
  /** `native` for apps on people's devices: custom-scheme and loopback redirect URIs (RFC 8252). Default `web`. */
  applicationType?: 'web' | 'native' | undefined;
  /** Where OIDC Back-Channel Logout 1.0 logout tokens are POSTed when a person signs out. */
  backchannelLogoutUri?: string | undefined;
  /** Whether logout tokens must carry the session's `sid` (the client then gets `sid` in ID tokens too). */
  backchannelLogoutSessionRequired?: boolean | undefined;
  /** logo_uri, client_uri, policy_uri, tos_uri: shown on the sign-in and consent pages (app-links.ts). */
  appLinks?: AppLinks | undefined;
};

/** Why a registration was refused, with the RFC 7591 3.2.2 error code that says which part. */
export class ClientRegistrationError extends Error {
  override name = 'ClientRegistrationError';
  readonly code: 'invalid_redirect_uri' | 'invalid_client_metadata';

  constructor(message: string, code: 'invalid_redirect_uri' | 'invalid_client_metadata' = 'invalid_client_metadata') {
    super(message);
    this.code = code;
  }
}

/** A builder already has as many clients as they may (BUILDER_CLIENTS_PER_PERSON). */
export class ClientLimitError extends Error {
  override name = 'ClientLimitError';
  readonly limit: number;

  constructor(limit: number) {
    super(`at most ${limit} clients per owner`);
    this.limit = limit;
  }
}

/** The redirect URI rule (redirect-uris.ts) over both lists a client registers. */
function checkRedirectUris(registration: ClientRegistration) {
  for (const uri of registration.redirectUris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new ClientRegistrationError(`redirect_uris: ${problem}`, 'invalid_redirect_uri');
  }
  // Not "redirect_uris" in RFC 7591's sense, so the generic code (as oidc-provider answers for them).
  for (const uri of registration.postLogoutRedirectUris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new ClientRegistrationError(`post_logout_redirect_uris: ${problem}`);
  }
}

/** Work that commits with a client's change (its event): given the transaction and the client as stored. */
export type AlongWithClient = (trx: Db, metadata: ClientMetadata) => Promise<void>;

/** Clients are stored in our database and served to oidc-provider by the adapter's `Client` model. */
export function createClientRegistry(
  repository: ClientRepository,
  validate: (metadata: ClientMetadata) => Promise<void>,
  options: {
    allowHttpAppLinks: boolean;
    /** Revokes what a deleted client was issued (client-revoker.ts); told only of a client that existed. */
    revokeClient: (clientId: string, by: Actor) => Promise<unknown>;
  },
) {
  const checkAppLinks = (links: AppLinks | undefined) => {
    const problem = links && appLinksProblem(links, { allowHttp: options.allowHttpAppLinks });
    if (problem) throw new ClientRegistrationError(problem);
  };

  async function validated(metadata: ClientMetadata) {
    try {
      await validate(metadata);
    } catch (error) {
      const err = error as { error?: string; error_description?: string; message: string };
      // oidc-provider's own refusals carry the RFC 7591 code already (invalid_redirect_uri or invalid_client_metadata).
      const code = err.error === 'invalid_redirect_uri' ? 'invalid_redirect_uri' : 'invalid_client_metadata';
      throw new ClientRegistrationError(err.error_description ?? err.message, code);
    }
  }

  async function save(
    registration: ClientRegistration,
    options: { ownerLimit?: number | undefined; along?: AlongWithClient | undefined } = {},
  ): Promise<{ metadata: ClientMetadata; clientSecret?: string }> {
    const { ownerLimit, along } = options;
    const clientId = registration.clientId ?? newClientId();
    const clientSecret = registration.authMethod === 'none' ? undefined : generateClientSecret();
    const metadata: ClientMetadata = {
      client_id: clientId,
      client_name: registration.name,
      redirect_uris: registration.redirectUris,
      post_logout_redirect_uris: registration.postLogoutRedirectUris,
      grant_types: registration.grantTypes,
      response_types:
        registration.responseTypes ?? (registration.grantTypes.includes('authorization_code') ? ['code'] : []),
      token_endpoint_auth_method: registration.authMethod,
      first_party: registration.firstParty,
      ...(registration.organizationId ? { organization_id: registration.organizationId } : {}),
      ...(registration.ownerAccountId ? { owner_account_id: registration.ownerAccountId } : {}),
      ...(registration.applicationType ? { application_type: registration.applicationType } : {}),
      ...(registration.scope ? { scope: registration.scope } : {}),
      ...(registration.backchannelLogoutUri ? { backchannel_logout_uri: registration.backchannelLogoutUri } : {}),
      ...(registration.backchannelLogoutSessionRequired ? { backchannel_logout_session_required: true } : {}),
      ...(clientSecret ? { client_secret: hashClientSecret(clientSecret) } : {}),
      ...registration.appLinks,
    };
    await validated(metadata);
    await repository.transaction(async (clients, trx) => {
      if (await clients.find(clientId)) throw new ClientRegistrationError(`client ${clientId} already exists`);
      if (metadata.owner_account_id && ownerLimit !== undefined) {
        // Counted and inserted under a lock on the owner, so concurrent registrations cannot pass the limit together.
        if (!(await clients.insertWithinOwnerLimit(metadata, ownerLimit))) throw new ClientLimitError(ownerLimit);
      } else {
        await clients.insert(metadata);
      }
      await along?.(trx, metadata);
    });
    return clientSecret ? { metadata, clientSecret } : { metadata };
  }

  return {
    /**
     * Returns the secret in clear exactly once; only its hash is stored. With `ownerLimit`, a client
     * with an owner is refused (ClientLimitError) once the owner has that many. `along` commits with
     * the new client, or neither is stored.
     */
    register(
      registration: ClientRegistration,
      options: { ownerLimit?: number | undefined; along?: AlongWithClient | undefined } = {},
    ): Promise<{ metadata: ClientMetadata; clientSecret?: string }> {
      checkRedirectUris(registration);
      checkAppLinks(registration.appLinks);
      return save(registration, options);
    },

    /**
     * Sets (or, given as an empty string, removes) a client's logo, home page, policy and terms links.
     * Returns the new metadata, or undefined when there is no such client.
     */
    async updateAppLinks(clientId: string, links: Partial<Record<keyof AppLinks, string>>) {
      const metadata = await repository.find(clientId);
      if (!metadata) return undefined;
      const set: AppLinks = {};
      const next: ClientMetadata = { ...metadata };
      for (const field of APP_LINK_FIELDS) {
        const value = links[field];
        if (value === undefined) continue;
        if (value === '') delete next[field];
        else set[field] = next[field] = value;
      }
      checkAppLinks(set);
      await validated(next);
      await repository.updateMetadata(next);
      return next;
    },

    /**
     * For clients FairyID makes itself (the demo, our pages, the CLI): registers it, or re-registers
     * it when its redirect URIs no longer match the issuer (a changed ISSUER or PORT), or when a new
     * release changed its grant types or scopes.
     */
    async ensure(registration: ClientRegistration & { clientId: string }) {
      const existing = await repository.find(registration.clientId);
      const same = (a: string[] | undefined, b: string[]) => JSON.stringify(a ?? []) === JSON.stringify(b);
      if (
        existing &&
        same(existing.redirect_uris, registration.redirectUris) &&
        same(existing.post_logout_redirect_uris, registration.postLogoutRedirectUris) &&
        same(existing.grant_types, registration.grantTypes) &&
        existing.scope === registration.scope &&
        existing.backchannel_logout_uri === registration.backchannelLogoutUri
      ) {
        return;
      }
      if (existing) await repository.delete(registration.clientId);
      try {
        // Not held to the redirect URI rule: these URIs are the issuer's own, whatever the operator set ISSUER to.
        await save(registration);
      } catch (error) {
        // Another instance starting at the same moment registered it first.
        if (!(await repository.find(registration.clientId))) throw error;
      }
    },

    /** A new secret, returned once; the old one stops working at once. `along` commits with the new secret. */
    async rotateSecret(clientId: string, along?: AlongWithClient): Promise<string> {
      const clientSecret = generateClientSecret();
      await repository.transaction(async (clients, trx) => {
        const metadata = await clients.find(clientId);
        if (!metadata || metadata.token_endpoint_auth_method === 'none')
          throw new ClientRegistrationError(`client ${clientId} has no secret`);
        const rotated = { ...metadata, client_secret: hashClientSecret(clientSecret) };
        await clients.updateMetadata(rotated);
        await along?.(trx, rotated);
      });
      return clientSecret;
    },

    listForOrganization: (organizationId: string) => repository.findByOrganization(organizationId),
    listForOwner: (accountId: string) => repository.findByOwner(accountId),
    find: (clientId: string) => repository.find(clientId),
    list: () => repository.findAll(),
    /**
     * Deletes a client and then revokes its grants and tokens: once the row is gone no new token is
     * issued to it, so nothing is issued after the revocation. `by` is who deleted it (grant.revoked's actor).
     */
    async remove(clientId: string, by: Actor): Promise<boolean> {
      const removed = await repository.delete(clientId);
      if (removed) await options.revokeClient(clientId, by);
      return removed;
    },
    /**
     * For clients deleted with what owned them (an organization's delete cascades to its clients):
     * revokes what they were issued, as `remove` does after its own delete.
     */
    revokeDeleted: (clientId: string, by: Actor) => options.revokeClient(clientId, by),
  };
}

export type ClientRegistry = ReturnType<typeof createClientRegistry>;

/**
 * 96 random bits in base64url, drawn again when the first character is "-": an id that begins like an
 * option is misread by command lines (`npm run cli -- clients show -x...`, shells) about once in 64.
 */
export function newClientId(): string {
  for (;;) {
    const id = randomBytes(12).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
