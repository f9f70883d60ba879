/**
 * Every way a terminal connection ends, as a WebSocket close code (RFC 6455 section 7.4: 4000-4999
 * are for applications) and a reason a client can show. The README's protocol section lists them.
 */
export const CLOSE = {
  /** The client closed it. */
  normal: { code: 1000, reason: 'closed' },
  /** This FairyID instance is shutting down; reconnect (another instance or this one after restart). */
  shutdown: { code: 1001, reason: 'server shutting down' },
  /** A frame larger than the documented maximum (ws sends this itself, with its own reason). */
  tooBig: { code: 1009, reason: 'frame too large' },
  /** A malformed control message, input before `resume`, or an unknown message type. */
  protocol: { code: 4002, reason: 'protocol error' },
  /** The person's grant or token was revoked, or they may no longer use the environment. */
  revoked: { code: 4003, reason: 'access revoked' },
  /** The environment was stopped or deleted (or is not running). */
  stopped: { code: 4004, reason: 'environment stopped' },
  /** Nobody typed and nothing was printed for the idle timeout. */
  idle: { code: 4008, reason: 'idle timeout' },
  /** The machine presented another host key than the one FairyID generated for it. */
  hostKey: { code: 4010, reason: 'host key mismatch' },
  /** SSH could not connect or sign in (the reason says which). */
  sshFailed: { code: 4011, reason: 'ssh connection failed' },
  /** The remote side ended the session (the shell or tmux exited, or the connection dropped). */
  ended: { code: 4012, reason: 'terminal ended' },
  /** The heartbeat went silent: no pong to the server's pings. */
  heartbeat: { code: 4013, reason: 'heartbeat lost' },
} as const;

export type CloseReason = { code: number; reason: string };

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export function closeReason(base: CloseReason, detail?: string): CloseReason {
  const text = detail ? `${base.reason}: ${detail}` : base.reason;
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return { code: base.code, reason };
}
