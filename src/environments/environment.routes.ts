import type { Context } from 'koa';
import { z } from 'zod';
import { TIERS } from '../config.ts';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { pageOf, pageQuery, pageRequest, timestamp } from '../http/api-schemas.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { requirePerson, type Caller } from '../oidc/caller.ts';
import { toPage } from '../shared/cursor.ts';
import { environmentErrors } from './environment.errors.ts';
import type { Actor, EnvironmentService } from './environment.service.ts';
import { ENVIRONMENT_STATES, type Environment, type EnvironmentEvent } from './environment.table.ts';
import { required } from '../shared/required.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const name = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'must not contain control characters');

const environmentSchema = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.object({ type: z.enum(['person', 'organization']), id: z.string() }),
  template: z.string(),
  tier: z.enum(TIERS),
  size: z.string(),
  region: z.string(),
  state: z.enum(ENVIRONMENT_STATES),
  desired_state: z.enum(['running', 'stopped', 'deleted']),
  ssh: z
    .object({
      host: z.string(),
      port: z.number().int(),
      user: z.string(),
      host_public_key: z.string().describe('Pinned: the machine presents exactly this key'),
    })
    .nullable()
    .describe('Set while the machine is up'),
  host_public_key: z.string(),
  last_error: z.string().nullable(),
  stop_reason: z.string().nullable(),
  price_per_hour: z.number().int().describe('DUST per started hour while running; stopped costs nothing'),
  cost_since_start: z.number().int().describe('DUST booked for the current run'),
  balance: z.number().int().describe('The paying wallet (yours or the organization’s)'),
  balance_lasts_hours: z
    .number()
    .int()
    .nullable()
    .describe('Whole hours the wallet pays for at the rate of everything it runs now; null when nothing runs'),
  idle_stop_warning: z.boolean().describe('An idle warning is out: keep it running or it stops'),
  running_since: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

const eventSchema = z.object({
  id: z.string(),
  kind: z.string(),
  from_state: z.string().nullable(),
  to_state: z.string().nullable(),
  message: z.string().nullable(),
  actor_id: z.string().nullable(),
  client_id: z.string().nullable(),
  detail: z
    .record(z.string(), z.unknown())
    .describe(
      'Timings in milliseconds (elapsed_ms, total_ms, ...) and the variable parts of message (retry_in_s, cause, reason, ...)',
    ),
  created_at: timestamp,
});

const templateSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  image: z.string(),
  default_tier: z.enum(TIERS),
  price_per_hour: z.number().int(),
});

const idParams = z.object({ id: z.uuid() });

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** The API shape of an environment, with the money as the ledger has it. */
export async function presentEnvironment(service: EnvironmentService, environment: Environment) {
  const money = await service.money(environment);
  return {
    id: environment.id,
    name: environment.name,
    owner: environment.organization_id
      ? { type: 'organization' as const, id: environment.organization_id }
      : { type: 'person' as const, id: required(environment.account_id, 'the owning account') },
    template: environment.template,
    tier: environment.tier as (typeof TIERS)[number],
    size: environment.size,
    region: environment.region,
    state: environment.state,
    desired_state: environment.desired_state,
    ssh:
      environment.ip_address && environment.ssh_port && environment.state === 'running'
        ? {
            host: environment.ip_address,
            port: environment.ssh_port,
            user: service.sshUser,
            host_public_key: environment.host_public_key,
          }
        : null,
    host_public_key: environment.host_public_key,
    last_error: environment.last_error,
    stop_reason: environment.stop_reason,
    price_per_hour: money.pricePerHour,
    cost_since_start: money.costSinceStart,
    balance: money.balance,
    balance_lasts_hours: money.balanceLastsHours,
    idle_stop_warning: environment.state === 'running' && environment.idle_warned_at !== null,
    running_since: iso(environment.running_since),
    created_at: environment.created_at.toISOString(),
    updated_at: environment.updated_at.toISOString(),
  };
}

const presentEvent = (event: EnvironmentEvent) => ({
  id: event.id,
  kind: event.kind,
  from_state: event.from_state,
  to_state: event.to_state,
  message: event.message,
  actor_id: event.actor_id,
  client_id: event.client_id,
  detail: event.detail,
  created_at: event.created_at.toISOString(),
});

function actorOf(ctx: Context): Actor {
  const caller = ctx.state.caller as Caller;
  return { accountId: requirePerson(ctx.state), clientId: caller.clientId, origin: requestOrigin(ctx) };
}

/** /api/environments and /api/environment-templates (scopes environments:read and environments:write). */
export function environmentRoutes(service: EnvironmentService): ApiRoute[] {
  const present = (environment: Environment) => presentEnvironment(service, environment);
  const action = (verb: 'start' | 'stop' | 'keep-running', summary: string) =>
    defineRoute({
      method: 'post',
      path: `/api/environments/:id/${verb}`,
      summary,
      tag: 'Environments',
      scopes: ['environments:write'],
      params: idParams,
      response: environmentSchema,
      status: 202,
      async handler(ctx, { params }) {
        const actor = actorOf(ctx);
        const done =
          verb === 'start'
            ? await service.start(actor, params.id)
            : verb === 'stop'
              ? await service.stop(actor, params.id)
              : await service.keepRunning(actor, params.id);
        return present(done);
      },
    });

  return [
    defineRoute({
      method: 'get',
      path: '/api/environment-templates',
      summary: 'The templates environments are made from, with the price of their default tier',
      tag: 'Environments',
      scopes: ['environments:read'],
      response: z.object({ data: z.array(templateSchema) }),
      async handler() {
        const templates = await service.templates();
        return {
          data: templates.map((template) => ({
            id: template.id,
            name: template.name,
            description: template.description,
            image: template.image,
            default_tier: template.default_tier as (typeof TIERS)[number],
            price_per_hour: service.priceOf(template.default_tier),
          })),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/environments',
      summary:
        'Create an environment (yours, or an approved organization’s as its owner or admin); needs an Idempotency-Key',
      tag: 'Environments',
      scopes: ['environments:write'],
      body: z.object({
        name,
        template: z.string().min(1).max(40).describe('A template id from GET /api/environment-templates'),
        tier: z.enum(TIERS).optional().describe('The template’s default tier when left out'),
        region: z
          .string()
          .regex(/^[a-z0-9-]{1,20}$/, 'must be a region slug such as ams3')
          .optional(),
        organization_id: z.uuid().optional().describe('Create it for this organization, paid from its wallet'),
      }),
      response: environmentSchema,
      status: 201,
      async handler(ctx, { body }) {
        const key = ctx.get('Idempotency-Key');
        if (!IDEMPOTENCY_KEY.test(key)) throw environmentErrors.idempotencyKeyRequired();
        const actor = actorOf(ctx);
        const caller = ctx.state.caller as Caller;
        // An organization-scoped token acts for its organization unless the body names one.
        const organizationId = body.organization_id ?? caller.organization?.id;
        const { environment, replayed } = await service.create(
          actor,
          { name: body.name, template: body.template, tier: body.tier, region: body.region, organizationId },
          { scope: `${caller.clientId}:${caller.sub}`, key },
        );
        if (replayed) ctx.set('Idempotent-Replayed', 'true');
        return present(environment);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/environments',
      summary: 'Your environments and those of your organizations, oldest first',
      tag: 'Environments',
      scopes: ['environments:read'],
      query: pageQuery,
      response: pageOf(environmentSchema),
      async handler(ctx, { query }) {
        const page = pageRequest(query);
        const rows = await service.list(requirePerson(ctx.state), page);
        const shaped = toPage(rows, page.limit, (row) => row);
        return { data: await Promise.all(shaped.data.map(present)), next_cursor: shaped.next_cursor };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/environments/:id',
      summary: 'One environment, with its address, pinned host key and money',
      tag: 'Environments',
      scopes: ['environments:read'],
      params: idParams,
      response: environmentSchema,
      async handler(ctx, { params }) {
        return present(await service.get(requirePerson(ctx.state), params.id));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/environments/:id',
      summary: 'Rename an environment',
      tag: 'Environments',
      scopes: ['environments:write'],
      params: idParams,
      body: z.object({ name }),
      response: environmentSchema,
      async handler(ctx, { params, body }) {
        return present(await service.rename(actorOf(ctx), params.id, body.name));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/environments/:id',
      summary: 'Delete an environment: the machine, its volume and its key are removed at the provider',
      tag: 'Environments',
      scopes: ['environments:write'],
      params: idParams,
      response: environmentSchema,
      status: 202,
      async handler(ctx, { params }) {
        return present(await service.remove(actorOf(ctx), params.id));
      },
    }),
    action('start', 'Start a stopped environment: a new machine with the same volume and host key'),
    action('stop', 'Stop an environment: the machine is removed (it costs nothing), the volume is kept'),
    action('keep-running', 'Answer an idle warning: the environment is not stopped for idleness now'),
    defineRoute({
      method: 'get',
      path: '/api/environments/:id/events',
      summary: 'The environment’s event trail: every transition, with who asked and per-phase timings',
      tag: 'Environments',
      scopes: ['environments:read'],
      params: idParams,
      query: pageQuery,
      response: pageOf(eventSchema),
      async handler(ctx, { params, query }) {
        const page = pageRequest(query);
        return toPage(await service.events(requirePerson(ctx.state), params.id, page), page.limit, presentEvent);
      },
    }),
  ];
}
