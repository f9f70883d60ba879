import type { ClientRegistry } from '../oidc/client-registry.ts';
import type { ClientInput } from '../oidc/client-schemas.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import type { ClientMetadata } from '../oidc/oidc.tables.ts';
import type { AppLinks } from '../oidc/app-links.ts';
import { ClientRegistrationError } from '../oidc/client-registry.ts';
import { createOwnedClients } from '../oidc/owned-clients.ts';
import { ApiError } from '../shared/api-error.ts';
import type { OrganizationService } from './organization.service.ts';

export type OrganizationClientInput = ClientInput;

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
  const owned = createOwnedClients(clients, clientNotFound, deps.events);
  const of = (organizationId: string) => (client: ClientMetadata) => client.organization_id === organizationId;

  return {
    async register(actorId: string, organizationId: string, input: OrganizationClientInput) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'register clients');
      await organizations.requireActive(organizationId);
      return owned.register(actorId, { ...input, firstParty: false, organizationId });
    },

    async list(actorId: string, organizationId: string) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'see its clients');
      return clients.listForOrganization(organizationId);
    },

    async rotateSecret(actorId: string, organizationId: string, clientId: string) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'rotate client secrets');
      await organizations.requireActive(organizationId);
      return owned.rotateSecret(actorId, clientId, of(organizationId));
    },

    /** The app's logo, home page, policy and terms (oidc/app-links.ts); an empty string removes one. */
    async updateAppLinks(actorId: string, organizationId: string, clientId: string, links: AppLinks) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'change clients');
      await owned.owned(clientId, of(organizationId));
      try {
        const metadata = await clients.updateAppLinks(clientId, links);
        if (!metadata) throw clientNotFound();
        return metadata;
      } catch (error) {
        if (error instanceof ClientRegistrationError) throw new ApiError(400, error.code, error.message);
        throw error;
      }
    },

    async remove(actorId: string, organizationId: string, clientId: string) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'remove clients');
      await owned.remove(actorId, clientId, of(organizationId));
    },

    /**
     * Deletes the organization, and its clients with it (a cascade), then revokes what people granted
     * those clients: their grants could no longer be used, but they would stay stored and their
     * revocation unannounced (grant.revoked). A client registered after the list was read has had no
     * time to be granted anything.
     */
    async removeOrganization(actorId: string, organizationId: string) {
      await organizations.authorize(actorId, organizationId, 'organization:delete', 'delete it');
      const deleted = await clients.listForOrganization(organizationId);
      await organizations.remove(actorId, organizationId);
      for (const client of deleted) await clients.revokeDeleted(client.client_id, { type: 'account', id: actorId });
    },
  };
}

export type OrganizationClientService = ReturnType<typeof createOrganizationClientService>;
