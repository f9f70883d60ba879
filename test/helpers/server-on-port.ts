import { startServer, type TestServer } from './server.ts';

/**
 * A restarted server must come back on the port it had, because the issuer (which names the port)
 * is bound into every token it issued.
 */
export function startServerOnPort(env: Record<string, string>, port: number): Promise<TestServer> {
  return startServer(env, { port });
}
