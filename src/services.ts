import { sql } from 'kysely';
import type { Logger } from 'pino';
import { createAccountRepository } from './accounts/account.repository.ts';
import { createAccountService } from './accounts/account.service.ts';
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
import { createDatabase } from './db/database.ts';
import { acquireDataDirLock } from './db/data-dir-lock.ts';
import type { KeyValueStore } from './db/key-value.ts';
import { MemoryStore } from './db/memory-store.ts';
import { hasMigration, latestMigrationName, migrateToLatest } from './db/migrator.ts';
import { connectRedis } from './db/redis-store.ts';
import { createClientRepository, withClientCache } from './oidc/client.repository.ts';
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
import { createConnectedAppService } from './oidc/connected-app.service.ts';
import { CLI_CLIENT_ID, ensureCliClient } from './oidc/cli-client.ts';
import { ensureDemoClient } from './oidc/demo-client.ts';
import { createGrantRepository } from './oidc/grant.repository.ts';
import { createGrantRevoker } from './oidc/grant-revoker.ts';
import type { ProviderHost } from './oidc/provider.ts';
import { createGrantRevocations } from './oidc/revoked-grants.ts';
import { invitationEmail } from './organizations/invitation-email.ts';
import { createInvitationService } from './organizations/invitation.service.ts';
import { createOrganizationClientService } from './organizations/organization-client.service.ts';
import { type Clock, systemClock } from './shared/clock.ts';
import { describeDuration } from './shared/duration.ts';
import { required } from './shared/required.ts';
import { createOneTimeCodes } from './verification/one-time-codes.ts';
import { createOrganizationService } from './organizations/organization.service.ts';
import { createLedgerService } from './ledger/ledger.service.ts';
import { createAuditRepository } from './audit/audit.repository.ts';
import { createAuditService } from './audit/audit.service.ts';
import { createPlanService } from './billing/plan.service.ts';
import type { EnvironmentDriver } from './environments/driver.ts';
import { createTemplateCatalog } from './environments/template-catalog.ts';
import type { TerminalLimits } from './environments/terminal/terminal-session.ts';
import { createFederationService } from './federation/federation.service.ts';

/** Storage and the services over it: shared by the server (app.ts) and the operator CLI. */
export async function createServices(config: Config, log: Logger, clock: Clock = systemClock) {
  const releaseLock = 'dataDir' in config.database ? await acquireDataDirLock(config.database.dataDir) : () => {};
  const db = await createDatabase(config.database, log);
  let kv: KeyValueStore | undefined;
  let expectedMigration = '';
  const keys = createSigningKeys(createSigningKeyRepository(db), config.keysSecret);
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
  const accounts = createAccountService(createAccountRepository(db), createFactorSummaryRepository(db), {
    platformOwnerEmail: config.platformOwnerEmail,
    clock,
  });
  const audit = createAuditService(createAuditRepository(db));
  const rememberedBrowsers = createRememberedBrowsers(createRememberedBrowserRepository(db), clock);
  const clientRepository = withClientCache(createClientRepository(db));
  const organizations = createOrganizationService({
    db,
    approval: config.organizationApproval,
    isPlatformOwner: accounts.isPlatformOwner,
  });
  return {
    db,
    kv,
    keys,
    clientRepository,
    accounts,
    backupCodes: createBackupCodeService(createBackupCodeRepository(db), config.keysSecret),
    rememberedBrowsers,
    // The MFA policy's question about this browser, asked by the provider and by our own pages alike.
    secondStepRemembered: secondStepRemembered(rememberedBrowsers),
    totp: createTotpService(createTotpRepository(db), config.keysSecret, clock),
    ledger: createLedgerService({ db, clients: clientRepository, organizations }),
    audit,
    accountSessions: createAccountSessionService(createAccountSessionRepository(db), audit),
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
  options: { renderer: Renderer; onGrantRevoked?: (grantId: string) => Promise<void>; clock?: Clock },
) {
  const graceSeconds = config.refreshTokenReuseGraceSeconds;
  return startProviderHost({
    config,
    log,
    onGrantRevoked: options.onGrantRevoked ?? (async () => {}),
    sessions: services.accountSessions,
    keys: services.keys,
    adapter: createAdapterFactory({
      db: services.db,
      kv: services.kv,
      clients: services.clientRepository,
      sharedKeyValue: 'url' in config.redis,
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
        ? { windowSeconds: graceSeconds, kv: services.kv, clock: options.clock ?? systemClock, audit: services.audit }
        : undefined,
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
  // modules (WebAuthn, Stripe, SMTP, environments and terminals) cost it a second and a half to load.
  const [
    { createPasskeyService, relyingPartyOf },
    { createPasskeyRepository },
    { createStripeBilling },
    { createSmtpMailer },
    { createTwilioSms },
    { createEnvironments },
    { createTerminals },
  ] = await Promise.all([
    import('./accounts/passkey.service.ts'),
    import('./accounts/passkey.repository.ts'),
    import('./billing/stripe-billing.ts'),
    import('./notifications/smtp-mailer.ts'),
    import('./notifications/twilio-sms.ts'),
    import('./environments/environments.ts'),
    import('./environments/terminal/terminals.ts'),
  ]);
  const services = await createServices(config, log, clock);
  const revocations = createGrantRevocations(services.kv, config.ttl.accessToken);
  // Open terminals end with their grant; they are built after the provider that reports revocations.
  let endTerminalsOf = (_grantId: string) => {};
  const markRevoked = async (grantId: string) => {
    await revocations.markRevoked(grantId);
    endTerminalsOf(grantId);
  };
  const renderer = createRenderer({ reloadTemplates: config.env === 'development' });
  let host: ProviderHost | undefined;
  let clients: ClientRegistry;
  try {
    // Environment templates are validated at every server start; a bad file stops it with every
    // problem named. The CLI leaves them to `templates reload`: a quarter of a second per command.
    await services.environmentTemplates.reload();
    host = await startProvider(config, services, log, { renderer, onGrantRevoked: markRevoked, clock });
    const provider = host;
    clients = createClientRegistry(
      services.clientRepository,
      (metadata) => provider.current().Client.validate(metadata),
      { allowHttpAppLinks: config.env === 'development' },
    );
    await ensurePagesClient(clients, config.issuer);
    if (config.demoClient) await ensureDemoClient(clients, config.issuer);
    await (config.cliClient ? ensureCliClient(clients) : clients.remove(CLI_CLIENT_ID));
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
  const provider = host;

  const outbox = config.smtp ? undefined : createDevOutbox(services.kv, log);
  const mailer: Mailer = config.smtp
    ? createSmtpMailer({ ...config.smtp, from: config.mailFrom }, log)
    : required(outbox, 'the development outbox').mailer;
  // Without Twilio, texts go to the development outbox; where that does not exist (production always
  // has SMTP) no SMS is offered, so nothing is ever readable over HTTP once real delivery is set up.
  const sms: SmsSender | undefined = config.twilio ? createTwilioSms(config.twilio, log) : outbox?.sms;

  const codeLifetime = describeDuration(config.otp.ttl);
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
    deliver: async (recipient, code, purpose) => {
      const messages = CODE_MESSAGES[purpose];
      if (recipient.channel === 'email') return mailer.send(messages.email(recipient.address, code, codeLifetime));
      // The pages offer SMS only when there is a sender; a flow that asks anyway gets the delivery-failure page.
      if (!sms) throw new SmsDeliveryError('no SMS sender is configured');
      return sms.send(messages.sms(recipient.address, code, codeLifetime, config.issuer));
    },
  });

  const handOff = createBackupCodeHandOff(services.kv, config.keysSecret);
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
    isRevoked: revocations.isRevoked,
    sessionExists: provider.sessionExists,
    log,
    ...(overrides.terminalLimits ? { limits: overrides.terminalLimits } : {}),
  });
  endTerminalsOf = terminals.gateway.grantRevoked;
  return {
    ...services,
    passkeys: createPasskeyService({
      repository: createPasskeyRepository(services.db),
      kv: services.kv,
      relyingParty: relyingPartyOf(config.issuer),
    }),
    config,
    provider,
    clients,
    revocations,
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
      provider: provider.current,
      backupCodes: services.backupCodes,
      rememberedBrowsers: services.rememberedBrowsers,
      handOff,
      audit: services.audit,
    }),
    notifyPrevious: createIdentifierChangeNotice({ mailer, sms, issuer: config.issuer, log }),
    invitations: createInvitationService({
      db: services.db,
      issuer: config.issuer,
      send: (mail) => mailer.send(invitationEmail(mail)),
    }),
    organizationClients: createOrganizationClientService({ organizations: services.organizations, clients }),
    connectedApps: createConnectedAppService({
      grants: createGrantRepository(services.db),
      clients: services.clientRepository,
      revokeGrant: createGrantRevoker({ provider: provider.current, onGrantRevoked: markRevoked }),
      organizations: services.organizations,
      hiddenClientIds: [PAGES_CLIENT_ID],
    }),
    billing: config.stripe
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
      : undefined,
    environments,
    terminals,
    federation: createFederationService({
      providers: config.federation.providers,
      issuer: config.issuer,
      timeoutSeconds: config.federation.timeoutSeconds,
      kv: services.kv,
      db: services.db,
      accounts: services.accounts,
      clock,
    }),
    async close() {
      await terminals.close();
      await environments.close();
      provider.stop();
      await services.close();
    },
  };
}

export type ServerServices = Awaited<ReturnType<typeof createServerServices>>;
