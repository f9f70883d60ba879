import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';

/**
 * A server that accepts connections and never says a word: an upstream that hangs. Only the
 * caller's own timeout ends a request to it. `accepted()` counts the connections it took.
 */
export async function startHungServer(t: ExecutionContext, host = '127.0.0.23') {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, accepted: () => accepted };
}
