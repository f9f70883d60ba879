import { createServer, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';

type Pair = { client: Socket; upstream: Socket; websocket: boolean };

/**
 * A TCP relay in front of a server, standing for the network between a phone and FairyID: the
 * test can cut every WebSocket connection through it at once, as a train going into a tunnel
 * does, while plain HTTP keeps working. Start it first, point the server's issuer at `url`, then
 * `forwardTo` the server's port.
 */
export async function startTcpProxy(t: ExecutionContext) {
  let targetPort = 0;
  const pairs = new Set<Pair>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream, websocket: false };
    pairs.add(pair);
    client.once('data', (chunk: Buffer) => {
      pair.websocket = /^upgrade:\s*websocket\s*$/im.test(chunk.toString('latin1'));
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const pair of [...pairs]) pair.client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwardTo(port: number) {
      targetPort = port;
    },
    /** Drops every WebSocket connection without a closing handshake; returns how many. */
    cutWebSockets() {
      const cut = [...pairs].filter((pair) => pair.websocket);
      for (const pair of cut) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      return cut.length;
    },
  };
}
