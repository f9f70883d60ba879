import type { ClientRegistration, ClientRegistry } from '../oidc/client-registry.ts';
import { ClientRegistrationError } from '../oidc/client-registry.ts';
import type { ClientMetadata } from '../oidc/oidc.tables.ts';
import type { AppLinks } from '../oidc/app-links.ts';
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
  | 'appLinks'
>;

const clientNotFound = () => new ApiError(404, 'client_not_found', 'This organization has no such client.');

/**
 * OAuth clients owned by an organization, registered by its owners and admins. Registering costs
 * the platform (it serves the client's traffic), so the organization must be approved first.
 */
export function createOrganizationClientService(deps: { organizations: OrganizationService; clients: ClientRegistry }) {
  const { organizations, clients } = deps;

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
        return await clients.register({ ...input, firstParty: false, organizationId });
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
      return { metadata: client, clientSecret: await clients.rotateSecret(clientId) };
    },

    /** The app's logo, home page, policy and terms (oidc/app-links.ts); an empty string removes one. */
    async updateAppLinks(actorId: string, organizationId: string, clientId: string, links: AppLinks) {
      await organizations.authorize(actorId, organizationId, 'clients:manage', 'change clients');
      await owned(organizationId, clientId);
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
      await owned(organizationId, clientId);
      await clients.remove(clientId);
    },
  };
}

export type OrganizationClientService = ReturnType<typeof createOrganizationClientService>;
