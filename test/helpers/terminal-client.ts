import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { inputFrame, parseOutputFrame } from '../../src/environments/terminal/protocol.ts';
import { until } from './machines.ts';

export type Control = Record<string, any>;

/**
 * A protocol client as another app would write it: presents the ticket, sends `resume`, numbers its
 * input and keeps the offset after the last byte it received.
 */
export async function openTerminal(
  url: string,
  options: {
    origin?: string;
    /** Sent as X-Request-Id on the upgrade: the terminal's audit rows carry it. */
    requestId?: string;
    session?: string;
    offset?: number;
    inputStream?: string;
    cols?: number;
    rows?: number;
    /** Stop reading from the socket (a client that reads nothing). */
    paused?: boolean;
  } = {},
) {
  const ws = new WebSocket(url, {
    headers: {
      ...(options.origin ? { origin: options.origin } : {}),
      ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
    },
  });
  const chunks: Buffer[] = [];
  const controls: Control[] = [];
  let offset = options.offset ?? 0;
  let seq = 0;
  let closed: { code: number; reason: string } | undefined;
  const inputStream = options.inputStream ?? randomUUID();
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) {
      const message = JSON.parse(data.toString()) as Control;
      controls.push(message);
      if (message.type === 'hello' || message.type === 'redraw') offset = message.from;
      // A client resuming its input stream continues after the last frame the server applied.
      if (message.type === 'hello' && message.input > seq) seq = message.input;
      return;
    }
    const frame = parseOutputFrame(data);
    if (frame.offset !== offset) throw new Error(`gap: frame at ${frame.offset}, expected ${offset}`);
    offset += frame.data.length;
    chunks.push(frame.data);
  });
  const closedPromise = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      closed = { code, reason: reason.toString() };
      resolve(closed);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () =>
        reject(Object.assign(new Error(`refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })),
      );
    });
  });
  if (options.paused) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  ws.send(
    JSON.stringify({
      type: 'resume',
      ...(options.session ? { session: options.session } : {}),
      ...(options.offset !== undefined ? { offset: options.offset } : {}),
      input_stream: inputStream,
      cols: options.cols ?? 100,
      rows: options.rows ?? 30,
    }),
  );
  const client = {
    ws,
    controls,
    inputStream,
    get offset() {
      return offset;
    },
    get closed() {
      return closed;
    },
    closedPromise,
    bytes: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString('utf8'),
    hello: () => until(() => controls.find((message) => message.type === 'hello'), 'hello'),
    /** Sends input with the next sequence number (or `at`, to resend one). */
    type(text: string, at?: number) {
      const number = at ?? ++seq;
      ws.send(inputFrame(number, text));
      return number;
    },
    control: (message: Control) => ws.send(JSON.stringify(message)),
    waitFor: (pattern: RegExp | string, what = String(pattern)) =>
      until(
        () =>
          (typeof pattern === 'string' ? client.text().includes(pattern) : pattern.test(client.text())) || undefined,
        what,
      ),
  };
  return client;
}
