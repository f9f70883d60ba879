import type { EventRecorder } from '../events/event-recorder.ts';
import { ApiError } from '../shared/api-error.ts';
import {
  ClientLimitError,
  ClientRegistrationError,
  type ClientRegistration,
  type ClientRegistry,
} from './client-registry.ts';
import type { ClientMetadata } from './oidc.tables.ts';

/**
 * The registry's rules in /api's terms, for clients that belong to someone (an organization, a
 * builder): registration refusals as RFC 7591 3.2.2 errors, and a client that is not the caller's
 * as `notFound`, so nobody learns of clients that are not theirs. `client.created` and
 * `client.secret_rotated` are written in the registry's transaction: the client and its event
 * commit together or not at all.
 */
export function createOwnedClients(clients: ClientRegistry, notFound: () => ApiError, events: EventRecorder) {
  const about = (actorId: string, client: ClientMetadata) => ({
    actor: { type: 'account' as const, id: actorId },
    subject: { type: 'client', id: client.client_id },
    organizationId: client.organization_id ?? null,
  });

  async function owned(clientId: string, belongs: (client: ClientMetadata) => boolean): Promise<ClientMetadata> {
    const client = await clients.find(clientId);
    if (!client || !belongs(client)) throw notFound();
    return client;
  }

  return {
    owned,

    async register(actorId: string, registration: ClientRegistration, options: { ownerLimit?: number } = {}) {
      try {
        return await clients.register(registration, {
          ...options,
          along: async (trx, metadata) =>
            void (await events.record(trx, {
              ...about(actorId, metadata),
              type: 'client.created',
              data: { client_id: metadata.client_id, name: registration.name },
            })),
        });
      } catch (error) {
        // RFC 7591 3.2.2: invalid_redirect_uri or invalid_client_metadata, as the registry decided.
        if (error instanceof ClientRegistrationError) throw new ApiError(400, error.code, error.message);
        if (error instanceof ClientLimitError) {
          throw new ApiError(
            409,
            'client_limit_reached',
            `You may have at most ${error.limit} app${error.limit === 1 ? '' : 's'} of your own; delete one first.`,
          );
        }
        throw error;
      }
    },

    /** A new secret, shown once; the old one stops working at once. */
    async rotateSecret(actorId: string, clientId: string, belongs: (client: ClientMetadata) => boolean) {
      const client = await owned(clientId, belongs);
      if (client.token_endpoint_auth_method === 'none')
        throw new ApiError(409, 'public_client', 'A public client has no secret to rotate.');
      const clientSecret = await clients.rotateSecret(
        clientId,
        async (trx, rotated) =>
          void (await events.record(trx, {
            ...about(actorId, rotated),
            type: 'client.secret_rotated',
            data: { client_id: clientId },
          })),
      );
      return { metadata: client, clientSecret };
    },

    async remove(actorId: string, clientId: string, belongs: (client: ClientMetadata) => boolean) {
      const client = await owned(clientId, belongs);
      await clients.remove(clientId, about(actorId, client).actor);
      return client;
    },
  };
}
