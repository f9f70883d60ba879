import Koa from 'koa';
import type { Logger } from 'pino';
import { accountRoutes } from './accounts/account.routes.ts';
import { billingRoutes } from './billing/billing.routes.ts';
import { createStripeBilling } from './billing/billing.ts';
import type { Config } from './config.ts';
import { apiDocsRoutes } from './http/api-docs.routes.ts';
import { mountApiRoutes, openApiDocument, type ApiRoute } from './http/api-route.ts';
import { assetRoutes } from './http/assets.routes.ts';
import { errorPages } from './http/error-pages.ts';
import { healthRoutes } from './http/health.routes.ts';
import { createLogger } from './http/logger.ts';
import { createRenderer, type Renderer } from './http/render.ts';
import { requestContext } from './http/request-context.ts';
import { securityHeaders } from './http/security-headers.ts';
import { accountPageRoutes } from './account-pages/overview.routes.ts';
import { sessionPageRoutes } from './account-pages/sessions.routes.ts';
import { activityPageRoutes } from './account-pages/activity.routes.ts';
import { appPageRoutes } from './account-pages/apps.routes.ts';
import { passkeyPageRoutes } from './account-pages/passkeys.routes.ts';
import { passkeyInteractionRoutes } from './interaction/passkey.routes.ts';
import {
  identifierChangedNoticeEmail,
  identifierChangedNoticeSms,
  identifierChangeEmail,
  identifierChangeSms,
} from './account-pages/identifier-change-message.ts';
import { identifierPageRoutes } from './account-pages/identifier.routes.ts';
import { securityPageRoutes } from './account-pages/security.routes.ts';
import { createConnectedAppService } from './oidc/connected-app.service.ts';
import { createGrantRepository } from './oidc/grant.repository.ts';
import { createGrantRevoker } from './oidc/revoke-grant.ts';
import { interactionRoutes } from './interaction/interaction.routes.ts';
import { deviceGuessLimit } from './interaction/device-guess-limit.ts';
import { createOneTimeCodes } from './interaction/one-time-codes.ts';
import { createBackupCodeHandOff, type BackupCodeHandOff } from './interaction/backup-code-hand-off.ts';
import { mfaRoutes } from './interaction/mfa.routes.ts';
import { createSecondFactorCompletion, type SecondFactorCompletion } from './interaction/second-factor-completion.ts';
import { createPageSession, ensurePagesClient, PAGES_CLIENT_ID, type PageSession } from './interaction/page-session.ts';
import { signInCodeEmail } from './interaction/sign-in-email.ts';
import { signInCodeSms } from './interaction/sign-in-sms.ts';
import { ledgerRoutes } from './ledger/ledger.routes.ts';
import { createDevOutbox } from './notifications/dev-outbox.ts';
import { SmsDeliveryError, type Mailer, type SmsSender } from './notifications/message.ts';
import { outboxRoutes } from './notifications/outbox.routes.ts';
import { createSmtpMailer } from './notifications/smtp-mailer.ts';
import { createTwilioSms } from './notifications/twilio-sms.ts';
import { sweepExpiredPayloads } from './oidc/adapter.ts';
import { createBearerGuard } from './oidc/bearer-guard.ts';
import { createClientRegistry, type ClientRegistry } from './oidc/client-registry.ts';
import { demoCallbackRoutes, ensureDemoClient } from './oidc/demo-client.ts';
import { createGrantRevocations } from './oidc/grant-revocations.ts';
import { providerMount } from './oidc/provider-mount.ts';
import type { ProviderHost } from './oidc/provider.ts';
import { whoamiRoutes } from './oidc/whoami.routes.ts';
import { invitationEmail } from './organizations/invitation-email.ts';
import { invitationPageRoutes } from './organizations/invitation-pages.routes.ts';
import { invitationRoutes } from './organizations/invitation.routes.ts';
import { createInvitationService, type InvitationService } from './organizations/invitation.service.ts';
import { organizationClientRoutes } from './organizations/organization-client.routes.ts';
import { createOrganizationClientService } from './organizations/organization-client.service.ts';
import { organizationRoutes, platformRoutes } from './organizations/organization.routes.ts';
import { createServices, startProvider, type Services } from './services.ts';
import { createEnvironments, type EnvironmentsDeps } from './environments/environments.ts';
import { environmentRoutes } from './environments/environment.routes.ts';
import { environmentPageRoutes } from './environments/environment-pages.routes.ts';
import { phoneHomeRoutes } from './environments/phone-home.routes.ts';
import { createTerminals } from './environments/terminal/terminals.ts';
import type { TerminalLimits } from './environments/terminal/terminal-session.ts';
import { terminalRoutes } from './environments/terminal/terminal.routes.ts';
import { environmentLogRoutes, terminalPageRoutes } from './environments/terminal/terminal-pages.routes.ts';
import { describeDuration } from './shared/duration.ts';

const SWEEP_INTERVAL_MS = 60_000;
const API_VERSION = '1.0.0';

export type App = Awaited<ReturnType<typeof createApp>>;

/** The composition root: the only module that knows every folder. */
export async function createApp(
  config: Config,
  log: Logger = createLogger(config.logLevel),
  // Tests run environments on the DigitalOcean stand-in's driver and move their clock.
  overrides: {
    environments?: Pick<EnvironmentsDeps, 'driver' | 'clock'>;
    terminalLimits?: Partial<TerminalLimits>;
  } = {},
) {
  const services = await createServices(config, log);
  const revocations = createGrantRevocations(services.kv, config.ttl.accessToken);
  // Open terminals end with their grant; they are built after the provider that reports revocations.
  let onGrantRevoked = (_grantId: string) => {};
  const markRevoked = async (grantId: string) => {
    await revocations.markRevoked(grantId);
    onGrantRevoked(grantId);
  };
  let host: ProviderHost | undefined;
  let clients: ClientRegistry;
  try {
    host = await startProvider(config, services, log, markRevoked);
    const provider = host;
    clients = createClientRegistry(services.clientRepository, (metadata) =>
      provider.current().Client.validate(metadata),
    );
    await ensurePagesClient(clients, config.issuer);
    if (config.demoClient) await ensureDemoClient(clients, config.issuer);
    // Accounts from before the ledger, or whose grant was interrupted, get their sign-up DUST now.
    const granted = await services.ledger.grantMissingSignups();
    if (granted) log.info({ granted }, 'granted missing sign-up DUST');
  } catch (error) {
    // A failed start (keys sealed under another KEYS_SECRET, say) leaves no pool, Redis connection,
    // key poller or data-folder lock behind.
    host?.stop();
    await services.close();
    throw error;
  }

  const renderer = createRenderer({ reloadTemplates: config.env === 'development' });
  const outbox = config.smtp ? undefined : createDevOutbox(services.kv, log);
  const mailer: Mailer = config.smtp
    ? createSmtpMailer({ ...config.smtp, from: config.mailFrom }, log)
    : outbox!.mailer;
  // Without Twilio, texts go to the development outbox; where that does not exist (production always
  // has SMTP) no SMS is offered, so nothing is ever readable over HTTP once real delivery is set up.
  const sms: SmsSender | undefined = config.twilio ? createTwilioSms(config.twilio, log) : outbox?.sms;
  const invitations = createInvitationService({
    db: services.db,
    issuer: config.issuer,
    send: (mail) => mailer.send(invitationEmail(mail)),
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
  const environments = createEnvironments({
    db: services.db,
    settings: config.environments,
    issuer: config.issuer,
    keysSecret: config.keysSecret,
    templates: services.environmentTemplates,
    ledger: services.ledger,
    organizations: services.organizations,
    limitsFor: services.plans.limitsFor,
    accounts: services.accounts,
    audit: services.audit,
    mailer,
    log,
    ...overrides.environments,
  });
  const terminals = createTerminals({
    issuer: config.issuer,
    settings: config.terminal,
    kv: services.kv,
    clock: environments.clock,
    service: environments.service,
    keySeal: environments.keySeal,
    audit: services.audit,
    clientOrigins: async (clientId) =>
      ((await clients.find(clientId))?.redirect_uris ?? []).flatMap((uri) => {
        try {
          return [new URL(uri).origin];
        } catch {
          return [];
        }
      }),
    isRevoked: revocations.isRevoked,
    log,
    ...(overrides.terminalLimits ? { limits: overrides.terminalLimits } : {}),
  });
  onGrantRevoked = terminals.gateway.grantRevoked;
  const apiRoutes = [
    ...buildApiRoutes(services, clients, invitations),
    ...(billing ? billingRoutes(billing.service) : []),
    ...environmentRoutes(environments.service),
    ...terminalRoutes(terminals),
  ];
  const apiDocument = openApiDocument(apiRoutes, { issuer: config.issuer, version: API_VERSION });
  const guard = createBearerGuard({ host, issuer: config.issuer, kv: services.kv, revocations });
  const pageSession = createPageSession({
    provider: host.current,
    kv: services.kv,
    issuer: config.issuer,
    requiresSecondFactor: services.accounts.requiresSecondFactor,
  });
  const handOff = createBackupCodeHandOff(services.kv, config.keysSecret);
  const secondFactor = createSecondFactorCompletion({
    provider: host.current,
    backupCodes: services.backupCodes,
    handOff,
    audit: services.audit,
  });

  // Order matters: plumbing first, then our own routes, and oidc-provider takes whatever is left.
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
  koa.use(apiDocsRoutes(apiDocument, renderer));
  // Server-Sent Events, ahead of the JSON routes that answer every other /api path.
  koa.use(
    environmentLogRoutes({
      service: environments.service,
      requireScopes: guard.requireScopes,
      pollMs: Math.min(config.terminal.checkMs, 1000),
    }),
  );
  koa.use(mountApiRoutes(apiRoutes, guard.requireScopes));
  koa.use(pageSession.routes());
  koa.use(
    accountPageRoutes({
      accounts: services.accounts,
      ledger: services.ledger,
      audit: services.audit,
      session: pageSession,
      renderer,
    }),
  );
  koa.use(
    securityPageRoutes({
      accounts: services.accounts,
      totp: services.totp,
      backupCodes: services.backupCodes,
      handOff,
      audit: services.audit,
      session: pageSession,
      renderer,
    }),
  );
  const selfService = {
    config,
    services,
    host,
    mailer,
    sms,
    log,
    markRevoked,
    session: pageSession,
    renderer,
  };
  for (const routes of selfServicePageRoutes(selfService)) koa.use(routes);
  koa.use(invitationPageRoutes({ invitations, accounts: services.accounts, session: pageSession, renderer }));
  koa.use(phoneHomeRoutes(environments.reconciler));
  koa.use(
    environmentPageRoutes({
      environments: environments.service,
      organizations: services.organizations,
      session: pageSession,
      renderer,
    }),
  );
  koa.use(
    terminalPageRoutes({
      service: environments.service,
      terminals,
      session: pageSession,
      renderer,
      pollMs: Math.min(config.terminal.checkMs, 1000),
    }),
  );
  koa.use(
    sessionPageRoutes({
      accountSessions: services.accountSessions,
      providerSessions: { exists: host.sessionExists, end: host.endSession },
      session: pageSession,
      renderer,
    }),
  );
  koa.use(
    passkeyPageRoutes({
      passkeys: services.passkeys,
      accounts: services.accounts,
      backupCodes: services.backupCodes,
      handOff,
      audit: services.audit,
      session: pageSession,
      renderer,
    }),
  );
  koa.use(
    passkeyInteractionRoutes({
      provider: host.current,
      passkeys: services.passkeys,
      accounts: services.accounts,
      secondFactor,
      audit: services.audit,
    }),
  );
  for (const routes of signInRoutes(config, services, host, mailer, renderer, sms, { secondFactor, handOff }))
    koa.use(routes);
  koa.use(
    deviceGuessLimit({
      abuse: services.abuse,
      renderer,
      verificationPath: () => host.current().pathFor('code_verification'),
    }),
  );
  koa.use(providerMount(host));

  const sweeper = setInterval(() => {
    sweepExpiredPayloads(services.db).catch((error: unknown) => log.error({ err: error }, 'token sweep failed'));
    services.ledger
      .expireIdempotencyKeys()
      .catch((error: unknown) => log.error({ err: error }, 'idempotency key sweep failed'));
  }, SWEEP_INTERVAL_MS).unref();

  environments.start();

  const provider = host;
  return {
    koa,
    config,
    services,
    clients,
    provider,
    environments,
    terminals,
    /** For the Node HTTP server's `upgrade` event: the terminal's WebSocket. */
    upgrade: terminals.upgrade,
    async close() {
      clearInterval(sweeper);
      await terminals.close();
      await environments.close();
      provider.stop();
      await services.close();
    },
  };
}

/** Every /api route, each domain's declared with its schemas (which also make the OpenAPI document). */
function buildApiRoutes(services: Services, clients: ClientRegistry, invitations: InvitationService): ApiRoute[] {
  const { organizations, ledger, accounts } = services;
  return [
    ...whoamiRoutes(),
    ...accountRoutes({ accounts, memberships: organizations.membershipsOf }),
    ...organizationRoutes(organizations),
    ...platformRoutes(organizations),
    ...invitationRoutes(invitations),
    ...organizationClientRoutes(createOrganizationClientService({ organizations, clients })),
    ...ledgerRoutes({
      ledger,
      authorize: (accountId, organizationId, permission) =>
        organizations.authorize(accountId, organizationId, permission, 'do that with its DUST'),
      isApprovedApp: async (clientId) => {
        const client = await clients.find(clientId);
        if (client?.first_party) return true;
        if (!client?.organization_id) return false;
        return organizations.requireActive(client.organization_id).then(
          () => true,
          () => false,
        );
      },
    }),
  ];
}

/** The hosted sign-in: email and SMS codes, the second step, consent with the organization choice, the sign-up DUST. */
function signInRoutes(
  config: Config,
  services: Services,
  host: ProviderHost,
  mailer: Mailer,
  renderer: Renderer,
  sms: SmsSender | undefined,
  mfa: { secondFactor: SecondFactorCompletion; handOff: BackupCodeHandOff },
) {
  const codeLifetime = describeDuration(config.otp.ttl);
  const codes = createOneTimeCodes({
    kv: services.kv,
    secret: config.keysSecret,
    settings: config.otp,
    abuse: services.abuse,
    deliver: async (recipient, code) => {
      if (recipient.channel === 'email') return mailer.send(signInCodeEmail(recipient.address, code, codeLifetime));
      // The pages offer SMS only when there is a sender; a flow that asks anyway gets the delivery-failure page.
      if (!sms) throw new SmsDeliveryError('no SMS sender is configured');
      return sms.send(signInCodeSms(recipient.address, code, codeLifetime, config.issuer));
    },
  });
  const { organizations } = services;
  const secondStep = mfaRoutes({
    provider: host.current,
    renderer,
    accounts: services.accounts,
    totp: services.totp,
    backupCodes: services.backupCodes,
    codes,
    codeLifetime,
    smsAvailable: sms !== undefined,
    abuse: services.abuse,
    audit: services.audit,
    ...mfa,
  });
  const firstStep = interactionRoutes({
    provider: host.current,
    renderer,
    accounts: services.accounts,
    codes,
    codeLifetime,
    smsAvailable: sms !== undefined,
    audit: services.audit,
    onAccountCreated: services.ledger.grantSignup,
    organizations: {
      choices: (accountId) => organizations.membershipsOf(accountId),
      bind: organizations.bindGrant,
      isBound: async (grantId) => (await organizations.grantClaims(grantId)) !== undefined,
    },
  });
  return [secondStep, firstStep];
}

/** The account pages beyond the overview and devices: sign-in identifier changes, connected apps, activity. */
function selfServicePageRoutes(deps: {
  config: Config;
  services: Services;
  host: ProviderHost;
  mailer: Mailer;
  sms: SmsSender | undefined;
  log: Logger;
  markRevoked(grantId: string): Promise<void>;
  session: PageSession;
  renderer: Renderer;
}) {
  const { config, services, session, renderer } = deps;
  const codeLifetime = describeDuration(config.otp.ttl);
  // A code service of its own only so that its messages say what the code is for: flows are named
  // apart from sign-in's, and the send and check budgets and lockouts are the same shared ones.
  const codes = createOneTimeCodes({
    kv: services.kv,
    secret: config.keysSecret,
    settings: config.otp,
    abuse: services.abuse,
    deliver: async (recipient, code) => {
      if (recipient.channel === 'email')
        return deps.mailer.send(identifierChangeEmail(recipient.address, code, codeLifetime));
      if (!deps.sms) throw new SmsDeliveryError('no SMS sender is configured');
      return deps.sms.send(identifierChangeSms(recipient.address, code, codeLifetime, config.issuer));
    },
  });
  const connectedApps = createConnectedAppService({
    grants: createGrantRepository(services.db),
    clients: services.clientRepository,
    revokeGrant: createGrantRevoker({ provider: deps.host.current, onGrantRevoked: deps.markRevoked }),
    organizations: services.organizations,
    hiddenClientIds: [PAGES_CLIENT_ID],
  });
  return [
    identifierPageRoutes({
      accounts: services.accounts,
      codes,
      codeLifetime,
      smsAvailable: deps.sms !== undefined,
      audit: services.audit,
      session,
      renderer,
      // The change stands whether or not the notice gets through; a failed one is logged.
      notifyPrevious: async (previous, newMasked) => {
        const message =
          previous.channel === 'email'
            ? deps.mailer.send(identifierChangedNoticeEmail(previous.address, newMasked, config.issuer))
            : deps.sms?.send(identifierChangedNoticeSms(previous.address, newMasked));
        await Promise.resolve(message).catch((error: unknown) =>
          deps.log.warn({ err: error }, 'could not notify the previous sign-in identifier'),
        );
      },
    }),
    appPageRoutes({ connectedApps, audit: services.audit, session, renderer }),
    activityPageRoutes({ audit: services.audit, clients: services.clientRepository, session, renderer }),
  ];
}
