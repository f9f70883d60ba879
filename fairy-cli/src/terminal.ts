import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { type Api, NetworkError } from './api.ts';
import { CliError, EXIT, type ExitCode } from './exit-codes.ts';

/**
 * A client of FairyID's terminal bridge (README, "The terminal"): output frames carry an 8-byte
 * offset, input frames a 4-byte sequence number of our input stream, and JSON control messages
 * say hello, redraw and pong. After a dropped connection it asks for a new ticket and resumes with
 * the session and the offset of the next byte it has not printed, so the bridge's ring sends exactly
 * the missing output; input the bridge had not applied (hello's `input`) is sent again and runs once.
 */

/** A client frame is at most 64 KiB including its 4-byte header; bigger input is split. */
const MAX_INPUT_BYTES = 64 * 1024 - 4;
/** The bridge wants a ping every 10 s or less; silence this long means the connection is dead. */
const PING_MS = 10_000;
const DEAD_AFTER_MS = 30_000;
/** Input kept for resending after a drop: only what can still be in flight is ever lost. */
const RESEND_WINDOW_BYTES = 1024 * 1024;
const MAX_ATTEMPTS = 20;

/** Close codes after which reconnecting cannot help (README, Close codes), and what fairy exits with. */
const FINAL: Record<number, ExitCode> = {
  1000: EXIT.ok,
  1009: EXIT.error,
  4002: EXIT.error,
  4003: EXIT.auth,
  4004: EXIT.error,
  4008: EXIT.error,
  4010: EXIT.error,
  4011: EXIT.error,
  4012: EXIT.ok,
};

type Ticket = { url: string };
type Closed = { code: number; reason: string; exit?: ExitCode };
type Control = { type: string; session?: string; from?: number; input?: number; data?: string };

export async function openTerminal(api: Api, environmentId: string, tmux: string): Promise<ExitCode> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  const interactive = Boolean(stdin.isTTY && stdout.isTTY);
  const inputStream = randomUUID();
  let session: string | undefined;
  /** Offset of the next output byte we have not printed. */
  let offset: number | undefined;
  let seq = 0;
  let unsent: Array<{ seq: number; frame: Buffer }> = [];
  let socket: WebSocket | undefined;
  let ready = false;

  const size = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  const notice = (text: string) => process.stderr.write(interactive ? `\r\n[fairy: ${text}]\r\n` : `fairy: ${text}\n`);

  const onInput = (chunk: Buffer) => {
    for (let start = 0; start < chunk.length; start += MAX_INPUT_BYTES) {
      const piece = chunk.subarray(start, start + MAX_INPUT_BYTES);
      const frame = Buffer.allocUnsafe(4 + piece.length);
      frame.writeUInt32BE(++seq, 0);
      piece.copy(frame, 4);
      unsent.push({ seq, frame });
      if (ready) socket?.send(frame);
    }
    let kept = unsent.reduce((sum, each) => sum + each.frame.length, 0);
    while (kept > RESEND_WINDOW_BYTES && unsent.length > 1) kept -= (unsent.shift() as { frame: Buffer }).frame.length;
  };
  const onResize = () => {
    if (ready) socket?.send(JSON.stringify({ type: 'resize', ...size() }));
  };

  // Killed mid-session (SIGTERM, or SIGHUP when the local terminal closes): the local terminal must not be
  // left in raw mode, where the person's shell would no longer echo or read lines.
  const onSignal = (signal: NodeJS.Signals) => {
    try {
      stdin.setRawMode(false);
    } catch {}
    process.exit(signal === 'SIGHUP' ? 129 : 143);
  };
  if (interactive) {
    stdin.setRawMode(true);
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
  }
  stdin.on('data', onInput);
  stdout.on('resize', onResize);
  try {
    let attempts = 0;
    for (;;) {
      let closed: Closed;
      try {
        const ticket = await api.request<Ticket>('POST', `/api/environments/${environmentId}/terminal-sessions`, {
          body: { tmux_session: tmux },
        });
        closed = await connect(ticket.url);
      } catch (error) {
        if (error instanceof CliError && !(error instanceof NetworkError)) throw error;
        closed = { code: 1006, reason: error instanceof Error ? error.message : String(error) };
      }
      const final = closed.exit ?? FINAL[closed.code];
      if (final !== undefined) {
        if (closed.code !== 1000) notice(closed.reason || `closed (${closed.code})`);
        return final;
      }
      if (ready) attempts = 0;
      ready = false;
      attempts += 1;
      if (attempts > MAX_ATTEMPTS) {
        notice(`gave up reconnecting: ${closed.reason || `closed (${closed.code})`}`);
        return EXIT.error;
      }
      notice(`connection lost (${closed.reason || closed.code}); reconnecting`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** (attempts - 1), 5000)));
    }
  } finally {
    stdin.off('data', onInput);
    stdout.off('resize', onResize);
    if (interactive) {
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      stdin.setRawMode(false);
    }
    stdin.destroy();
  }

  function connect(url: string): Promise<Closed> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      socket = ws;
      let lastPong = Date.now();
      const pinger = setInterval(() => {
        if (Date.now() - lastPong > DEAD_AFTER_MS) ws.terminate();
        else if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping', t: Date.now() }));
      }, PING_MS);
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            type: 'resume',
            input_stream: inputStream,
            ...size(),
            ...(session !== undefined && offset !== undefined ? { session, offset } : {}),
          }),
        ),
      );
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) return output(data);
        let message: Control;
        try {
          message = JSON.parse(data.toString('utf8')) as Control;
        } catch {
          return;
        }
        if (message.type === 'hello') {
          session = message.session;
          offset = message.from;
          // Input numbered up to `input` was applied; the rest is sent again, in order.
          unsent = unsent.filter((each) => each.seq > (message.input ?? 0));
          for (const each of unsent) ws.send(each.frame);
          ready = true;
          onResize();
        } else if (message.type === 'redraw') {
          // The output asked for is gone (README: redraw): clear the screen and draw tmux's picture of it.
          stdout.write(`\x1b[H\x1b[2J${message.data ?? ''}`);
          offset = message.from;
        } else if (message.type === 'pong') {
          lastPong = Date.now();
        }
      });
      ws.on('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () => {
          clearInterval(pinger);
          // An expired or used ticket is worth a new one; anything else is the answer.
          if (response.statusCode === 401 && /invalid_ticket/.test(body))
            resolve({ code: 1006, reason: 'ticket refused' });
          else
            resolve({
              code: 1006,
              reason: refusal(response.statusCode ?? 0, body),
              exit: upgradeExit(response.statusCode ?? 0),
            });
        });
      });
      ws.on('error', () => {});
      ws.on('close', (code, reason) => {
        clearInterval(pinger);
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
  }

  function output(frame: Buffer) {
    const start = Number(frame.readBigUInt64BE(0));
    const data = frame.subarray(8);
    // Bytes before `offset` were printed before a reconnect; print each byte once.
    const skip = offset === undefined ? 0 : Math.max(0, offset - start);
    if (skip < data.length) stdout.write(data.subarray(skip));
    offset = Math.max(offset ?? 0, start + data.length);
  }
}

function upgradeExit(status: number): ExitCode {
  if (status === 401) return EXIT.auth;
  if (status === 403) return EXIT.forbidden;
  if (status === 404) return EXIT.notFound;
  return EXIT.error;
}

function refusal(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: string; error_description?: string };
    return `${parsed.error_description ?? 'refused'} (${parsed.error ?? status})`;
  } catch {
    return `refused (HTTP ${status})`;
  }
}
