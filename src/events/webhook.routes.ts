import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { timestamp } from '../http/api-schemas.ts';
import { requirePerson as person } from '../oidc/caller.ts';
import { EVENT_TYPES } from './event-catalog.ts';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from './event.table.ts';
import type { WebhookScope, WebhookService } from './webhook.service.ts';

const endpointSchema = z.object({
  id: z.string(),
  organization_id: z.string().nullable(),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable().describe('Why it is not receiving events'),
  consecutive_failures: z.number().int(),
  created_at: timestamp,
  updated_at: timestamp,
});
const withSecret = endpointSchema.extend({
  secret: z.string().describe('The Standard Webhooks signing secret (whsec_…): shown this once'),
});
const attemptSchema = z.object({
  attempted_at: timestamp,
  success: z.boolean(),
  status_code: z.number().int().nullable(),
  latency_ms: z.number().int(),
  response_excerpt: z.string().nullable().describe('The first kilobyte of the answer'),
  error: z.string().nullable(),
});
const deliverySchema = z.object({
  id: z.string(),
  event_id: z.string().describe('Also the webhook-id header'),
  event_type: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: timestamp.nullable(),
  last_status_code: z.number().int().nullable(),
  created_at: timestamp,
  completed_at: timestamp.nullable(),
  attempt_log: z.array(attemptSchema),
});

const eventTypes = z
  .array(z.enum(['*', ...EVENT_TYPES]))
  .min(1)
  .max(EVENT_TYPES.length + 1)
  .describe('Catalog types (GET /api/events/schemas), or * for all');
const url = z.string().max(2000).describe('https (http outside production); never a private address');
const description = z.string().trim().max(200).nullable();
const createBody = z.object({
  url,
  event_types: eventTypes,
  description: description.optional(),
  enabled: z.boolean().optional(),
});
const patchBody = z
  .object({
    url: url.optional(),
    event_types: eventTypes.optional(),
    description: description.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), 'send at least one field');

/** The path parameters every route here has (the organization's id only under an organization). */
type Ids = { id?: string; webhookId: string; deliveryId: string };
const ids = (params: unknown) => params as Ids;

const presentEndpoint = (endpoint: WebhookEndpoint) => ({
  id: endpoint.id,
  organization_id: endpoint.organization_id,
  url: endpoint.url,
  description: endpoint.description,
  event_types: endpoint.event_types,
  enabled: endpoint.enabled,
  disabled_reason: endpoint.disabled_reason,
  consecutive_failures: endpoint.consecutive_failures,
  created_at: endpoint.created_at.toISOString(),
  updated_at: endpoint.updated_at.toISOString(),
});

const presentDelivery = (delivery: WebhookDelivery, attempts: WebhookAttempt[]) => ({
  id: delivery.id,
  event_id: delivery.event_id,
  event_type: delivery.event_type,
  status: delivery.status,
  attempts: delivery.attempts,
  next_attempt_at: delivery.status === 'pending' ? delivery.next_attempt_at.toISOString() : null,
  last_status_code: delivery.last_status_code,
  created_at: delivery.created_at.toISOString(),
  completed_at: delivery.completed_at?.toISOString() ?? null,
  attempt_log: attempts.map((attempt) => ({
    attempted_at: attempt.attempted_at.toISOString(),
    success: attempt.success,
    status_code: attempt.status_code,
    latency_ms: attempt.latency_ms,
    response_excerpt: attempt.response_excerpt,
    error: attempt.error,
  })),
});

/**
 * The same routes twice: under an organization (owners and admins, its own events) and under
 * /api/platform (the platform owner, every event).
 */
function routesAt(
  webhooks: WebhookService,
  options: {
    base: string;
    tag: string;
    scopes: string[];
    params: z.ZodObject;
    scopeOf(params: Ids): WebhookScope;
    who: string;
  },
): ApiRoute[] {
  const { base, tag, scopes, scopeOf } = options;
  const one = options.params.extend({ webhookId: z.uuid() });
  const delivery = one.extend({ deliveryId: z.uuid() });
  return [
    defineRoute({
      method: 'post',
      path: base,
      summary: `Register a webhook endpoint (${options.who}); the signing secret is in this answer only`,
      tag,
      scopes,
      params: options.params,
      body: createBody,
      response: withSecret,
      status: 201,
      async handler(ctx, { params, body }) {
        const { endpoint, secret } = await webhooks.create(person(ctx.state), scopeOf(ids(params)), {
          url: body.url,
          eventTypes: body.event_types,
          description: body.description,
          enabled: body.enabled,
        });
        return { ...presentEndpoint(endpoint), secret };
      },
    }),
    defineRoute({
      method: 'get',
      path: base,
      summary: `List webhook endpoints (${options.who})`,
      tag,
      scopes,
      params: options.params,
      response: z.object({ data: z.array(endpointSchema) }),
      async handler(ctx, { params }) {
        return { data: (await webhooks.list(person(ctx.state), scopeOf(ids(params)))).map(presentEndpoint) };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:webhookId`,
      summary: 'Read a webhook endpoint',
      tag,
      scopes,
      params: one,
      response: endpointSchema,
      async handler(ctx, { params }) {
        return presentEndpoint(await webhooks.get(person(ctx.state), scopeOf(ids(params)), ids(params).webhookId));
      },
    }),
    defineRoute({
      method: 'patch',
      path: `${base}/:webhookId`,
      summary: 'Change a webhook endpoint; enabled: true restarts a disabled one',
      tag,
      scopes,
      params: one,
      body: patchBody,
      response: endpointSchema,
      async handler(ctx, { params, body }) {
        return presentEndpoint(
          await webhooks.update(person(ctx.state), scopeOf(ids(params)), ids(params).webhookId, {
            ...(body.url !== undefined ? { url: body.url } : {}),
            ...(body.event_types !== undefined ? { eventTypes: body.event_types } : {}),
            ...(body.description !== undefined ? { description: body.description } : {}),
            ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
          }),
        );
      },
    }),
    defineRoute({
      method: 'delete',
      path: `${base}/:webhookId`,
      summary: 'Remove a webhook endpoint and its delivery log',
      tag,
      scopes,
      params: one,
      response: z.null(),
      status: 204,
      async handler(ctx, { params }) {
        await webhooks.remove(person(ctx.state), scopeOf(ids(params)), ids(params).webhookId);
      },
    }),
    defineRoute({
      method: 'post',
      path: `${base}/:webhookId/secret`,
      summary: 'Rotate the signing secret; the new one is in this answer only',
      tag,
      scopes,
      params: one,
      response: z.object({ secret: z.string() }),
      async handler(ctx, { params }) {
        return { secret: await webhooks.rotateSecret(person(ctx.state), scopeOf(ids(params)), ids(params).webhookId) };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${base}/:webhookId/deliveries`,
      summary: 'The delivery log, newest first: every attempt with its status, latency and answer',
      tag,
      scopes,
      params: one,
      query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
      response: z.object({ data: z.array(deliverySchema) }),
      async handler(ctx, { params, query }) {
        const rows = await webhooks.deliveries(
          person(ctx.state),
          scopeOf(ids(params)),
          ids(params).webhookId,
          query.limit,
        );
        return { data: rows.map((row) => presentDelivery(row.delivery, row.attempts)) };
      },
    }),
    defineRoute({
      method: 'post',
      path: `${base}/:webhookId/deliveries/:deliveryId/redeliver`,
      summary: 'Send a delivery again now, with the same event id',
      tag,
      scopes,
      params: delivery,
      response: z.object({ id: z.string(), status: z.literal('pending') }),
      status: 202,
      async handler(ctx, { params }) {
        const redelivered = await webhooks.redeliver(
          person(ctx.state),
          scopeOf(ids(params)),
          ids(params).webhookId,
          ids(params).deliveryId,
        );
        return { id: redelivered.id, status: redelivered.status };
      },
    }),
  ];
}

export function webhookRoutes(webhooks: WebhookService): ApiRoute[] {
  return [
    ...routesAt(webhooks, {
      base: '/api/organizations/:id/webhooks',
      tag: 'Webhooks',
      scopes: ['organizations:write'],
      params: z.object({ id: z.uuid() }),
      scopeOf: (params) => ({ organizationId: params.id ?? '' }),
      who: 'owners and admins; the organization’s events',
    }),
    ...routesAt(webhooks, {
      base: '/api/platform/webhooks',
      tag: 'Platform',
      scopes: ['platform:manage'],
      params: z.object({}),
      scopeOf: () => ({ platform: true }),
      who: 'platform owner; every event',
    }),
  ];
}
