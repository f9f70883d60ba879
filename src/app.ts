import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { assetRoutes } from './http/assets.routes.ts';
import { errorPages } from './http/error-pages.ts';
import { healthRoutes } from './http/health.routes.ts';
import { createLogger } from './http/logger.ts';
import { apiErrors } from './http/api-errors.ts';
import { accountRoutes } from './accounts/account.routes.ts';
import { apiDocsRoutes } from './http/api-docs.routes.ts';
import { mountApiRoutes, openApiDocument } from './http/api-route.ts';
import { organizationRoutes, platformRoutes } from './organizations/organization.routes.ts';
import { invitationRoutes } from './organizations/invitation.routes.ts';
import { organizationClientRoutes } from './organizations/organization-client.routes.ts';
import { ledgerRoutes } from './ledger/ledger.routes.ts';
import { createStripeBilling } from './billing/billing.ts';
import { billingRoutes } from './billing/billing.routes.ts';
import { createOrganizationClientService } from './organizations/organization-client.service.ts';
import { invitationPageRoutes } from './organizations/invitation-pages.routes.ts';
import { createInvitationService } from './organizations/invitation.service.ts';
import { invitationEmail } from './organizations/invitation-email.ts';
import { createPageSession, ensurePagesClient } from './interaction/page-session.ts';
import { accountPageRoutes } from './interaction/account-page.routes.ts';
import { createBearerGuard } from './oidc/bearer-guard.ts';
import { whoamiRoutes } from './oidc/whoami.routes.ts';
import { createGrantRevocations } from './oidc/grant-revocations.ts';
import { createRenderer } from './http/render.ts';
import { requestContext } from './http/request-context.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createOneTimeCodes } from './interaction/one-time-codes.ts';
import { interactionRoutes } from './interaction/interaction.routes.ts';
import { signInCodeEmail } from './interaction/sign-in-email.ts';
import { createDevOutbox, type DevOutbox } from './notifications/dev-outbox.ts';
import type { Mailer } from './notifications/message.ts';
import { outboxRoutes } from './notifications/outbox.routes.ts';
import { createSmtpMailer } from './notifications/smtp-mailer.ts';
import { sweepExpiredPayloads } from './oidc/adapter.ts';
import { createClientRegistry } from './oidc/client-registry.ts';
import { demoCallbackRoutes, ensureDemoClient } from './oidc/demo-client.ts';
import { providerMount } from './oidc/provider-mount.ts';
import type { ProviderHost } from './oidc/provider.ts';
import { describeDuration } from './shared/duration.ts';
import { createServices, startProvider } from './services.ts';

const SWEEP_INTERVAL_MS = 60_000;
const API_VERSION = '1.0.0';

export type App = Awaited<ReturnType<typeof createApp>>;

/** The composition root: the only module that knows every folder. */
export async function createApp(config: Config, log: Logger = createLogger(config.logLevel)) {
  const services = await createServices(config, log);
  const renderer = createRenderer({ reloadTemplates: config.env === 'development' });
  const outbox: DevOutbox | undefined = config.smtp ? undefined : createDevOutbox(services.kv, log);
  const mailer: Mailer = config.smtp
    ? createSmtpMailer({ ...config.smtp, from: config.mailFrom }, log)
    : outbox!.mailer;

  // A failed start (keys sealed under another KEYS_SECRET, say) must not leave the database pool,
  // the Redis connection, the key poller or the data-folder lock behind.
  const abandon = async (error: unknown, started?: ProviderHost): Promise<never> => {
    started?.stop();
    await services.close();
    throw error;
  };
  const revocations = createGrantRevocations(services.kv, config.ttl.accessToken);
  const host = await startProvider(config, services, log, revocations.markRevoked).catch((error: unknown) => abandon(error));
  const clients = createClientRegistry(services.clientRepository, (metadata) => host.current().Client.validate(metadata));
  if (config.demoClient) await ensureDemoClient(clients, config.issuer).catch((error: unknown) => abandon(error, host));

  // Accounts from before the ledger, or whose grant was interrupted, get their sign-up DUST now.
  const granted = await services.ledger.grantMissingSignups().catch((error: unknown) => abandon(error, host));
  if (granted) log.info({ granted }, 'granted missing sign-up DUST');

  const codeLifetime = describeDuration(config.otp.ttl);
  const codes = createOneTimeCodes({
    kv: services.kv,
    secret: config.keysSecret,
    settings: config.otp,
    deliver: (email, code) => mailer.send(signInCodeEmail(email, code, codeLifetime)),
  });

  const billing = config.stripe
    ? createStripeBilling({
        stripe: config.stripe,
        issuer: config.issuer,
        packs: config.dustPacks,
        db: services.db,
        ledger: services.ledger,
        plans: services.plans,
        organizations: services.organizations,
        log,
      })
    : undefined;

  const koa = new Koa({ proxy: config.trustProxy, keys: [...config.cookieKeys] });
  koa.use(requestContext(log));
  koa.use(securityHeaders);
  koa.use(errorPages(renderer));
  // Ahead of every body parser: Stripe's signature covers the raw bytes.
  if (billing) koa.use(billing.webhook);
  koa.use(healthRoutes(services.checks));
  koa.use(assetRoutes());
  if (!config.production) {
    if (outbox) koa.use(outboxRoutes(outbox));
    koa.use(demoCallbackRoutes(renderer));
  }
  await ensurePagesClient(clients, config.issuer).catch((error: unknown) => abandon(error, host));
  const pageSession = createPageSession({ provider: host.current, kv: services.kv, issuer: config.issuer });
  const invitations = createInvitationService({
    db: services.db,
    issuer: config.issuer,
    send: (mail) => mailer.send(invitationEmail(mail)),
  });
  const guard = createBearerGuard({ host, issuer: config.issuer, kv: services.kv, revocations });
  const apiRoutes = [
    ...whoamiRoutes(),
    ...accountRoutes({ accounts: services.accounts, memberships: services.organizations.membershipsOf }),
    ...organizationRoutes(services.organizations),
    ...platformRoutes(services.organizations),
    ...invitationRoutes(invitations),
    ...ledgerRoutes({
      ledger: services.ledger,
      authorize: (accountId, organizationId, permission) => services.organizations.authorize(accountId, organizationId, permission, 'do that with its DUST'),
      isApprovedApp: async (clientId) => {
        const client = await clients.find(clientId);
        if (client?.first_party) return true;
        if (!client?.organization_id) return false;
        return services.organizations.requireActive(client.organization_id).then(() => true, () => false);
      },
    }),
    ...organizationClientRoutes(createOrganizationClientService({ organizations: services.organizations, clients })),
    ...(billing ? billingRoutes(billing.service) : []),
  ];
  const apiDocument = openApiDocument(apiRoutes, { issuer: config.issuer, version: API_VERSION });
  koa.use(apiDocsRoutes(apiDocument, renderer));
  koa.use(apiRouter([mountApiRoutes(apiRoutes, guard.requireScopes)]));
  koa.use(pageSession.routes());
  koa.use(accountPageRoutes({ accounts: services.accounts, ledger: services.ledger, session: pageSession, renderer }));
  koa.use(invitationPageRoutes({ invitations, accounts: services.accounts, session: pageSession, renderer }));
  const organizationChoice = {
    choices: (accountId: string) => services.organizations.membershipsOf(accountId),
    bind: services.organizations.bindGrant,
    isBound: async (grantId: string) => (await services.organizations.grantClaims(grantId)) !== undefined,
  };
  koa.use(interactionRoutes({ provider: host.current, organizations: organizationChoice, onAccountCreated: services.ledger.grantSignup, renderer, accounts: services.accounts, codes, codeLifetime }));
  koa.use(providerMount(host));

  const sweeper = setInterval(() => {
    sweepExpiredPayloads(services.db).catch((error: unknown) => log.error({ err: error }, 'token sweep failed'));
    services.ledger.expireIdempotencyKeys().catch((error: unknown) => log.error({ err: error }, 'idempotency key sweep failed'));
  }, SWEEP_INTERVAL_MS).unref();

  return {
    koa,
    config,
    services,
    clients,
    provider: host,
    async close() {
      clearInterval(sweeper);
      host.stop();
      await services.close();
    },
  };
}

/** Everything under /api answers JSON in one error shape, 404 included; other paths pass through. */
function apiRouter(routes: ReturnType<Router['routes']>[]): Koa.Middleware {
  const api = new Router();
  for (const route of routes) api.use(route);
  const dispatch = api.routes();
  return (ctx, next) => {
    if (ctx.path !== '/api' && !ctx.path.startsWith('/api/')) return next();
    return apiErrors(ctx, () => dispatch(ctx as never, async () => {}));
  };
}
