import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { CLOSE, type CloseReason, closeReason } from './close-codes.ts';

export type SshTarget = {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** The host key FairyID generated for the machine (OpenSSH public format); nothing else is accepted. */
  hostPublicKey: string;
};

/** A failed connection, with the close code and reason the viewers get. */
export class ShellError extends Error {
  override name = 'ShellError';
  readonly close: CloseReason;
  constructor(close: CloseReason) {
    super(close.reason);
    this.close = close;
  }
}

const fingerprint = (blob: Buffer) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

function pinnedBlob(hostPublicKey: string): Buffer {
  const parsed = ssh2.utils.parseKey(hostPublicKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error)
    throw new ShellError(closeReason(CLOSE.hostKey, 'the pinned host key is unreadable'));
  return key.getPublicSSH();
}

/**
 * Signs in to the machine, accepting only the pinned host key: there is no trust on first use,
 * since FairyID generated the machine's host key itself. A different key is refused before any
 * authentication is sent, and the error names both fingerprints.
 */
export function connectPinned(target: SshTarget, timeoutMs: number): Promise<ssh2.Client> {
  const expected = pinnedBlob(target.hostPublicKey);
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let presented: Buffer | undefined;
    let settled = false;
    const fail = (close: CloseReason) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(new ShellError(close));
    };
    client.once('ready', () => {
      settled = true;
      // Keystrokes are a few bytes each: Nagle's algorithm would hold them back for the previous ACK.
      client.setNoDelay(true);
      resolve(client);
    });
    client.on('error', (error: Error) => {
      if (presented && !presented.equals(expected)) {
        return fail(closeReason(CLOSE.hostKey, `got ${fingerprint(presented)}, expected ${fingerprint(expected)}`));
      }
      fail(closeReason(CLOSE.sshFailed, error.message));
    });
    client.on('close', () => fail(closeReason(CLOSE.sshFailed, 'connection closed during sign-in')));
    client.connect({
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      readyTimeout: timeoutMs,
      // ssh2 hands over the raw key blob when no hostHash is set.
      hostVerifier: (key: Buffer) => {
        presented = Buffer.from(key);
        return presented.equals(expected);
      },
    });
  });
}

/** Runs `command` on a PTY of the given size: the terminal's one long-lived channel. */
export function openPty(
  client: ssh2.Client,
  command: string,
  size: { cols: number; rows: number },
): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(command, { pty: { term: 'xterm-256color', cols: size.cols, rows: size.rows } }, (error, stream) => {
      if (error) reject(new ShellError(closeReason(CLOSE.sshFailed, error.message)));
      else resolve(stream);
    });
  });
}

/** Runs a short command without a PTY and returns its standard output (capped, since it is a screenful). */
export function runCommand(client: ssh2.Client, command: string, maxBytes = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        if (size + chunk.length <= maxBytes) chunks.push(chunk);
        size += chunk.length;
      });
      stream.stderr.resume();
      stream.on('close', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/** Shell-quotes one word for the remote command line. */
export const shellWord = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
