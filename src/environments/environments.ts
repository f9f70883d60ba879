import { userInfo } from 'node:os';
import type { Logger } from 'pino';
import type { AccountService } from '../accounts/account.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import type { PlanLimits } from '../billing/plan.service.ts';
import type { EnvironmentSettings } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { LedgerService } from '../ledger/ledger.service.ts';
import type { Mailer } from '../notifications/message.ts';
import type { OrganizationService } from '../organizations/organization.service.ts';
import { type Clock, systemClock } from '../shared/clock.ts';
import type { EnvironmentDriver } from './driver.ts';
import { environmentEmail } from './environment-email.ts';
import { createEnvironmentService } from './environment.service.ts';
import { createDigitalOceanDriver } from './digitalocean.driver.ts';
import { createLocalDriver } from './local.driver.ts';
import { createMachineKeySeal } from './machine-keys.ts';
import { createReconciler, type Reconciler } from './reconciler.ts';
import type { TemplateCatalog } from './template-catalog.ts';
import { MACHINE_USER } from './template.ts';

export type EnvironmentsDeps = {
  db: Db;
  settings: EnvironmentSettings;
  issuer: string;
  keysSecret: string;
  /** Every KEYS_SECRET secret, newest first: machine keys sealed under an older one still open. */
  keysSecrets: readonly string[];
  templates: TemplateCatalog;
  ledger: LedgerService;
  organizations: OrganizationService;
  limitsFor(organizationId: string): Promise<PlanLimits>;
  accounts: AccountService;
  audit: AuditService;
  events: EventRecorder;
  mailer: Mailer;
  log: Logger;
  /** Tests bring their own driver (the DigitalOcean stand-in's, a local one on 127.0.0.N) and clock. */
  driver?: EnvironmentDriver & { close?(): Promise<void> };
  clock?: Clock;
};

/**
 * The environments domain put together: the driver ENVIRONMENT_DRIVER chose, the service the API
 * and the pages call, and the reconciler that does the provider work in the background.
 */
export function createEnvironments(deps: EnvironmentsDeps) {
  const { settings, log } = deps;
  const clock = deps.clock ?? systemClock;
  let reconciler: Reconciler | undefined;
  // The local driver reports what it could not apply once when the machine starts and again when
  // runcmd ends; the trail gets each line once.
  const noted = new Map<string, Set<string>>();
  const driver: (EnvironmentDriver & { close?(): Promise<void> }) | undefined =
    deps.driver ??
    (settings.driver.kind === 'local'
      ? createLocalDriver({
          dataDir: settings.driver.dataDir,
          onWarnings: (environmentId, warnings) => {
            const seen = noted.get(environmentId) ?? new Set<string>();
            noted.set(environmentId, seen);
            for (const warning of warnings.filter((line) => !seen.has(line))) {
              seen.add(warning);
              void reconciler?.note(environmentId, warning).catch(() => {});
            }
          },
        })
      : settings.driver.kind === 'digitalocean'
        ? createDigitalOceanDriver({ token: settings.driver.token, baseUrl: settings.driver.apiUrl })
        : undefined);
  const keySeal = createMachineKeySeal(deps.keysSecrets);
  const service = createEnvironmentService({
    db: deps.db,
    clock,
    settings,
    issuer: deps.issuer,
    secret: deps.keysSecret,
    keySeal,
    templates: deps.templates,
    ledger: deps.ledger,
    organizations: deps.organizations,
    limitsFor: deps.limitsFor,
    audit: deps.audit,
    events: deps.events,
    wake: () => reconciler?.wake(),
    available: driver !== undefined,
    // Without root a local machine can only serve the user running FairyID (see local-machine.ts).
    sshUser: driver?.name === 'local' && process.getuid?.() !== 0 ? userInfo().username : MACHINE_USER,
  });
  reconciler = createReconciler({
    db: deps.db,
    clock,
    settings,
    driver,
    service,
    templates: deps.templates,
    keySeal,
    ledger: deps.ledger,
    audit: deps.audit,
    events: deps.events,
    pageUrl: `${deps.issuer}/account/environments`,
    log,
    async notify(environment, notice) {
      const warn = (error: unknown) =>
        log.warn({ err: error, environmentId: environment.id }, 'could not send an environment notice');
      const recipients = await service.noticeRecipients(environment).catch((error: unknown) => {
        warn(error);
        return [];
      });
      // One address that fails does not keep the notice from the others.
      for (const accountId of recipients) {
        const account = await deps.accounts.findById(accountId).catch(warn);
        if (account?.email) await deps.mailer.send(environmentEmail(account.email, notice)).catch(warn);
      }
    },
  });
  return {
    clock,
    driver,
    service,
    reconciler,
    keySeal,
    start: () => reconciler.start(),
    async close() {
      await reconciler.stop();
      await driver?.close?.();
    },
  };
}

export type Environments = ReturnType<typeof createEnvironments>;
