import { createBuilderFlag } from '../builders/builder.service.ts';
import type { Config } from '../config.ts';
import { systemClock } from '../shared/clock.ts';
import { createLogger } from '../http/logger.ts';
import { createRenderer } from '../http/render.ts';
import { createClientRegistry } from '../oidc/client-registry.ts';
import { createClientRevoker } from '../oidc/client-revoker.ts';
import { createGrantRepository } from '../oidc/grant.repository.ts';
import { createGrantRevocations } from '../oidc/revoked-grants.ts';
import { accountStatusOver, createServices, startProvider } from '../services.ts';

/**
 * Opening storage applies pending migrations, which is all `migrate` needs; the rest use the services.
 * `print` is where the commands' output goes: standard output in the `npm run cli` process.
 */
export async function openCliContext(config: Config, print: (text: string) => void) {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const services = await createServices(config, log);

  /**
   * The environment service over the shared storage, for a suspension to stop the person's
   * environments: the running server's reconciler takes the stops from there at its next poll.
   * Loaded only here: the other commands do not need it.
   */
  async function environmentsOf() {
    const [{ createEnvironmentService }, { createMachineKeySeal }, { MACHINE_USER }] = await Promise.all([
      import('../environments/environment.service.ts'),
      import('../environments/machine-keys.ts'),
      import('../environments/template.ts'),
    ]);
    return createEnvironmentService({
      db: services.db,
      clock: systemClock,
      settings: config.environments,
      issuer: config.issuer,
      secret: config.keysSecret,
      keySeal: createMachineKeySeal(config.keysSecrets),
      templates: services.environmentTemplates,
      ledger: services.ledger,
      organizations: services.organizations,
      limitsFor: services.plans.limitsFor,
      audit: services.audit,
      events: services.events,
      wake: () => {},
      // Nothing is created from the CLI; stopping needs no driver.
      available: false,
      sshUser: MACHINE_USER,
    });
  }
  return {
    print,
    keys: services.keys,
    accounts: services.accounts,
    ledger: services.ledger,
    audit: services.audit,
    /** Events written in the transaction of the change they describe (a client the operator registers). */
    events: services.events,
    /** The builder flag, with the same audit record as the API's change (builders.command.ts). */
    setBuilder: createBuilderFlag({ accounts: services.accounts, audit: services.audit }),
    environmentTemplates: services.environmentTemplates,
    /**
     * Clients are validated by the same provider configuration the server runs, so the CLI accepts
     * exactly what the server will. Only the clients commands build that provider.
     */
    async clients() {
      const revocations = createGrantRevocations(services.kv, config.ttl.accessToken);
      const host = await startProvider(config, services, log, {
        renderer: createRenderer({ reloadTemplates: false }),
        onGrantRevoked: revocations.markRevoked,
      });
      host.stop();
      return createClientRegistry(services.clientRepository, (metadata) => host.current().Client.validate(metadata), {
        allowHttpAppLinks: config.env === 'development',
        // A removed client's grants and tokens go with it, as when a builder deletes one through the API.
        revokeClient: createClientRevoker({
          grants: createGrantRepository(services.db),
          revokeGrant: host.revokeGrant,
        }),
      });
    },
    /**
     * Suspension and reactivation, over a provider started for the command: it ends sessions and
     * revokes grants in the shared stores, as the server's API route does.
     */
    async accountStatus() {
      const revocations = createGrantRevocations(services.kv, config.ttl.accessToken);
      const host = await startProvider(config, services, log, {
        renderer: createRenderer({ reloadTemplates: false }),
        onGrantRevoked: revocations.markRevoked,
      });
      host.stop();
      return {
        status: accountStatusOver(config, services, host, await environmentsOf()),
        /** Without Redis, sessions and the revoked-grant list live in the server's memory, out of the CLI's reach. */
        sharedStore: 'url' in config.redis,
        accessTokenTtl: config.ttl.accessToken,
      };
    },
    close: () => services.close(),
  };
}

export type CliContext = Awaited<ReturnType<typeof openCliContext>>;
