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
import { createTotpService } from './accounts/totp.service.ts';
import { createPasskeyRepository } from './accounts/passkey.repository.ts';
import { createPasskeyService, relyingPartyOf } from './accounts/passkey.service.ts';
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
import { createAbuseControls } from './interaction/abuse-controls.ts';
import { createRenderer } from './http/render.ts';
import { createOrganizationService } from './organizations/organization.service.ts';
import { createLedgerService } from './ledger/ledger.service.ts';
import { createAuditRepository } from './audit/audit.repository.ts';
import { createAuditService } from './audit/audit.service.ts';
import { createPlanService } from './billing/plan.service.ts';
import { createTemplateCatalog } from './environments/template-catalog.ts';

/** Storage and the services over it: shared by the server (app.ts) and the operator CLI. */
export async function createServices(config: Config, log: Logger) {
  const releaseLock = 'dataDir' in config.database ? await acquireDataDirLock(config.database.dataDir) : () => {};
  const db = await createDatabase(config.database, log);
  let kv: KeyValueStore | undefined;
  let expectedMigration = '';
  const keys = createSigningKeys(createSigningKeyRepository(db), config.keysSecret);
  const environmentTemplates = createTemplateCatalog(db, config.environments.templatesDir);
  try {
    await migrateToLatest(db);
    expectedMigration = await latestMigrationName();
    // Environment templates are validated at every start; a bad file stops it with every problem named.
    await environmentTemplates.reload();
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
  });
  const audit = createAuditService(createAuditRepository(db));
  return {
    db,
    kv,
    keys,
    clientRepository: withClientCache(createClientRepository(db)),
    accounts,
    backupCodes: createBackupCodeService(createBackupCodeRepository(db), config.keysSecret),
    totp: createTotpService(createTotpRepository(db), config.keysSecret),
    passkeys: createPasskeyService({
      repository: createPasskeyRepository(db),
      kv,
      relyingParty: relyingPartyOf(config.issuer),
    }),
    ledger: createLedgerService(db),
    audit,
    accountSessions: createAccountSessionService(createAccountSessionRepository(db), audit),
    // One set of counters for every path that sends or checks a code, the device pages included.
    abuse: createAbuseControls(kv, config.limits),
    organizations: createOrganizationService({
      db,
      approval: config.organizationApproval,
      isPlatformOwner: accounts.isPlatformOwner,
    }),
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
 * The oidc-provider host over these services. The server passes what revoking a grant must also
 * do; the CLI, which only validates clients against the configuration, passes nothing.
 */
export function startProvider(
  config: Config,
  services: Services,
  log: Logger,
  onGrantRevoked = async (_grantId: string) => {},
) {
  return startProviderHost({
    config,
    log,
    onGrantRevoked,
    sessions: services.accountSessions,
    keys: services.keys,
    adapter: createAdapterFactory({ db: services.db, kv: services.kv, clients: services.clientRepository }),
    findAccount: createFindAccount(services.accounts, services.organizations.grantClaims),
    organizationClaims: services.organizations.grantClaims,
    requiresSecondFactor: services.accounts.requiresSecondFactor,
    pages: createProviderPages(createRenderer({ reloadTemplates: config.env === 'development' }), services.abuse),
  });
}
