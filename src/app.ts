import Koa from 'koa';
import type { Logger } from 'pino';
import { accountStatusRoutes } from './account-lifecycle/account-status.routes.ts';
import { activityPageRoutes } from './account-pages/activity.routes.ts';
import { dataPageRoutes } from './account-pages/data.routes.ts';
import { appPageRoutes } from './account-pages/apps.routes.ts';
import { developerPageRoutes } from './account-pages/developer.routes.ts';
import { identifierPageRoutes } from './account-pages/identifier.routes.ts';
import { linkedIdentityPageRoutes } from './account-pages/linked-identities.routes.ts';
import { accountPageRoutes } from './account-pages/overview.routes.ts';
import { isPasskeyScriptRequest, passkeyPageRoutes } from './account-pages/passkeys.routes.ts';
import { securityPageRoutes } from './account-pages/security.routes.ts';
import { sessionPageRoutes } from './account-pages/sessions.routes.ts';
import { accountRoutes } from './accounts/account.routes.ts';
import { auditRoutes } from './audit/audit.routes.ts';
import { billingRoutes } from './billing/billing.routes.ts';
import { builderClientRoutes, platformBuilderRoutes } from './builders/builder.routes.ts';
import type { Config } from './config.ts';
import { apiDocsRoutes } from './http/api-docs.routes.ts';
import { apiCors } from './http/cors.ts';
import { type ApiRoute, mountApiRoutes, openApiDocument } from './http/api-route.ts';
import { assetRoutes } from './http/assets.routes.ts';
import { healthRoutes } from './http/health.routes.ts';
import { homeRoutes } from './http/home.routes.ts';
import { inputRule } from './http/input-rule.ts';
import { createLogger } from './http/logger.ts';
import { CookieSigner } from './http/cookie-signer.ts';
import { byApiGroup, dispatchByPath, type Layer } from './http/dispatch.ts';
import { createPageSession } from './http/page-session.ts';
import { requestFrame } from './http/request-frame.ts';
import { interactionRoutes } from './interaction/interaction.routes.ts';
import { mfaRoutes } from './interaction/mfa.routes.ts';
import { isPasskeyCeremonyRequest, passkeyInteractionRoutes } from './interaction/passkey.routes.ts';
import { ledgerRoutes } from './ledger/ledger.routes.ts';
import { createHttpMetrics, providerRouteNames } from './metrics/http-metrics.ts';
import { metricsRoutes } from './metrics/metrics.routes.ts';
import { outboxRoutes } from './notifications/outbox.routes.ts';
import { sweepExpiredPayloads } from './oidc/adapter.ts';
import { createBearerGuard } from './oidc/bearer-guard.ts';
import { demoCallbackRoutes } from './oidc/demo-client.ts';
import { providerCors } from './oidc/provider-cors.ts';
import { providerDocuments } from './oidc/provider-documents.ts';
import { providerMount, providerProgramRequest } from './oidc/provider-mount.ts';
import { whoamiRoutes } from './oidc/whoami.routes.ts';
import { invitationPageRoutes } from './organizations/invitation-pages.routes.ts';
import { invitationRoutes } from './organizations/invitation.routes.ts';
import { organizationClientRoutes } from './organizations/organization-client.routes.ts';
import { organizationRoutes, platformRoutes } from './organizations/organization.routes.ts';
import { federationRoutes } from './federation/federation.routes.ts';
import { eventSchemaRoutes, withEventSchemas } from './events/event.routes.ts';
import { webhookRoutes } from './events/webhook.routes.ts';
import { environmentPageRoutes } from './environments/environment-pages.routes.ts';
import { environmentRoutes } from './environments/environment.routes.ts';
import { phoneHomeRoutes } from './environments/phone-home.routes.ts';
import { environmentLogRoutes, terminalPageRoutes } from './environments/terminal/terminal-pages.routes.ts';
import { terminalRoutes } from './environments/terminal/terminal.routes.ts';
import { providerTokenRoutes } from './federation/provider-token.routes.ts';
import { deviceAccountRoutes } from './interaction/device-account.routes.ts';
import { platformConsoleRoutes } from './platform-console/platform-console.routes.ts';
import { createServerServices, type ServerOverrides, type ServerServices } from './services.ts';
import { deviceGuessLimit } from './verification/device-guess-limit.routes.ts';

const SWEEP_INTERVAL_MS = 60_000;
const API_VERSION = '1.0.0';

export type App = Awaited<ReturnType<typeof createApp>>;

/**
 * Assembles the server over the services built in services.ts: middleware and routes, in this order.
 *
 * 1. Plumbing every response needs, in one middleware (http/request-frame.ts): client address, request id,
 *    log line and request metrics, security headers, error pages.
 * 2. The Stripe webhook, ahead of every body parser: Stripe's signature covers the raw bytes.
 * 3. The input rule, before every other route and parser: no NUL or broken Unicode anywhere, bodies
 *    well-formed and bounded.
 * 4. Health, /metrics (behind METRICS_TOKEN, unless it has a port of its own), static assets, the
 *    development outbox and demo callback (never in production).
 * 5. /api: CORS, its documentation and the event catalog, then the declared routes behind the bearer guard.
 * 6. Our pages: the page session's own routes, the home page, /account, the platform console
 *    (/platform, for platform owners only), invitations, the sign-in interaction.
 * 7. The device-code guess limit, in front of oidc-provider's verification route.
 * 8. oidc-provider, behind the CORS check of its token-type endpoints, which takes whatever is left
 *    that it has a route for; any other path ends as our own 404 page (error-pages.ts).
 *
 * Steps 4 to 8 are chosen once, by path, after step 3: a request for one of oidc-provider's program
 * endpoints (token, introspection, userinfo, JWKS, discovery, ...) matches none of the routers of 4 to
 * 7, so it goes straight to 8 (discovery and the JWKS from bytes rendered once, provider-documents.ts);
 * one under /api goes straight to 5. Every other request passes 4 to 8 in the order above.
 *
 * `overrides` are for tests: a clock they move instead of sleeping, an environment driver of their own.
 */
export async function createApp(
  config: Config,
  log: Logger = createLogger(config.logLevel),
  overrides: ServerOverrides = {},
) {
  const services = await createServerServices(config, log, overrides);
  const { provider: host, renderer } = services;

  const apiRoutes = buildApiRoutes(services);
  const apiDocument = withEventSchemas(openApiDocument(apiRoutes, { issuer: config.issuer, version: API_VERSION }));
  const guard = createBearerGuard({
    host,
    issuer: config.issuer,
    kv: services.kv,
    marks: services.refusalMarks,
    clients: services.clientRepository,
  });
  const session = createPageSession({
    provider: host.current,
    kv: services.kv,
    issuer: config.issuer,
    requiresSecondFactor: services.accounts.requiresSecondFactor,
    secondStepRemembered: services.secondStepRemembered,
  });

  // Requests are counted by route pattern, or by oidc-provider's route name for the paths it serves.
  const httpMetrics = createHttpMetrics(
    services.metrics.registry,
    providerRouteNames((name) => host.current().pathFor(name)),
  );

  const koa = new Koa({ proxy: config.trustProxy });
  koa.keys = new CookieSigner(config.cookieKeys);
  // 1.
  koa.use(
    requestFrame({
      log,
      trustedProxyHops: config.trustedProxyHops,
      hsts: config.production && config.issuer.startsWith('https://'),
      renderer,
      observe: httpMetrics.observe,
    }),
  );
  // 2.
  if (services.billing) koa.use(services.billing.webhook);
  // 3.
  const providerProgram = providerProgramRequest(host.current());
  koa.use(
    inputRule({
      renderer,
      answersJson: (ctx) =>
        isApiPath(ctx) || providerProgram(ctx) || isPasskeyCeremonyRequest(ctx) || isPasskeyScriptRequest(ctx),
    }),
  );
  // 4.
  const plumbing: Layer[] = [healthRoutes(services.checks), assetRoutes()];
  if (config.metrics.token !== undefined && config.metrics.port === undefined)
    plumbing.push(metricsRoutes(services.metrics.registry, config.metrics.token));
  if (!config.production) {
    if (services.outbox) plumbing.push(outboxRoutes(services.outbox));
    plumbing.push(demoCallbackRoutes(renderer));
  }
  // 5.
  const api: Layer[] = [
    // CORS first: a preflight carries no token, and every answer below must carry the headers.
    apiCors(services.corsOrigins.allows),
    byApiGroup([
      { groups: ['openapi.json'], layer: apiDocsRoutes(apiDocument, renderer) },
      // Public, like the OpenAPI document that also carries it.
      { groups: ['events'], layer: eventSchemaRoutes() },
      // Server-Sent Events, ahead of the JSON routes that answer every other /api path.
      {
        groups: ['environments'],
        layer: environmentLogRoutes({
          service: services.environments.service,
          requireScopes: guard.requireScopes,
          pollMs: services.terminals.pollMs,
        }),
      },
    ]),
    // Outside production (API_RESPONSE_CHECKS) every answer is checked against its declared schema.
    mountApiRoutes(apiRoutes, guard.requireScopes, { checkResponses: config.apiResponseChecks }),
  ];
  // 6.
  const pages = pageRoutes(services, session);
  // 7.
  const deviceGuesses = deviceGuessLimit({
    abuse: services.abuse,
    renderer,
    verificationPath: () => host.current().pathFor('code_verification'),
  });
  // 8.
  const documents = providerDocuments(host);
  const provider: Layer[] = [
    providerCors({ provider: host.current(), issuer: config.issuer, allows: services.corsOrigins.allows }),
    documents.middleware,
    providerMount(host),
  ];
  koa.use(
    dispatchByPath(
      [
        { matches: providerProgram, layers: provider },
        { matches: isApiPath, layers: api },
      ],
      [...plumbing, ...api, ...pages, deviceGuesses, ...provider],
    ),
  );

  const sweeper = setInterval(() => {
    sweepExpiredPayloads(services.db).catch((error: unknown) => log.error({ err: error }, 'token sweep failed'));
    services.ledger
      .expireIdempotencyKeys()
      .catch((error: unknown) => log.error({ err: error }, 'idempotency key sweep failed'));
  }, SWEEP_INTERVAL_MS).unref();
  services.environments.start();
  services.providerTokenRefresher.start();
  services.eventDispatcher.start();

  return {
    koa,
    config,
    services,
    clients: services.clients,
    provider: host,
    environments: services.environments,
    terminals: services.terminals,
    /** For the Node HTTP server's `upgrade` event: the terminal's WebSocket. */
    upgrade: services.terminals.upgrade,
    /** With METRICS_PORT: the request handler of the server main.ts listens with there (/metrics alone). */
    metricsHandler: config.metrics.port === undefined ? undefined : metricsServer(services, config).callback(),
    async close() {
      clearInterval(sweeper);
      await services.close();
    },
  };
}

/** The metrics port: /metrics (behind METRICS_TOKEN too, when set) and nothing else. */
function metricsServer(services: ServerServices, config: Config) {
  const koa = new Koa();
  koa.use(metricsRoutes(services.metrics.registry, config.metrics.token));
  return koa;
}

function isApiPath(ctx: { path: string }) {
  return ctx.path === '/api' || ctx.path.startsWith('/api/');
}

/** Every /api route, each domain's declared with its schemas (which also make the OpenAPI document). */
function buildApiRoutes(services: ServerServices): ApiRoute[] {
  const { organizations, ledger, accounts } = services;
  return [
    ...whoamiRoutes(),
    ...accountRoutes({ accounts, memberships: organizations.membershipsOf }),
    ...organizationRoutes(organizations, services.organizationClients),
    ...platformRoutes(organizations),
    ...auditRoutes(services.audit),
    ...accountStatusRoutes(services.accountStatus),
    ...invitationRoutes(services.invitations),
    ...organizationClientRoutes(services.organizationClients),
    ...builderClientRoutes(services.builders),
    ...platformBuilderRoutes(services.builders),
    ...ledgerRoutes({ ledger }),
    ...(services.billing ? billingRoutes(services.billing.service) : []),
    ...environmentRoutes(services.environments.service),
    ...terminalRoutes(services.terminals),
    ...providerTokenRoutes(services.providerTokens),
    ...webhookRoutes(services.webhooks),
  ];
}

/**
 * Our own pages: the home page, /account and its sub-pages, invitations, and the hosted sign-in under /interaction
 * (with sign-in through upstream providers and their callback).
 */
function pageRoutes(services: ServerServices, session: ReturnType<typeof createPageSession>) {
  const { accounts, audit, renderer, organizations } = services;
  const smsAvailable = services.sms !== undefined;
  return [
    session.routes(),
    homeRoutes({ renderer, session }),
    accountPageRoutes({ accounts, ledger: services.ledger, audit, session, renderer }),
    securityPageRoutes({
      accounts,
      totp: services.totp,
      backupCodes: services.backupCodes,
      handOff: services.handOff,
      rememberedBrowsers: services.rememberedBrowsers,
      audit,
      session,
      renderer,
    }),
    identifierPageRoutes({
      accounts,
      codes: services.identifierCodes,
      codeLifetime: services.codeLifetime,
      smsAvailable,
      audit,
      session,
      renderer,
      notifyPrevious: services.notifyPrevious,
    }),
    appPageRoutes({ connectedApps: services.connectedApps, audit, session, renderer }),
    developerPageRoutes({ builders: services.builders, session, renderer }),
    linkedIdentityPageRoutes({
      federation: services.federation,
      providerTokens: services.providerTokens,
      audit,
      session,
      renderer,
    }),
    activityPageRoutes({ audit, clients: services.clientRepository, session, renderer }),
    platformConsoleRoutes({ console: services.platformConsole, session, renderer }),
    dataPageRoutes({
      exports: services.accountExports,
      deletion: services.accountDeletion,
      audit,
      session,
      renderer,
      clock: services.clock,
    }),
    invitationPageRoutes({ invitations: services.invitations, accounts, session, renderer }),
    phoneHomeRoutes(services.environments.reconciler),
    environmentPageRoutes({ environments: services.environments.service, organizations, session, renderer }),
    terminalPageRoutes({
      service: services.environments.service,
      terminals: services.terminals,
      session,
      renderer,
      pollMs: services.terminals.pollMs,
    }),
    sessionPageRoutes({
      accountSessions: services.accountSessions,
      providerSessions: { exists: services.provider.sessionExists, end: services.provider.endSession },
      session,
      renderer,
    }),
    passkeyPageRoutes({
      passkeys: services.passkeys,
      accounts,
      backupCodes: services.backupCodes,
      handOff: services.handOff,
      audit,
      session,
      renderer,
    }),
    deviceAccountRoutes({ provider: services.provider.current, endSession: services.provider.endSession }),
    passkeyInteractionRoutes({
      provider: services.provider.current,
      passkeys: services.passkeys,
      accounts,
      secondFactor: services.secondFactor,
      passkeyOffer: services.passkeyOffer,
      backupCodes: services.backupCodes,
      handOff: services.handOff,
      audit,
    }),
    mfaRoutes({
      provider: services.provider.current,
      renderer,
      accounts,
      totp: services.totp,
      backupCodes: services.backupCodes,
      codes: services.signInCodes,
      codeLifetime: services.codeLifetime,
      smsAvailable,
      abuse: services.abuse,
      audit,
      secondFactor: services.secondFactor,
      handOff: services.handOff,
    }),
    ...federationRoutes({
      provider: services.provider.current,
      federation: services.federation,
      renderer,
      codes: services.signInCodes,
      codeLifetime: services.codeLifetime,
      audit,
      interactionTtl: services.config.ttl.interaction,
    }),
    interactionRoutes({
      provider: services.provider.current,
      renderer,
      accounts,
      codes: services.signInCodes,
      codeLifetime: services.codeLifetime,
      smsAvailable,
      audit,
      passkeyOffer: services.passkeyOffer,
      upstreamProviders: services.federation.providers,
      organizations: {
        choices: (accountId) => organizations.membershipsOf(accountId),
        bind: organizations.bindGrant,
        isBound: async (grantId) => (await organizations.grantClaims(grantId)) !== undefined,
      },
    }),
  ];
}
