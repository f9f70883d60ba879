import { createServer, type Server } from 'node:http';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { TestServer } from './server.ts';

/**
 * Like startServer, but on a port chosen by the caller: a restarted server must come back on the
 * port it had, because the issuer (which names the port) is bound into every token it issued.
 */
export async function startServerOnPort(env: Record<string, string>, port: number): Promise<TestServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env, ISSUER: url, PORT: String(port) });
    const app = await createApp(config);
    server.on('request', app.koa.callback());
    return {
      url,
      app,
      async stop() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await app.close();
      },
    };
  } catch (error) {
    server.close();
    throw error;
  }
}
