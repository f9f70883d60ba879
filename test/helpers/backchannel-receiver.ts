import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';

export type BackchannelDelivery = { contentType: string | undefined; logoutToken: string | null };

/**
 * A relying party's back-channel logout endpoint on loopback: it keeps every POST it receives
 * and answers `status` (200 unless a test makes it fail). Closed when the test ends.
 */
export async function startBackchannelReceiver(t: ExecutionContext, options: { status?: number } = {}) {
  const deliveries: BackchannelDelivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'POST') {
        deliveries.push({
          contentType: req.headers['content-type'],
          logoutToken: new URLSearchParams(body).get('logout_token'),
        });
      }
      res.writeHead(options.status ?? 200, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { uri: `http://127.0.0.1:${port}/backchannel-logout`, deliveries };
}
