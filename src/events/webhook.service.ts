import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import type { Mailer } from '../notifications/message.ts';
import type { Clock } from '../shared/clock.ts';
import { checkHost, RefusedAddressError } from './address-policy.ts';
import type { WebhookEndpoint } from './event.table.ts';
import { webhookDisabledEmail } from './webhook-email.ts';
import { text } from '../i18n/translator.ts';
import { webhookErrors as errors } from './webhook.errors.ts';
import { createWebhookRepository } from './webhook.repository.ts';
import type { WebhookSecrets } from './webhook-secrets.ts';

/** Whose endpoints: an organization's (its owners and admins), or the platform's (the platform owner). */
export type WebhookScope = { organizationId: string } | { platform: true };

export type WebhookInput = {
  url: string;
  eventTypes: string[];
  description?: string | null | undefined;
  enabled?: boolean | undefined;
};

export type WebhookDeps = {
  db: Db;
  clock: Clock;
  secrets: WebhookSecrets;
  issuer: string;
  allowPrivateNetworks: boolean;
  /** Whether http:// URLs are accepted (outside production, for receivers on a developer's machine). */
  allowHttp: boolean;
  platformOwnerEmail: string | undefined;
  organizations: {
    authorize(accountId: string, organizationId: string, permission: 'webhooks:manage', what: string): Promise<unknown>;
    memberRoles(organizationId: string): Promise<{ accountId: string; role: string }[]>;
  };
  accounts: {
    isPlatformOwner(accountId: string): Promise<boolean>;
    findById(accountId: string): Promise<{ email: string | null; email_verified: boolean } | undefined>;
  };
  mailer: Mailer;
  log: Logger;
};

/**
 * Webhook endpoints: who may register them, where they may point (SSRF, checked again at every
 * delivery against the address actually connected to), their secrets (shown once, rotatable), their
 * delivery log, and redelivery.
 */
export function createWebhookService(deps: WebhookDeps) {
  const { db, clock } = deps;
  const read = createWebhookRepository(db);
  const organizationOf = (scope: WebhookScope) => ('organizationId' in scope ? scope.organizationId : null);

  async function authorize(actorId: string, scope: WebhookScope) {
    if ('organizationId' in scope) {
      await deps.organizations.authorize(actorId, scope.organizationId, 'webhooks:manage', 'manage its webhooks');
    } else if (!(await deps.accounts.isPlatformOwner(actorId))) {
      throw errors.platformOwnerRequired();
    }
  }

  async function owned(actorId: string, scope: WebhookScope, endpointId: string): Promise<WebhookEndpoint> {
    await authorize(actorId, scope);
    const endpoint = await read.findEndpoint(endpointId);
    if (!endpoint || endpoint.organization_id !== organizationOf(scope)) throw errors.notFound();
    return endpoint;
  }

  async function checkUrl(value: string) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw errors.invalidUrl('not a URL');
    }
    if (url.protocol !== 'https:' && !(deps.allowHttp && url.protocol === 'http:'))
      throw errors.invalidUrl(deps.allowHttp ? 'use http or https' : 'use https');
    if (url.username || url.password) throw errors.invalidUrl('credentials do not belong in the URL');
    if (url.hash) throw errors.invalidUrl('a fragment is never sent');
    try {
      await checkHost(url.hostname, deps.allowPrivateNetworks);
    } catch (error) {
      if (error instanceof RefusedAddressError) throw errors.invalidUrl(error.message);
      throw errors.invalidUrl(`${url.hostname} does not resolve`);
    }
  }

  function linkTo(endpoint: WebhookEndpoint) {
    const base = endpoint.organization_id
      ? `${deps.issuer}/api/organizations/${endpoint.organization_id}/webhooks`
      : `${deps.issuer}/api/platform/webhooks`;
    return `${base}/${endpoint.id}`;
  }

  return {
    /** The new endpoint and its signing secret, shown this once. */
    async create(actorId: string, scope: WebhookScope, input: WebhookInput) {
      await authorize(actorId, scope);
      await checkUrl(input.url);
      const id = randomUUID();
      const secret = deps.secrets.generate();
      const endpoint = await read.insertEndpoint({
        id,
        organization_id: organizationOf(scope),
        url: input.url,
        description: input.description ?? null,
        event_types: [...new Set(input.eventTypes)],
        secret_sealed: deps.secrets.seal(id, secret),
        created_by: actorId,
        updated_at: new Date(clock.now()),
      });
      const created =
        input.enabled === false
          ? ((await read.updateEndpoint(id, { enabled: false, disabled_reason: 'created disabled' })) ?? endpoint)
          : endpoint;
      return { endpoint: created, secret };
    },

    async list(actorId: string, scope: WebhookScope) {
      await authorize(actorId, scope);
      return read.listEndpoints(organizationOf(scope));
    },

    get: owned,

    /** Enabling an endpoint (again) clears its failure count: it starts afresh. */
    async update(actorId: string, scope: WebhookScope, endpointId: string, patch: Partial<WebhookInput>) {
      await owned(actorId, scope, endpointId);
      if (patch.url !== undefined) await checkUrl(patch.url);
      const updated = await read.updateEndpoint(endpointId, {
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.eventTypes !== undefined ? { event_types: [...new Set(patch.eventTypes)] } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.enabled === true ? { enabled: true, disabled_reason: null, consecutive_failures: 0 } : {}),
        ...(patch.enabled === false ? { enabled: false, disabled_reason: 'disabled by its owner' } : {}),
        updated_at: new Date(clock.now()),
      });
      if (!updated) throw errors.notFound();
      return updated;
    },

    async remove(actorId: string, scope: WebhookScope, endpointId: string) {
      await owned(actorId, scope, endpointId);
      await read.deleteEndpoint(endpointId);
    },

    /** A new secret, shown once; the old one stops signing at once. */
    async rotateSecret(actorId: string, scope: WebhookScope, endpointId: string) {
      await owned(actorId, scope, endpointId);
      const secret = deps.secrets.generate();
      await read.updateEndpoint(endpointId, {
        secret_sealed: deps.secrets.seal(endpointId, secret),
        updated_at: new Date(clock.now()),
      });
      return secret;
    },

    async deliveries(actorId: string, scope: WebhookScope, endpointId: string, limit: number) {
      await owned(actorId, scope, endpointId);
      return read.listDeliveries(endpointId, limit);
    },

    /** Sends the delivery again now (same event id), with a fresh retry schedule. */
    async redeliver(actorId: string, scope: WebhookScope, endpointId: string, deliveryId: string) {
      await owned(actorId, scope, endpointId);
      const delivery = await read.findDelivery(endpointId, deliveryId);
      if (!delivery) throw errors.deliveryNotFound();
      await read.updateDelivery(delivery.id, {
        status: 'pending',
        retry_index: 0,
        next_attempt_at: new Date(clock.now()),
        leased_until: null,
        completed_at: null,
      });
      return { ...delivery, status: 'pending' as const };
    },

    /** Mail to the organization's owners (or the platform owner) and whoever registered the endpoint. */
    async notifyDisabled(endpoint: WebhookEndpoint) {
      const accountIds = new Set([endpoint.created_by]);
      if (endpoint.organization_id) {
        for (const member of await deps.organizations.memberRoles(endpoint.organization_id))
          if (member.role === 'owner') accountIds.add(member.accountId);
      }
      const addresses = new Set<string>();
      for (const accountId of accountIds) {
        const account = await deps.accounts.findById(accountId);
        if (account?.email && account.email_verified) addresses.add(account.email);
      }
      if (!endpoint.organization_id && deps.platformOwnerEmail) addresses.add(deps.platformOwnerEmail);
      const where = endpoint.organization_id
        ? text('email.webhookDisabled.organization', { id: endpoint.organization_id })
        : text('email.webhookDisabled.platform');
      for (const to of addresses) {
        await deps.mailer
          .send(
            webhookDisabledEmail(to, {
              url: endpoint.url,
              reason: endpoint.disabled_reason ?? 'disabled',
              where,
              link: linkTo(endpoint),
            }),
          )
          .catch((error: unknown) => deps.log.warn({ err: error }, 'could not send a webhook notice'));
      }
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
