import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { BuilderService } from '../builders/builder.service.ts';
import { CLIENT_KINDS, isClientKind, kindOf, type ClientKind } from '../builders/client-kinds.ts';
import { csrfProtection } from '../http/csrf.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { clientInputOf, clientRegistrationBody } from '../oidc/client-schemas.ts';
import type { ClientMetadata } from '../oidc/oidc.tables.ts';
import { ApiError } from '../shared/api-error.ts';

const PAGE = '/account/developer';
const NOTICES: Record<string, Text> = {
  on: text('notices.builderOn'),
  off: text('notices.builderOff'),
  deleted: text('notices.clientDeleted'),
};

type Typed = { name: string; kind: ClientKind; redirectUris: string; postLogoutRedirectUris: string; scope: string };
const EMPTY: Typed = { name: '', kind: 'web', redirectUris: '', postLogoutRedirectUris: '', scope: '' };

const lines = (value: unknown) =>
  typeof value === 'string'
    ? value
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean)
    : [];
const typedText = (value: unknown) => (typeof value === 'string' ? value : '');

/**
 * `/account/developer`: a person makes themselves a builder and registers their own OAuth clients,
 * with the same rules, limit and audit as `/api/clients` (builders/builder.service.ts). A secret is
 * shown once, on the page that answers the registration or the rotation, and never again.
 */
export function developerPageRoutes(deps: { builders: BuilderService; session: PageSession; renderer: Renderer }) {
  const router = new Router({ prefix: PAGE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const present = (client: ClientMetadata) => {
    const kind = kindOf(client);
    return {
      clientId: client.client_id,
      name: client.client_name ?? client.client_id,
      kind: text(`notices.clientKind.${kind}.label`),
      redirectUris: client.redirect_uris ?? [],
      confidential: client.token_endpoint_auth_method !== 'none',
    };
  };

  const renderPage = async (
    ctx: Context,
    current: SignedIn,
    messages: { notice?: Text | undefined; error?: Text | string; typed?: Typed },
    status = 200,
  ) => {
    const [builder, clients] = await Promise.all([
      deps.builders.isBuilder(current.accountId),
      deps.builders.list(current.accountId),
    ]);
    const kinds = (Object.keys(CLIENT_KINDS) as ClientKind[]).map((id) => ({
      id,
      label: text(`notices.clientKind.${id}.label`),
      hint: text(`notices.clientKind.${id}.hint`),
    }));
    await deps.renderer.render(
      ctx,
      'account-developer',
      {
        builder,
        clients: clients.map(present),
        limit: deps.builders.clientsPerPerson,
        kinds,
        typed: messages.typed ?? EMPTY,
        notice: messages.notice,
        error: messages.error,
      },
      status,
    );
  };

  const actor = (ctx: Context, current: SignedIn) => ({ accountId: current.accountId, origin: requestOrigin(ctx) });

  /** The one page that shows a secret: not to be kept by any cache. */
  const renderSecret = async (
    ctx: Context,
    result: { metadata: ClientMetadata; clientSecret?: string },
    fresh: boolean,
  ) => {
    ctx.set('Cache-Control', 'no-store');
    const data = { client: present(result.metadata), secret: result.clientSecret, fresh };
    await deps.renderer.render(ctx, 'account-developer-client', data, fresh ? 201 : 200);
  };

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const notice = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined;
    await renderPage(ctx, current, { notice });
  });

  router.post('/builder', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const builder = (ctx.request.body as Record<string, unknown>).builder === 'on';
    await deps.builders.setOwnBuilder(actor(ctx, current), builder);
    ctx.status = 303;
    ctx.redirect(`${PAGE}?done=${builder ? 'on' : 'off'}`);
  });

  router.post('/clients', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const form = ctx.request.body as Record<string, unknown>;
    const typed: Typed = {
      name: typedText(form.name),
      kind: isClientKind(form.kind) ? form.kind : 'web',
      redirectUris: typedText(form.redirect_uris),
      postLogoutRedirectUris: typedText(form.post_logout_redirect_uris),
      scope: typedText(form.scope),
    };
    if (!isClientKind(form.kind))
      return renderPage(ctx, current, { error: text('notices.chooseClientKind'), typed }, 400);
    const kind = CLIENT_KINDS[typed.kind];
    // The API's own request schema, so the page accepts exactly what /api/clients does.
    const parsed = clientRegistrationBody.safeParse({
      client_name: typed.name,
      application_type: kind.applicationType,
      redirect_uris: kind.redirects ? lines(typed.redirectUris) : [],
      post_logout_redirect_uris: kind.redirects ? lines(typed.postLogoutRedirectUris) : [],
      grant_types: kind.grantTypes,
      token_endpoint_auth_method: kind.authMethod,
      ...(typed.scope.trim() ? { scope: typed.scope.trim() } : {}),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // zod's own words about the value are the API's (English), as /api/clients answers them.
      const problem = issue?.message ?? 'not valid';
      const error =
        issue?.path[0] === 'client_name'
          ? text('notices.clientNameTooLong')
          : text(issue?.path[0] === 'scope' ? 'notices.clientScopesInvalid' : 'notices.clientAddressInvalid', {
              problem,
            });
      return renderPage(ctx, current, { error, typed }, 400);
    }
    if (kind.redirects && parsed.data.redirect_uris.length === 0)
      return renderPage(ctx, current, { error: text('notices.redirectUriNeeded'), typed }, 400);
    try {
      const result = await deps.builders.register(actor(ctx, current), clientInputOf(parsed.data));
      await renderSecret(ctx, result, true);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      await renderPage(ctx, current, { error: error.says ?? error.message, typed }, error.status);
    }
  });

  router.post('/clients/rotate', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    try {
      const result = await deps.builders.rotateSecret(
        actor(ctx, current),
        typedText((ctx.request.body as Record<string, unknown>).client),
      );
      await renderSecret(ctx, result, false);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      await renderPage(ctx, current, { error: error.says ?? error.message }, error.status);
    }
  });

  router.post('/clients/delete', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    try {
      await deps.builders.remove(actor(ctx, current), typedText((ctx.request.body as Record<string, unknown>).client));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return renderPage(ctx, current, { error: error.says ?? error.message }, error.status);
    }
    ctx.status = 303;
    ctx.redirect(`${PAGE}?done=deleted`);
  });

  return router.routes();
}
