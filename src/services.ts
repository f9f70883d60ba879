import { sql } from 'kysely';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { createAccountRepository } from './accounts/account.repository.ts';
import { CLAIMS_CACHE_SECONDS, createAccountService } from './accounts/account.service.ts';
import { createAccountDeletionService } from './account-lifecycle/account-deletion.service.ts';
import { createAccountExportService } from './account-lifecycle/account-export.service.ts';
import { createAccountStatusService, type OwnedEnvironments } from './account-lifecycle/account-status.service.ts';
import { createBlockedAccounts } from './oidc/blocked-accounts.ts';
import { createAccountSessionRepository } from './accounts/account-session.repository.ts';
import { createAccountSessionService } from './accounts/account-session.service.ts';
import { createFactorSummaryRepository } from './accounts/factor-summary.repository.ts';
import { createBackupCodeRepository } from './accounts/backup-code.repository.ts';
import { createBackupCodeService } from './accounts/backup-code.service.ts';
import { createTotpRepository } from './accounts/totp.repository.ts';
import { createRememberedBrowserRepository } from './accounts/remembered-browser.repository.ts';
import { createRememberedBrowsers } from './accounts/remembered-browser.service.ts';
import { createPasskeyOffer } from './interaction/passkey-offer.ts';
import { accountLabel } from './accounts/account-label.ts';
import { secondStepRemembered } from './http/remembered-browser-cookie.ts';
import { createTotpService } from './accounts/totp.service.ts';
import type { Config } from './config.ts';
import { createDatabase, poolStats } from './db/database.ts';
import { acquireDataDirLock } from './db/data-dir-lock.ts';
import type { KeyValueStore } from './db/key-value.ts';
import { MemoryStore } from './db/memory-store.ts';
import { hasMigration, latestMigrationName, migrateToLatest } from './db/migrator.ts';
import { connectRedis } from './db/redis-store.ts';
import { createClientRepository, withClientCache } from './oidc/client.repository.ts';
import { createCorsOrigins } from './oidc/cors-origins.ts';
import { createSigningKeyRepository } from './oidc/signing-key.repository.ts';
import { createSigningKeys } from './oidc/signing-keys.ts';
import { createAdapterFactory } from './oidc/adapter.ts';
import { createFindAccount } from './oidc/find-account.ts';
import { startProviderHost } from './oidc/provider.ts';
import { createProviderPages } from './interaction/provider-pages.ts';
import { createAbuseControls } from './verification/abuse-controls.ts';
import { createRenderer, type Renderer } from './http/render.ts';
import { createIdentifierChangeNotice } from './accounts/identifier-change-notice.ts';
import { identifierChangeEmail, identifierChangeSms } from './accounts/identifier-change-message.ts';
import { ensurePagesClient, PAGES_CLIENT_ID } from './http/page-session.ts';
import { createBackupCodeHandOff } from './interaction/backup-code-hand-off.ts';
import { createSecondFactorCompletion } from './interaction/second-factor-completion.ts';
import { signInCodeEmail } from './interaction/sign-in-email.ts';
import { signInCodeSms } from './interaction/sign-in-sms.ts';
import { createDevOutbox } from './notifications/dev-outbox.ts';
import { SmsDeliveryError, type Mailer, type SmsSender } from './notifications/message.ts';
import { createClientRegistry, type ClientRegistry } from './oidc/client-registry.ts';
import { createClientRevoker } from './oidc/client-revoker.ts';
import { createConnectedAppService } from './oidc/connected-app.service.ts';
import { CLI_CLIENT_ID, ensureCliClient } from './oidc/cli-client.ts';
import { ensureDemoClient } from './oidc/demo-client.ts';
import { createGrantRepository } from './oidc/grant.repository.ts';
import { createGrantRevocationEvents } from './oidc/grant-revocation-events.ts';
import type { ProviderHost } from './oidc/provider.ts';
import { createRefusalMarks } from './oidc/refusal-marks.ts';
import { createGrantRevocations } from './oidc/revoked-grants.ts';
import { invitationEmail } from './organizations/invitation-email.ts';
import { createInvitationService } from './organizations/invitation.service.ts';
import { createOrganizationClientService } from './organizations/organization-client.service.ts';
import { createBuilderService } from './builders/builder.service.ts';
import { type Clock, systemClock } from './shared/clock.ts';
import { durationText } from './i18n/duration.ts';
import { translator } from './i18n/translator.ts';
import { required } from './shared/required.ts';
import { createOneTimeCodes } from './verification/one-time-codes.ts';
import { createOrganizationService } from './organizations/organization.service.ts';
import { createPlatformConsoleService } from './platform-console/platform-console.service.ts';
import { createLedgerService } from './ledger/ledger.service.ts';
import { createEventRecorder } from './events/event-recorder.ts';
import { unitOfWork } from './events/unit-of-work.ts';
import type { Broker } from './events/broker.ts';
import { createEventDispatcher } from './events/event-dispatcher.ts';
import { createWebhookSecrets } from './events/webhook-secrets.ts';
import { createWebhookService } from './events/webhook.service.ts';
import { describeEndpoint, StartupError } from './shared/startup-error.ts';
import { createAuditService } from './audit/audit.service.ts';
import { createPlanService } from './billing/plan.service.ts';
import type { EnvironmentDriver } from './environments/driver.ts';
import { createTemplateCatalog } from './environments/template-catalog.ts';
import type { TerminalLimits } from './environments/terminal/terminal-session.ts';
import { createFederationService } from './federation/federation.service.ts';
import { createProviderTokenRefresher } from './federation/provider-token-refresher.ts';
import { createProviderTokenSeal } from './federation/provider-token-seal.ts';
import { createProviderTokenKeeper, createProviderTokenService } from './federation/provider-token.service.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { watchStorage } from './metrics/storage-metrics.ts';

/**
 * Storage and the services over it: shared by the server (app.ts) and the operator CLI. The server
 * passes its metrics, which the audit trail and the ledger report to; the CLI has none.
 */
export async function createServices(config: Config, log: Logger, clock: Clock = systemClock, metrics?: Metrics) {
  const releaseLock = 'dataDir' in config.database ? await acquireDataDirLock(config.database.dataDir) : () => {};
  const db = await createDatabase(config.database, log);
  let kv: KeyValueStore | undefined;
  let expectedMigration = '';
  const keys = createSigningKeys(createSigningKeyRepository(db), config.keysSecrets);
  const environmentTemplates = createTemplateCatalog(db, config.environments.templatesDir);
  try {
    await migrateToLatest(db);
    expectedMigration = await latestMigrationName();
    kv = 'url' in config.redis ? await connectRedis(config.redis) : new MemoryStore();
    await keys.ensureKeys();
  } catch (error) {
    // A failed start leaves no pool, connection or data-folder lock behind.
    await kv?.close().catch(() => {});
    await db.destroy().catch(() => {});
    releaseLock();
    throw error;
  }
  log.debug('storage ready');
  const events = createEventRecorder(clock);
  const accounts = createAccountService(createAccountRepository(db), createFactorSummaryRepository(db), {
    platformOwnerEmail: config.platformOwnerEmail,
    clock,
    transaction: unitOfWork(db, events, createAccountRepository),
    // A new account's sign-up DUST commits with it. The ledger is built below (through organizations
    // it needs the accounts), and is only called once requests run.
    newAccount: {
      prepare: () => ledger.signupInAccountTransaction.prepare(),
      book: (transaction, accountId) => ledger.signupInAccountTransaction.book(transaction, accountId),
    },
  });
  const audit = createAuditService(db, {
    events,
    isPlatformOwner: accounts.isPlatformOwner,
    onRecord: metrics?.domain.audited,
  });
  const clientStore = createClientRepository(db);
  // Browser origins for CORS: those of every registered redirect URI, reloaded when clients change.
  const corsOrigins = createCorsOrigins({
    redirectUris: clientStore.findRedirectUris,
    configured: config.corsOrigins,
  });
  const clientRepository = withClientCache(clientStore, { changed: corsOrigins.invalidate });
  const rememberedBrowsers = createRememberedBrowsers(createRememberedBrowserRepository(db), clock);
  const organizations = createOrganizationService({
    db,
    events,
    approval: config.organizationApproval,
    isPlatformOwner: accounts.isPlatformOwner,
  });
  const ledger = createLedgerService({
    db,
    events,
    clients: clientRepository,
    organizations,
    onBooked: metrics?.domain.dustMoved,
  });
  return {
    db,
    kv,
    keys,
    clientRepository,
    corsOrigins,
    accounts,
    backupCodes: createBackupCodeService(createBackupCodeRepository(db), config.keysSecrets),
    rememberedBrowsers,
    // The MFA policy's question about this browser, asked by the provider and by our own pages alike.
    secondStepRemembered: secondStepRemembered(rememberedBrowsers),
    totp: createTotpService(
      createTotpRepository(db),
      unitOfWork(db, events, createTotpRepository),
      config.keysSecrets,
      clock,
    ),
    ledger,
    audit,
    events,
    accountSessions: createAccountSessionService(
      createAccountSessionRepository(db),
      unitOfWork(db, events, createAccountSessionRepository),
      audit,
    ),
    // One set of counters for every path that sends or checks a code, the device pages included.
    abuse: createAbuseControls(kv, config.limits, clock),
    organizations,
    // Read by other domains whether or not Stripe is configured; only Stripe's webhooks change plans.
    plans: createPlanService({ db, offers: config.plans }),
    environmentTemplates,
    checks: {
      database: async () => void (await sql`select 1`.execute(db)),
      schema: async () => {
        if (!(await hasMigration(db, expectedMigration)))
          throw new Error(`migration ${expectedMigration} is not applied`);
      },
      keyValue: () => kv.ping(),
    },
    async close() {
      await kv.close();
      await db.destroy();
      releaseLock();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;

/**
 * The oidc-provider host over these services. The server passes its renderer and what revoking a
 * grant must also do; the CLI, which only validates clients against the configuration, passes a
 * renderer of its own and nothing to do on revocation.
 */
export function startProvider(
  config: Config,
  services: Services,
  log: Logger,
  options: {
    renderer: Renderer;
    onGrantRevoked?: (grantId: string) => Promise<void>;
    clock?: Clock;
    onProvider?: (provider: Provider) => void;
  },
) {
  const graceSeconds = config.refreshTokenReuseGraceSeconds;
  return startProviderHost({
    config,
    log,
    onGrantRevoked: options.onGrantRevoked ?? (async () => {}),
    publishGrantRevoked: createGrantRevocationEvents(services.db, services.events),
    audit: services.audit,
    onProvider: options.onProvider,
    sessions: services.accountSessions,
    keys: services.keys,
    adapter: createAdapterFactory({
      db: services.db,
      kv: services.kv,
      clients: services.clientRepository,
      sharedKeyValue: 'url' in config.redis,
      grantCopies: services.kv.anySlots ? { accessTokenTtl: config.ttl.accessToken } : undefined,
    }),
    findAccount: createFindAccount(services.accounts, services.organizations.grantClaims),
    organizationClaims: services.organizations.grantClaims,
    requiresSecondFactor: services.accounts.requiresSecondFactor,
    secondStepRemembered: services.secondStepRemembered,
    pages: createProviderPages(options.renderer, {
      accountLabel: async (accountId) => {
        const account = await services.accounts.findById(accountId);
        return account ? accountLabel(account) : undefined;
      },
    }),
    refreshGrace:
      graceSeconds > 0
        ? { windowSeconds: graceSeconds, kv: services.kv, clock: options.clock ?? systemClock }
        : undefined,
  });
}

/** Suspension and reactivation over a provider host: the server's, or one the CLI starts for the command. */
export function accountStatusOver(
  config: Config,
  services: Services,
  host: Pick<ProviderHost, 'sessionExists' | 'endSession' | 'revokeGrant'>,
  environments: OwnedEnvironments,
) {
  return createAccountStatusService({
    accounts: services.accounts,
    sessions: services.accountSessions,
    providerSessions: { exists: host.sessionExists, end: host.endSession },
    access: createBlockedAccounts({
      kv: services.kv,
      grants: createGrantRepository(services.db),
      revokeGrant: host.revokeGrant,
      accessTokenTtl: config.ttl.accessToken,
      claimsCacheSeconds: CLAIMS_CACHE_SECONDS,
    }),
    environments,
    audit: services.audit,
  });
}

/**
 * Everything the server runs on, each built once: the services above, the oidc-provider host over
 * them, the registered clients, delivery of mail and texts, one-time codes, and the domain services
 * that need a sender or the provider. app.ts only assembles middleware and routes over these.
 */
/** What tests replace: the clock they move, and the DigitalOcean stand-in's driver or a local one. */
export type ServerOverrides = {
  clock?: Clock;
  environmentDriver?: EnvironmentDriver & { close?(): Promise<void> };
  /** The terminal tests shrink the session limits (idle timeout, ring). */
  terminalLimits?: Partial<TerminalLimits>;
};

export async function createServerServices(config: Config, log: Logger, overrides: ServerOverrides = {}) {
  const clock = overrides.clock ?? systemClock;
  // Loaded here rather than at the top: the operator CLI builds only createServices, and these
  // modules (WebAuthn, environments and terminals) cost it a second and a half to load.
  const [
    { createPasskeyService, relyingPartyOf },
    { createPasskeyRepository },
    { createEnvironments },
    { createTerminals },
  ] = await Promise.all([
    import('./accounts/passkey.service.ts'),
    import('./accounts/passkey.repository.ts'),
    import('./environments/environments.ts'),
    import('./environments/terminal/terminals.ts'),
  ]);
  // Stripe, SMTP, Twilio and NATS only when configured: their client libraries are megabytes of code
  // that a server without them would otherwise keep in its heap for its whole life.
  const [stripeBilling, smtpMailer, twilioSms, natsBroker] = await Promise.all([
    config.stripe ? import('./billing/stripe-billing.ts') : undefined,
    config.smtp ? import('./notifications/smtp-mailer.ts') : undefined,
    config.twilio ? import('./notifications/twilio-sms.ts') : undefined,
    config.events.nats ? import('./events/broker.ts') : undefined,
  ]);
  // /metrics is served on the main port behind METRICS_TOKEN, or on METRICS_PORT; the counters run either way.
  const metrics = createMetrics({ served: config.metrics.token !== undefined || config.metrics.port !== undefined });
  const services = await createServices(config, log, clock, metrics);
  watchStorage(metrics.registry, {
    pool: () => poolStats(services.db),
    database: services.checks.database,
    keyValue: services.checks.keyValue,
    keyValueKind: 'url' in config.redis ? 'redis' : 'memory',
  });
  const revocations = createGrantRevocations(services.kv, config.ttl.accessToken);
  const refusalMarks = await createRefusalMarks(services.kv, clock);
  // Open terminals end with their grant; they are built after the provider that reports revocations.
  let endTerminalsOf = (_grantId: string) => {};
  const markRevoked = async (grantId: string) => {
    await revocations.markRevoked(grantId);
    endTerminalsOf(grantId);
  };
  const renderer = createRenderer({ reloadTemplates: config.env === 'development' });
  let host: ProviderHost | undefined;
  let clients: ClientRegistry;
  let broker: Broker | undefined;
  try {
    const nats = config.events.nats;
    broker =
      nats && natsBroker
        ? await natsBroker.connectBroker(nats, log).catch((error: unknown) => {
            const reason = error instanceof Error ? error.message : String(error);
            throw new StartupError(
              `Cannot publish events to NATS at NATS_URL (${describeEndpoint(nats.url)}): ${reason}`,
            );
          })
        : undefined;
    // Environment templates are validated at every server start; a bad file stops it with every
    // problem named. The CLI leaves them to `templates reload`: a quarter of a second per command.
    await services.environmentTemplates.reload();
    host = await startProvider(config, services, log, {
      renderer,
      onGrantRevoked: markRevoked,
      clock,
      onProvider: metrics.domain.watchProvider,
    });
    const provider = host;
    clients = createClientRegistry(
      services.clientRepository,
      (metadata) => provider.current().Client.validate(metadata),
      {
        allowHttpAppLinks: config.env === 'development',
        revokeClient: createClientRevoker({
          grants: createGrantRepository(services.db),
          revokeGrant: provider.revokeGrant,
        }),
      },
    );
    await ensurePagesClient(clients, config.issuer);
    if (config.demoClient) await ensureDemoClient(clients, config.issuer);
    await (config.cliClient ? ensureCliClient(clients) : clients.remove(CLI_CLIENT_ID, { type: 'system' }));
    // Accounts from before the ledger, or whose grant was interrupted, get their sign-up DUST now.
    const granted = await services.ledger.grantMissingSignups();
    if (granted) log.info({ granted }, 'granted missing sign-up DUST');
  } catch (error) {
    // A failed start (keys sealed under another KEYS_SECRET, say) leaves no pool, Redis connection,
    // key poller or data-folder lock behind.
    host?.stop();
    await broker?.close();
    await services.close();
    throw error;
  }
  const provider = host;

  const outbox = config.smtp ? undefined : createDevOutbox(services.kv, log);
  const mailer: Mailer =
    config.smtp && smtpMailer
      ? smtpMailer.createSmtpMailer({ ...config.smtp, from: config.mailFrom }, log)
      : required(outbox, 'the development outbox').mailer;
  // Without Twilio, texts go to the development outbox; where that does not exist (production always
  // has SMTP) no SMS is offered, so nothing is ever readable over HTTP once real delivery is set up.
  const sms: SmsSender | undefined =
    config.twilio && twilioSms ? twilioSms.createTwilioSms(config.twilio, log) : outbox?.sms;

  const codeLifetime = durationText(config.otp.ttl);
  const CODE_MESSAGES = {
    sign_in: { email: signInCodeEmail, sms: signInCodeSms },
    identifier_change: { email: identifierChangeEmail, sms: identifierChangeSms },
  };
  // One code service: the send and check budgets and lockouts are the same for every purpose; the
  // purpose only chooses the words of the message.
  const codes = createOneTimeCodes({
    kv: services.kv,
    secret: config.keysSecret,
    settings: config.otp,
    abuse: services.abuse,
    clock,
    onSend: metrics.domain.codeSent,
    deliver: async (recipient, code, purpose, locale) => {
      const messages = CODE_MESSAGES[purpose];
      const words = translator(locale);
      if (recipient.channel === 'email')
        return mailer.send(messages.email(recipient.address, code, codeLifetime, words));
      // The pages offer SMS only when there is a sender; a flow that asks anyway gets the delivery-failure page.
      if (!sms) throw new SmsDeliveryError('no SMS sender is configured');
      return sms.send(messages.sms(recipient.address, code, codeLifetime, config.issuer, words));
    },
  });

  const handOff = createBackupCodeHandOff(services.kv, config.keysSecrets);
  const environments = createEnvironments({
    db: services.db,
    settings: config.environments,
    issuer: config.issuer,
    keysSecret: config.keysSecret,
    keysSecrets: config.keysSecrets,
    templates: services.environmentTemplates,
    ledger: services.ledger,
    organizations: services.organizations,
    limitsFor: services.plans.limitsFor,
    accounts: services.accounts,
    audit: services.audit,
    events: services.events,
    mailer,
    log,
    clock,
    ...(overrides.environmentDriver ? { driver: overrides.environmentDriver } : {}),
  });
  const registered = clients;
  const terminals = createTerminals({
    issuer: config.issuer,
    settings: config.terminal,
    kv: services.kv,
    clock,
    service: environments.service,
    keySeal: environments.keySeal,
    audit: services.audit,
    // The WebSocket upgrade accepts the issuer's origin and those of the client's redirect URIs.
    clientOrigins: async (clientId) =>
      ((await registered.find(clientId))?.redirect_uris ?? []).flatMap((uri) => {
        try {
          return [new URL(uri).origin];
        } catch {
          return [];
        }
      }),
    // The same marks the /api guard reads: a revoked grant or a suspended or deleted account.
    refused: refusalMarks.refuses,
    sessionExists: provider.sessionExists,
    log,
    ...(overrides.terminalLimits ? { limits: overrides.terminalLimits } : {}),
  });
  endTerminalsOf = terminals.gateway.grantRevoked;
  const passkeys = createPasskeyService({
    repository: createPasskeyRepository(services.db),
    transaction: unitOfWork(services.db, services.events, createPasskeyRepository),
    kv: services.kv,
    relyingParty: relyingPartyOf(config.issuer),
  });
  const connectedApps = createConnectedAppService({
    grants: createGrantRepository(services.db),
    clients: services.clientRepository,
    revokeGrant: provider.revokeGrant,
    organizations: services.organizations,
    hiddenClientIds: [PAGES_CLIENT_ID],
  });
  // Upstream tokens are kept at sign-in (the keeper, which federation calls) and refreshed through
  // federation's clients (the service), so the keeper comes first.
  const providerTokenSeal = createProviderTokenSeal(config.keysSecrets);
  const federation = createFederationService({
    providers: config.federation.providers,
    issuer: config.issuer,
    timeoutSeconds: config.federation.timeoutSeconds,
    kv: services.kv,
    db: services.db,
    accounts: services.accounts,
    clock,
    keysSecrets: config.keysSecrets,
    keepTokens: createProviderTokenKeeper({ db: services.db, seal: providerTokenSeal, clock }).keep,
  });
  const providerTokens = createProviderTokenService({
    db: services.db,
    seal: providerTokenSeal,
    clock,
    upstream: federation,
    audit: services.audit,
    log,
  });
  const providerTokenRefresher = createProviderTokenRefresher({ service: providerTokens, log });
  const webhookSecrets = createWebhookSecrets(config.keysSecrets);
  const webhooks = createWebhookService({
    db: services.db,
    clock,
    secrets: webhookSecrets,
    issuer: config.issuer,
    allowPrivateNetworks: config.events.webhooks.privateNetworks,
    allowHttp: !config.production,
    platformOwnerEmail: config.platformOwnerEmail,
    organizations: services.organizations,
    accounts: services.accounts,
    mailer,
    log,
  });
  const eventDispatcher = createEventDispatcher({
    db: services.db,
    clock,
    settings: config.events,
    secrets: webhookSecrets,
    broker,
    log,
    notifyDisabled: webhooks.notifyDisabled,
    onAttempt: metrics.domain.webhookAttempted,
  });
  metrics.domain.watchOutbox(eventDispatcher.backlog);
  const accountStatus = accountStatusOver(config, services, provider, environments.service);
  const accountExports = createAccountExportService({
    account: services.accounts.findById,
    passkeys: passkeys.list,
    totp: services.totp.find,
    backupCodesLeft: services.backupCodes.remaining,
    sessions: services.accountSessions.history,
    connectedApps: connectedApps.list,
    memberships: services.organizations.membershipsOf,
    dustBalance: (accountId) => services.ledger.balance('person', accountId),
    dustEntries: (accountId, page) => services.ledger.history('person', accountId, {}, page),
    auditEvents: services.audit.allFor,
    linkedIdentities: federation.linkedTo,
  });
  const platformConsole = createPlatformConsoleService({
    accounts: services.accounts,
    organizations: services.organizations,
    accountStatus,
    accountSessions: services.accountSessions,
    providerSessions: { exists: provider.sessionExists, end: provider.endSession },
    ledger: services.ledger,
    audit: services.audit,
    clients,
    keys: services.keys,
    keysChanged: provider.refreshKeys,
    // Tokens a superseded key signed live at most this long, counted from when every instance has
    // noticed its successor.
    keyRetirementWaitSeconds: Math.max(config.ttl.idToken, config.ttl.accessToken) + config.keysRefreshSeconds,
    clock,
  });
  const accountDeletion = createAccountDeletionService({
    db: services.db,
    accounts: services.accounts,
    status: accountStatus,
    audit: services.audit,
    mailer,
    sms,
    issuer: config.issuer,
    log,
  });
  return {
    ...services,
    clock,
    passkeys,
    accountStatus,
    accountExports,
    accountDeletion,
    platformConsole,
    config,
    metrics,
    provider,
    clients,
    refusalMarks,
    renderer,
    outbox,
    mailer,
    sms,
    codeLifetime,
    signInCodes: codes.for('sign_in'),
    identifierCodes: codes.for('identifier_change'),
    handOff,
    passkeyOffer: createPasskeyOffer(services.kv),
    secondFactor: createSecondFactorCompletion({
      backupCodes: services.backupCodes,
      rememberedBrowsers: services.rememberedBrowsers,
      handOff,
      audit: services.audit,
    }),
    notifyPrevious: createIdentifierChangeNotice({ mailer, sms, issuer: config.issuer, log }),
    invitations: createInvitationService({
      db: services.db,
      events: services.events,
      issuer: config.issuer,
      send: (mail) => mailer.send(invitationEmail(mail)),
    }),
    organizationClients: createOrganizationClientService({
      organizations: services.organizations,
      clients,
      events: services.events,
    }),
    builders: createBuilderService({
      accounts: services.accounts,
      clients,
      audit: services.audit,
      events: services.events,
      clientsPerPerson: config.builderClientsPerPerson,
    }),
    connectedApps,
    billing:
      config.stripe && stripeBilling
        ? stripeBilling.createStripeBilling({
            stripe: config.stripe,
            issuer: config.issuer,
            packs: config.dustPacks,
            db: services.db,
            ledger: services.ledger,
            plans: services.plans,
            organizations: services.organizations,
            log,
          })
        : undefined,
    environments,
    terminals,
    federation,
    providerTokens,
    providerTokenRefresher,
    webhooks,
    eventDispatcher,
    async close() {
      await providerTokenRefresher.stop();
      await terminals.close();
      await environments.close();
      await eventDispatcher.stop();
      provider.stop();
      await services.close();
    },
  };
}

export type ServerServices = Awaited<ReturnType<typeof createServerServices>>;
