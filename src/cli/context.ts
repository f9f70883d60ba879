import type { Config } from '../config.ts';
import { createLogger } from '../http/logger.ts';
import { createRenderer } from '../http/render.ts';
import { createClientRegistry } from '../oidc/client-registry.ts';
import { createServices, startProvider } from '../services.ts';

/** Opening storage applies pending migrations, which is all `migrate` needs; the rest use the services. */
export async function openCliContext(config: Config) {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const services = await createServices(config, log);
  return {
    keys: services.keys,
    accounts: services.accounts,
    ledger: services.ledger,
    environmentTemplates: services.environmentTemplates,
    /**
     * Clients are validated by the same provider configuration the server runs, so the CLI accepts
     * exactly what the server will. Only the clients commands build that provider.
     */
    async clients() {
      const host = await startProvider(config, services, log, {
        renderer: createRenderer({ reloadTemplates: false }),
      });
      host.stop();
      return createClientRegistry(services.clientRepository, (metadata) => host.current().Client.validate(metadata), {
        allowHttpAppLinks: config.env === 'development',
      });
    },
    close: () => services.close(),
  };
}

export type CliContext = Awaited<ReturnType<typeof openCliContext>>;
