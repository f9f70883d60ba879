import type { ClientRegistration, ClientRegistry } from '../oidc/client-registry.ts';
import { ClientRegistrationError } from '../oidc/client-registry.ts';
import type { ClientMetadata } from '../oidc/oidc.tables.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import { ApiError } from '../shared/api-error.ts';
import type { OrganizationService } from './organization.service.ts';

export type OrganizationClientInput = Pick<
  ClientRegistration,
  | 'name'
  | 'redirectUris'
  | 'postLogoutRedirectUris'
  | 'grantTypes'
  | 'authMethod'
  | 'scope'
  | 'backchannelLogoutUri'
  | 'backchannelLogoutSessionRequired'
>;

const clientNotFound = () => new ApiError(404, 'client_not_found', 'This organization has no such client.');

/**
 * OAuth clients owned by an organization, registered by its owners and admins. Registering costs
 * the platform (it serves the client's traffic), so the organization must be approved first.
 */
export function createOrganizationClientService(deps: {
  organizations: OrganizationService;
  clients: ClientRegistry;
  events: EventRecorder;
}) {
  const { organizations, clients } = deps;
  const about = (actorId: string, organizationId: string, clientId: string) => ({
    actor: { type: 'account' as const, id: actorId },
    subject: { type: 'client', id: clientId },
    organizationId,
  });

  async function owned(organizationId: string, clientId: string): Promise<ClientMetadata> {
    const client = await clients.find(clientId);
    if (!client || client.organization_id !== organizationId) throw clientNotFound();
    return client;
  }

  return {
    async register(actorId: string, organizationId: string, input: OrganizationClientInput) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'register clients');
      await organizations.requireActive(organizationId);
      try {
        const registered = await clients.register({ ...input, firstParty: false, organizationId });
        const clientId = registered.metadata.client_id;
        await deps.events.recordAfter({
          ...about(actorId, organizationId, clientId),
          type: 'client.created',
          data: { client_id: clientId, name: input.name },
        });
        return registered;
      } catch (error) {
        // RFC 7591 3.2.2: invalid_redirect_uri or invalid_client_metadata, as the registry decided.
        if (error instanceof ClientRegistrationError) throw new ApiError(400, error.code, error.message);
        throw error;
      }
    },

    async list(actorId: string, organizationId: string) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'see its clients');
      return clients.listForOrganization(organizationId);
    },

    async rotateSecret(actorId: string, organizationId: string, clientId: string) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'rotate client secrets');
      await organizations.requireActive(organizationId);
      const client = await owned(organizationId, clientId);
      if (client.token_endpoint_auth_method === 'none')
        throw new ApiError(409, 'public_client', 'A public client has no secret to rotate.');
      const clientSecret = await clients.rotateSecret(clientId);
      await deps.events.recordAfter({
        ...about(actorId, organizationId, clientId),
        type: 'client.secret_rotated',
        data: { client_id: clientId },
      });
      return { metadata: client, clientSecret };
    },

    async remove(actorId: string, organizationId: string, clientId: string) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'remove clients');
      await owned(organizationId, clientId);
      await clients.remove(clientId);
    },
  };
}

export type OrganizationClientService = ReturnType<typeof createOrganizationClientService>;
