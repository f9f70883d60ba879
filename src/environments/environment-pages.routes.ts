import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { TIERS, type Tier } from '../config.ts';
import { csrfProtection } from '../http/csrf.ts';
import { PageError } from '../http/page-error.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { PageSession } from '../http/page-session.ts';
import type { OrganizationService } from '../organizations/organization.service.ts';
import { PAGES_CLIENT_ID } from '../http/page-session.ts';
import { ApiError } from '../shared/api-error.ts';
import type { Actor, EnvironmentService } from './environment.service.ts';
import type { Environment } from './environment.table.ts';

const PAGE = '/account/environments';
const NAME = /^[^\p{Cc}\p{Cs}]{1,60}$/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const STATES = ['provisioning', 'running', 'stopping', 'stopped', 'starting', 'deleting', 'error'] as const;
const stateLabel = (state: string) =>
  (STATES as readonly string[]).includes(state)
    ? text(`notices.environment.state.${state as (typeof STATES)[number]}`)
    : state;
const NOTICES: Record<string, Text> = {
  created: text('notices.environment.created'),
  started: text('notices.environment.started'),
  stopped: text('notices.environment.stopped'),
  deleted: text('notices.environment.deleted'),
  kept: text('notices.environment.kept'),
};

/** A form the page refuses before the service sees it: said in the reader's language. */
const refused = (status: number, says: Text) => new PageError(status, says, text('errors.badRequest.title'));
const NO_SUCH_ENVIRONMENT = () => refused(404, text('notices.environment.notFound'));

/**
 * `/account/environments`: the person's and their organizations' environments, with what each costs
 * and what the wallet has; create (a template picker), start, stop and delete (after a confirmation).
 * The forms call the same service as the API, so the rules (roles, limits, DUST) are the same.
 */
export function environmentPageRoutes(deps: {
  environments: EnvironmentService;
  organizations: OrganizationService;
  session: PageSession;
  renderer: Renderer;
}) {
  const { environments } = deps;
  const router = new Router({ prefix: PAGE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const actorOf = (ctx: Context, accountId: string): Actor => ({
    accountId,
    clientId: PAGES_CLIENT_ID,
    origin: requestOrigin(ctx),
  });

  async function renderPage(
    ctx: Context,
    accountId: string,
    messages: { notice?: Text | undefined; error?: Text | string },
    typed: Record<string, string> = {},
    status = 200,
  ) {
    // The balance at the top and each environment's warnings come from one reading of each wallet.
    const balanceOf = environments.balancesReadOnce();
    const [rows, templates, memberships, balance] = await Promise.all([
      environments.list(accountId, { cursor: undefined, limit: 100 }),
      environments.templates(),
      deps.organizations.membershipsOf(accountId),
      balanceOf({ kind: 'person', ownerId: accountId }),
    ]);
    const organizations = new Map(memberships.map((row) => [row.id, row]));
    const items = await Promise.all(
      rows.slice(0, 100).map(async (environment: Environment) => {
        const [money, timings, lastError] = await Promise.all([
          environments.money(environment, balanceOf),
          environments.lastStartTimings(environment.id),
          environment.state === 'error' ? environments.lastErrorWords(environment) : undefined,
        ]);
        const organization = environment.organization_id ? organizations.get(environment.organization_id) : undefined;
        return {
          id: environment.id,
          name: environment.name,
          owner: organization ? organization.name : text('notices.environment.you'),
          template: templates.find((template) => template.id === environment.template)?.name ?? environment.template,
          tier: environment.tier,
          state: environment.state,
          stateLabel: stateLabel(environment.state),
          ssh:
            environment.state === 'running' && environment.ip_address
              ? `ssh -p ${environment.ssh_port} ${environments.sshUser}@${environment.ip_address}`
              : undefined,
          lastError,
          stopReason: environment.state === 'stopped' ? environment.stop_reason : undefined,
          idleWarning: environment.state === 'running' && environment.idle_warned_at !== null,
          lowBalance: environment.state === 'running' && money.balance < money.ratePerHour,
          timings,
          ...money,
          canStart: environment.state === 'stopped' || environment.state === 'error',
          canStop: ['provisioning', 'starting', 'running', 'error'].includes(environment.state),
          canDelete: environment.state !== 'deleting',
        };
      }),
    );
    await deps.renderer.render(
      ctx,
      'account-environments',
      {
        environments: items,
        templates: templates.map((template) => ({
          id: template.id,
          name: template.name,
          description: template.description,
          tier: template.default_tier,
        })),
        tiers: TIERS.map((tier) => ({ id: tier, price: environments.priceOf(tier) })),
        owners: memberships
          .filter((row) => row.status === 'active' && (row.role === 'owner' || row.role === 'admin'))
          .map((row) => ({ id: row.id, name: row.name })),
        balance,
        lowBalance: items.some((item) => item.lowBalance),
        idleWarning: items.some((item) => item.idleWarning),
        typed: { name: typed.name ?? '', template: typed.template ?? templates[0]?.id ?? '', tier: typed.tier ?? '' },
        // One key per rendered form: a double-submitted create makes one environment.
        idempotencyKey: randomBytes(16).toString('base64url'),
        ...messages,
      },
      status,
    );
  }

  /** Runs a form action; a refusal (a limit, no DUST, a role) re-renders the page with its message. */
  async function act(ctx: Context, work: (accountId: string) => Promise<string>) {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    try {
      const notice = await work(current.accountId);
      ctx.status = 303;
      ctx.redirect(`${PAGE}?done=${notice}`);
    } catch (error) {
      // The page's own refusals and the service's (its `says`) are in the reader's language.
      if (!(error instanceof ApiError) && !(error instanceof PageError)) throw error;
      const typed = Object.fromEntries(
        ['name', 'template', 'tier'].map((field) => [field, String(form[field] ?? '').slice(0, 100)]),
      );
      const said = error instanceof PageError ? error.says : (error.says ?? error.message);
      await renderPage(ctx, current.accountId, { error: said }, typed, error.status);
    }
  }

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const done = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined;
    await renderPage(ctx, current.accountId, { notice: done });
  });

  router.post('/', (ctx) =>
    act(ctx, async (accountId) => {
      const form = ctx.request.body as Record<string, unknown>;
      const name = typeof form.name === 'string' ? form.name.trim() : '';
      if (!NAME.test(name)) throw refused(400, text('notices.environment.nameNeeded'));
      const tier = TIERS.includes(form.tier as Tier) ? (form.tier as Tier) : undefined;
      const owner = typeof form.owner === 'string' && form.owner !== 'me' ? form.owner : undefined;
      if (owner !== undefined && !UUID.test(owner)) throw refused(400, text('notices.environment.choosePayer'));
      const key = typeof form.idempotency_key === 'string' ? form.idempotency_key : '';
      if (!/^[\x21-\x7e]{1,64}$/.test(key)) throw refused(400, text('notices.environment.formExpired'));
      await environments.create(
        actorOf(ctx, accountId),
        { name, template: String(form.template ?? ''), tier, organizationId: owner },
        { scope: `page:${accountId}`, key },
      );
      return 'created';
    }),
  );

  for (const [path, notice] of [
    ['start', 'started'],
    ['stop', 'stopped'],
    ['keep-running', 'kept'],
    ['delete', 'deleted'],
  ] as const) {
    router.post(`/:id/${path}`, (ctx) =>
      act(ctx, async (accountId) => {
        const id = ctx.params.id ?? '';
        if (!UUID.test(id)) throw NO_SUCH_ENVIRONMENT();
        const actor = actorOf(ctx, accountId);
        if (path === 'start') await environments.start(actor, id);
        else if (path === 'stop') await environments.stop(actor, id);
        else if (path === 'keep-running') await environments.keepRunning(actor, id);
        else await environments.remove(actor, id);
        return notice;
      }),
    );
  }

  // Deleting loses the files, so it takes a second, explicit step.
  router.get('/:id/delete', async (ctx) => {
    const current = await deps.session.require(ctx, `${PAGE}`);
    if (!current) return;
    const id = ctx.params.id ?? '';
    try {
      if (!UUID.test(id)) throw NO_SUCH_ENVIRONMENT();
      const environment = await environments.get(current.accountId, id);
      await deps.renderer.render(ctx, 'account-environment-delete', { id, name: environment.name });
    } catch (error) {
      if (!(error instanceof ApiError) && !(error instanceof PageError)) throw error;
      const said = error instanceof PageError ? error.says : (error.says ?? error.message);
      await renderPage(ctx, current.accountId, { error: said }, {}, error.status);
    }
  });

  return router.routes();
}
