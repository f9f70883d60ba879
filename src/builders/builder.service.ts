import type { AccountService } from '../accounts/account.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { ClientRegistry } from '../oidc/client-registry.ts';
import type { ClientInput } from '../oidc/client-schemas.ts';
import type { ClientMetadata } from '../oidc/oidc.tables.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import { createOwnedClients } from '../oidc/owned-clients.ts';
import { text } from '../i18n/translator.ts';
import { ApiError } from '../shared/api-error.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';

/** Who acts: the person, the app they act through (none on our own pages), and where from. */
export type BuilderActor = { accountId: string; clientId?: string | undefined; origin: RequestOrigin };

const errors = {
  builderRequired: () =>
    new ApiError(
      403,
      'builder_required',
      'Only builders register apps of their own: turn it on at /account/developer first.',
      {},
      text('apiErrors.builderRequired'),
    ),
  clientNotFound: () =>
    new ApiError(404, 'client_not_found', 'You have no such client.', {}, text('apiErrors.clientNotFound')),
  accountNotFound: () =>
    new ApiError(404, 'account_not_found', 'There is no such account.', {}, text('apiErrors.accountNotFound')),
  platformOwnerRequired: () =>
    new ApiError(
      403,
      'platform_owner_required',
      'Only the platform owner can do this.',
      {},
      text('apiErrors.platformOwnerRequired'),
    ),
};

/**
 * The shared client rules (oidc/owned-clients.ts) refuse in the API's English only; the developer page
 * shows the same refusal in the person's words. A metadata problem is the registry's or oidc-provider's
 * own detail (made at run time, English), quoted after a translated lead sentence.
 */
function withWords(error: unknown, clientsPerPerson: number): unknown {
  if (!(error instanceof ApiError) || error.says) return error;
  const says =
    error.code === 'client_limit_reached'
      ? text('apiErrors.clientLimit', { count: clientsPerPerson })
      : error.code === 'public_client'
        ? text('apiErrors.publicClient')
        : error.status === 400 && (error.code === 'invalid_client_metadata' || error.code === 'invalid_redirect_uri')
          ? text('apiErrors.clientNotSaved', { detail: error.message })
          : undefined;
  return says ? new ApiError(error.status, error.code, error.message, error.headers, says) : error;
}

/** Who turned the flag: the person, the platform owner (API), or the operator (CLI). */
export type BuilderChangedBy = 'self' | 'platform_owner' | 'operator';

/**
 * The builder flag and its audit record, whoever turns it: the person's developer page, the platform
 * owner's API route, or the operator's `builders add|remove` (which has no service with clients).
 */
export function createBuilderFlag(deps: { accounts: AccountService; audit: Pick<AuditService, 'record'> }) {
  return async function setBuilder(
    who: { id: string } | { email: string },
    builder: boolean,
    origin: RequestOrigin,
    by: BuilderChangedBy,
  ) {
    const account = await deps.accounts.setBuilder(who, builder);
    if (!account) return undefined;
    await deps.audit.record({
      event: 'builder_changed',
      outcome: 'success',
      origin,
      accountId: account.id,
      detail: { builder, by },
    });
    return account;
  };
}

/**
 * Builders: people who register OAuth clients of their own, without an organization (web apps,
 * single-page and native apps, device apps, services). Only a builder registers, up to
 * `clientsPerPerson`; what was registered stays its owner's to see, rotate and delete even after
 * they stop being a builder. To everyone else a builder's client does not exist (404).
 */
export function createBuilderService(deps: {
  accounts: AccountService;
  clients: ClientRegistry;
  audit: AuditService;
  events: EventRecorder;
  clientsPerPerson: number;
}) {
  const owned = createOwnedClients(deps.clients, errors.clientNotFound, deps.events);
  const ownedBy = (accountId: string) => (client: ClientMetadata) => client.owner_account_id === accountId;
  const audited = (
    actor: BuilderActor,
    event: 'client_registered' | 'client_secret_rotated' | 'client_removed',
    client: ClientMetadata,
  ) =>
    deps.audit.record({
      event,
      outcome: 'success',
      origin: actor.origin,
      accountId: actor.accountId,
      clientId: client.client_id,
      detail: { name: client.client_name ?? client.client_id },
    });

  const isBuilder = async (accountId: string) => (await deps.accounts.findById(accountId))?.builder ?? false;

  const setBuilder = createBuilderFlag(deps);
  async function changeBuilder(accountId: string, builder: boolean, origin: RequestOrigin, by: BuilderChangedBy) {
    const account = await setBuilder({ id: accountId }, builder, origin, by);
    if (!account) throw errors.accountNotFound();
    return account;
  }

  return {
    clientsPerPerson: deps.clientsPerPerson,

    isBuilder,

    /** The person turns it on or off for themselves (their developer page). */
    setOwnBuilder: (actor: BuilderActor, builder: boolean) =>
      changeBuilder(actor.accountId, builder, actor.origin, 'self'),

    /** The platform owner turns it on or off for anyone. */
    async setBuilderFor(actor: BuilderActor, accountId: string, builder: boolean) {
      if (!(await deps.accounts.isPlatformOwner(actor.accountId))) throw errors.platformOwnerRequired();
      return changeBuilder(accountId, builder, actor.origin, 'platform_owner');
    },

    async register(actor: BuilderActor, input: ClientInput) {
      if (!(await isBuilder(actor.accountId))) throw errors.builderRequired();
      const result = await owned
        .register(
          actor.accountId,
          { ...input, firstParty: false, ownerAccountId: actor.accountId },
          { ownerLimit: deps.clientsPerPerson },
        )
        .catch((error: unknown) => {
          throw withWords(error, deps.clientsPerPerson);
        });
      await audited(actor, 'client_registered', result.metadata);
      return result;
    },

    list: (accountId: string) => deps.clients.listForOwner(accountId),

    get: (accountId: string, clientId: string) => owned.owned(clientId, ownedBy(accountId)),

    async rotateSecret(actor: BuilderActor, clientId: string) {
      const result = await owned
        .rotateSecret(actor.accountId, clientId, ownedBy(actor.accountId))
        .catch((error: unknown) => {
          throw withWords(error, deps.clientsPerPerson);
        });
      await audited(actor, 'client_secret_rotated', result.metadata);
      return result;
    },

    async remove(actor: BuilderActor, clientId: string) {
      const client = await owned.remove(actor.accountId, clientId, ownedBy(actor.accountId));
      await audited(actor, 'client_removed', client);
    },
  };
}

export type BuilderService = ReturnType<typeof createBuilderService>;
