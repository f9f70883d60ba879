import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { AuditService } from '../../audit/audit.service.ts';
import { ApiError } from '../../shared/api-error.ts';
import { requestIdFrom, runInRequestScope } from '../../shared/request-scope.ts';
import { CLOSE, type CloseReason, closeReason } from './close-codes.ts';
import { clientMessage, INPUT_HEADER_BYTES, MAX_CLIENT_FRAME, outputFrame, parseInputFrame } from './protocol.ts';
import { ShellError, type SshTarget } from './ssh-shell.ts';
import type { TerminalHub } from './terminal-hub.ts';
import type { Viewer } from './terminal-session.ts';
import type { TicketClaims, TerminalTickets } from './terminal-tickets.ts';

export const SOCKET_PATH = /^\/environments\/([0-9a-f-]{36})\/terminal\/socket$/;
export const socketPath = (environmentId: string) => `/environments/${environmentId}/terminal/socket`;

/** The server pings this often; a connection that missed the previous pong is gone (phones drop sockets silently). */
const HEARTBEAT_MS = 10_000;
const RESUME_WITHIN_MS = 10_000;
const PENDING_INPUT_FRAMES = 64;

type Admitted = {
  claims: TicketClaims;
  target: SshTarget;
  ip: string | null;
  userAgent: string | null;
  /** The upgrade request's id: the terminal's audit rows carry it, as a page request's rows carry theirs. */
  requestId: string;
  /** Gives back the place under the limits the upgrade held until its session opened. */
  release(): void;
};

type Connection = { claims: TicketClaims; kick(reason: CloseReason): void };

/**
 * The WebSocket side of the terminal: admits an upgrade only with a live single-use ticket for
 * this environment from an allowed Origin, for a person who may still use the running machine,
 * all before any SSH connection is made; then speaks the protocol of protocol.ts to one viewer.
 */
export function createTerminalGateway(deps: {
  issuer: string;
  tickets: TerminalTickets;
  hub: TerminalHub;
  audit: AuditService;
  /** Origins of the client the ticket was issued to (its redirect URIs'). */
  clientOrigins(clientId: string): Promise<string[]>;
  /** Whether the ticket's access is refused: its grant revoked or its account blocked (refusal-marks.ts). */
  refused(grantId: string | undefined, accountId: string): Promise<boolean>;
  sessionExists(sessionUid: string): Promise<boolean>;
  stillUsable(accountId: string, environmentId: string): Promise<'running' | 'stopped' | 'forbidden'>;
  checkMs: number;
  log: Logger;
}) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_FRAME + INPUT_HEADER_BYTES,
    // Terminal output is small and latency-bound, and compression state per socket costs memory.
    perMessageDeflate: false,
  });
  const connections = new Set<Connection>();
  const issuerOrigin = new URL(deps.issuer).origin;

  // The 101 answer names the upgrade's id too, as every HTTP answer does (X-Request-Id).
  const upgradeIds = new WeakMap<IncomingMessage, string>();
  wss.on('headers', (headers, req) => {
    const requestId = upgradeIds.get(req);
    if (requestId) headers.push(`X-Request-Id: ${requestId}`);
  });

  async function admit(
    req: IncomingMessage,
    environmentId: string,
    ticket: string | null,
    requestId: string,
  ): Promise<Admitted> {
    if (!ticket)
      throw new ApiError(
        401,
        'ticket_required',
        'Open the terminal with ?ticket= from POST /api/environments/{id}/terminal-sessions.',
      );
    const found = await deps.tickets.peek(ticket);
    if (!found.ok) {
      const why = { unknown: 'is unknown', expired: 'has expired', reused: 'was already used' }[found.problem];
      throw new ApiError(401, 'invalid_ticket', `The terminal ticket ${why}; ask for a new one.`);
    }
    const { claims } = found;
    if (claims.environmentId !== environmentId)
      throw new ApiError(403, 'wrong_environment', 'This ticket is for another environment.');
    // Browsers always send Origin on a WebSocket; apps (the CLI, a phone app) may send none.
    const origin = req.headers.origin;
    if (
      origin !== undefined &&
      origin !== issuerOrigin &&
      !(await deps.clientOrigins(claims.clientId)).includes(origin)
    )
      throw new ApiError(403, 'origin_not_allowed', `Terminals cannot be opened from ${origin.slice(0, 100)}.`);
    if (!(await deps.tickets.consume(ticket)))
      throw new ApiError(401, 'invalid_ticket', 'The terminal ticket was already used; ask for a new one.');
    if (await deps.refused(claims.grantId, claims.accountId))
      throw new ApiError(401, 'invalid_token', 'The access was revoked.');
    if (claims.sessionUid && !(await deps.sessionExists(claims.sessionUid)))
      throw new ApiError(401, 'sign_in_required', 'You were signed out; sign in again to open the terminal.');
    const target = await deps.hub.targetFor(claims.accountId, environmentId);
    const release = await deps.hub.admit({ environmentId, accountId: claims.accountId, tmux: claims.tmux });
    return {
      claims,
      target,
      release,
      ip: req.socket.remoteAddress ?? null,
      userAgent: req.headers['user-agent'] ?? null,
      requestId,
    };
  }

  function serve(ws: WebSocket, admitted: Admitted) {
    const { claims } = admitted;
    let viewer: Viewer | undefined;
    let inputStream = '';
    let bytesIn = 0;
    let closing = false;
    let alive = true;
    const pending: Buffer[] = [];
    const startedAt = Date.now();
    const close = (reason: CloseReason) => {
      if (closing) return;
      closing = true;
      ws.close(reason.code, reason.reason);
    };
    const connection: Connection = {
      claims,
      kick: (reason) => (viewer ? viewer.kick(reason) : close(reason)),
    };
    connections.add(connection);
    const resumeTimer = setTimeout(() => close(closeReason(CLOSE.protocol, 'no resume message')), RESUME_WITHIN_MS);
    const heartbeat = setInterval(() => {
      if (!alive) return connection.kick(CLOSE.heartbeat);
      alive = false;
      ws.ping();
    }, HEARTBEAT_MS);
    ws.on('pong', () => {
      alive = true;
    });

    const input = (frame: Buffer) => {
      const parsed = parseInputFrame(frame);
      if (!parsed) return close(closeReason(CLOSE.protocol, 'input frames start with a sequence number from 1'));
      if (!viewer) {
        if (pending.length >= PENDING_INPUT_FRAMES)
          return close(closeReason(CLOSE.protocol, 'too much input before hello'));
        pending.push(frame);
        return;
      }
      if (viewer.session.input(inputStream, parsed.seq, parsed.data)) bytesIn += parsed.data.length;
    };

    const attach = async (resume: {
      session?: string | undefined;
      offset?: number | undefined;
      input_stream: string;
      cols: number;
      rows: number;
    }) => {
      clearTimeout(resumeTimer);
      inputStream = `${claims.accountId}:${resume.input_stream}`;
      try {
        const session = await deps.hub.session(admitted.target, claims, resume).finally(admitted.release);
        if (closing) return;
        viewer = session.attach(
          {
            output: (offset, data, written) => ws.send(outputFrame(offset, data), { binary: true }, () => written()),
            control: (message) => ws.send(JSON.stringify(message)),
            close,
          },
          { session: resume.session, offset: resume.offset, inputStream, cols: resume.cols, rows: resume.rows },
        );
        void deps.audit.record({
          event: 'terminal_session_started',
          outcome: 'success',
          origin: { ip: admitted.ip, userAgent: admitted.userAgent, requestId: admitted.requestId },
          accountId: claims.accountId,
          clientId: claims.clientId,
          detail: { environment_id: claims.environmentId, session_id: session.id, tmux_session: claims.tmux },
        });
        for (const frame of pending.splice(0)) input(frame);
      } catch (error) {
        if (error instanceof ShellError) return close(error.close);
        deps.log.error({ err: error }, 'terminal session failed to open');
        close(closeReason(CLOSE.sshFailed, 'unexpected error'));
      }
    };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      const frame = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (isBinary) return input(frame);
      let message: ReturnType<typeof clientMessage.parse>;
      try {
        message = clientMessage.parse(JSON.parse(frame.toString('utf8')));
      } catch {
        return close(closeReason(CLOSE.protocol, 'unreadable control message'));
      }
      if (message.type === 'ping') return ws.send(JSON.stringify({ type: 'pong', t: message.t ?? null }));
      if (message.type === 'resume') {
        if (inputStream) return close(closeReason(CLOSE.protocol, 'resume was already sent'));
        return void attach(message);
      }
      viewer?.session.resize(message.cols, message.rows);
    });

    ws.on('close', (code: number, reason: Buffer) => {
      closing = true;
      clearTimeout(resumeTimer);
      clearInterval(heartbeat);
      connections.delete(connection);
      admitted.release();
      if (!viewer) return;
      viewer.detach();
      void deps.audit.record({
        event: 'terminal_session_ended',
        outcome: 'success',
        origin: { ip: admitted.ip, userAgent: admitted.userAgent, requestId: admitted.requestId },
        accountId: claims.accountId,
        clientId: claims.clientId,
        detail: {
          environment_id: claims.environmentId,
          session_id: viewer.session.id,
          bytes_in: bytesIn,
          bytes_out: viewer.bytesOut,
          seconds: Math.round((Date.now() - startedAt) / 1000),
          close_code: code,
          close_reason: reason.toString('utf8'),
        },
      });
    });
    ws.on('error', () => {});
  }

  /**
   * Ends terminals whose grant was revoked, whose page session was signed out or whose environment
   * stopped, here or on another instance.
   */
  async function check() {
    const sessions = new Map<string, Promise<boolean>>();
    for (const connection of [...connections]) {
      const { grantId, accountId, sessionUid } = connection.claims;
      if (await deps.refused(grantId, accountId)) connection.kick(CLOSE.revoked);
      else if (sessionUid) {
        if (!sessions.has(sessionUid)) sessions.set(sessionUid, deps.sessionExists(sessionUid));
        if (!(await sessions.get(sessionUid))) connection.kick(CLOSE.revoked);
      }
    }
    const seen = new Set<string>();
    for (const { environmentId, accountId } of deps.hub.open()) {
      if (seen.has(`${environmentId}:${accountId}`)) continue;
      seen.add(`${environmentId}:${accountId}`);
      const state = await deps.stillUsable(accountId, environmentId);
      if (state === 'stopped') await deps.hub.closeEnvironment(environmentId, CLOSE.stopped);
      if (state === 'forbidden') await deps.hub.closeEnvironment(environmentId, CLOSE.revoked, accountId);
    }
    await deps.hub.closeIdle();
    await deps.hub.reportActivity();
    await deps.hub.publish();
  }
  let checking = false;
  const checker = setInterval(() => {
    if (checking) return;
    checking = true;
    check()
      .catch((error: unknown) => deps.log.warn({ err: error }, 'terminal checks failed'))
      .finally(() => {
        checking = false;
      });
  }, deps.checkMs).unref();

  return {
    /** For the Node HTTP server's `upgrade` event. */
    async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      // Koa never sees an upgrade, so the id it gives every request is given here, by the same rule.
      const requestId = requestIdFrom(req.headers['x-request-id']);
      const url = new URL(req.url ?? '/', 'http://upgrade.invalid');
      const match = SOCKET_PATH.exec(url.pathname);
      if (!match?.[1]) return refuse(socket, new ApiError(404, 'not_found', 'No WebSocket here.'), requestId);
      try {
        const environmentId = match[1];
        const admitted = await runInRequestScope(requestId, () =>
          admit(req, environmentId, url.searchParams.get('ticket'), requestId),
        );
        // A socket that went away during the upgrade never reaches serve(): its place is given back.
        socket.once('close', admitted.release);
        upgradeIds.set(req, requestId);
        wss.handleUpgrade(req, socket, head, (ws) => serve(ws, admitted));
      } catch (error) {
        if (error instanceof ApiError) return refuse(socket, error, requestId);
        deps.log.error({ err: error, requestId }, 'terminal upgrade failed');
        refuse(socket, new ApiError(500, 'server_error', 'The terminal could not be opened.'), requestId);
      }
    },

    /** Ends the open terminals of a grant now (on this instance; the periodic check covers the others). */
    grantRevoked(grantId: string) {
      for (const connection of [...connections])
        if (connection.claims.grantId === grantId) connection.kick(CLOSE.revoked);
    },

    async close() {
      clearInterval(checker);
      await deps.hub.closeAll(CLOSE.shutdown);
      for (const ws of wss.clients) ws.close(CLOSE.shutdown.code, CLOSE.shutdown.reason);
      wss.close();
    },
  };
}

/** An HTTP answer on the raw socket: the upgrade is refused in the API's error shape, before any SSH. */
function refuse(socket: Duplex, error: ApiError, requestId: string) {
  const body = JSON.stringify({ error: error.code, error_description: error.message });
  const statusText =
    { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 429: 'Too Many Requests' }[
      error.status
    ] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${error.status} ${statusText}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export type TerminalGateway = ReturnType<typeof createTerminalGateway>;
