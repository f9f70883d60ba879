import type { Config } from '../config.ts';
import { createLogger } from '../http/logger.ts';
import { createClientRegistry } from '../oidc/client-registry.ts';
import { createAdapterFactory } from '../oidc/adapter.ts';
import { createFindAccount } from '../oidc/find-account.ts';
import { startProviderHost } from '../oidc/provider.ts';
import { createServices } from '../services.ts';
import { createProviderPages } from '../interaction/provider-pages.ts';
import { createRenderer } from '../http/render.ts';

/** Opening storage applies pending migrations, which is all `migrate` needs; the rest use the services. */
export async function openCliContext(config: Config) {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const services = await createServices(config, log);
  // Clients are validated by the same provider configuration the server runs, so the CLI accepts
  // exactly what the server will.
  const host = await startProviderHost({
    config,
    log,
    // The CLI revokes no grants: it only validates clients against the provider configuration.
    onGrantRevoked: async () => {},
    keys: services.keys,
    adapter: createAdapterFactory({ db: services.db, kv: services.kv, clients: services.clientRepository }),
    findAccount: createFindAccount(services.accounts),
    pages: createProviderPages(createRenderer({ production: config.production })),
  });
  host.stop();
  return {
    keys: services.keys,
    accounts: services.accounts,
    clients: createClientRegistry(services.clientRepository, (metadata) => host.current().Client.validate(metadata)),
    close: () => services.close(),
  };
}

export type CliContext = Awaited<ReturnType<typeof openCliContext>>;
