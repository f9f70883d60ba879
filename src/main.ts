import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, loadDotEnv } from './config.ts';
import { createLogger } from './http/logger.ts';
import { demoInstructions } from './oidc/demo-client.ts';
import { StartupError } from './shared/startup-error.ts';

loadDotEnv();
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const log = createLogger(config.logLevel);
const app = await createApp(config, log).catch((error: unknown) => {
  if (!(error instanceof StartupError)) throw error;
  console.error(error.message);
  process.exit(1);
});
const server = createServer(app.koa.callback());
server.on('upgrade', (req, socket, head) => void app.upgrade(req, socket, head));
// Longer than the usual load balancer idle timeout (60 s), so the balancer, not we, closes idle
// connections and never sends a request down one we are closing.
server.keepAliveTimeout = 65_000;
server.listen(config.port, config.host, () => {
  const storage = 'url' in config.database ? 'Postgres' : `embedded Postgres in ${config.database.dataDir}`;
  const redis = 'url' in config.redis ? 'Redis' : 'in-process memory (single instance)';
  log.info({ issuer: config.issuer, port: config.port }, 'FairyID listening');
  console.log(`\nFairyID is running at ${config.issuer} (storage: ${storage}; sessions: ${redis})`);
  if (config.demoClient) console.log(`\n${demoInstructions(config.issuer)}\n`);
});

// /metrics on a port of its own, for a scraper on a private network; same interface as the app.
const metricsServer = app.metricsHandler && createServer(app.metricsHandler);
metricsServer?.listen(config.metrics.port, config.host, () => {
  log.info({ port: config.metrics.port }, 'metrics listening');
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  // Upgraded sockets are no longer the HTTP server's to close: terminals end first, with 1001.
  await app.terminals.close();
  metricsServer?.close();
  metricsServer?.closeAllConnections();
  server.close();
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
  await new Promise((resolve) => server.once('close', resolve));
  clearTimeout(force);
  await app.close();
  log.info('stopped');
  // The last lines reach the pipe before the process ends.
  log.flush(() => process.exit(0));
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
