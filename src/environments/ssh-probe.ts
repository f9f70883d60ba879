import ssh2 from 'ssh2';
import { required } from '../shared/required.ts';

export type MachineLogin = {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  hostPublicKey: string;
  timeoutMs: number;
};

/**
 * Runs `command` on the machine, signed in with the environment's key and insisting on the host key
 * FairyID generated (anything else is a different machine, or someone in between). Resolves with the
 * exit code and at most `maxBytes` of stdout, or undefined on any failure; `timeoutMs` bounds the
 * whole attempt.
 */
export function runOnMachine(
  login: MachineLogin,
  command: string,
  maxBytes: number,
): Promise<{ code: number; stdout: Buffer } | undefined> {
  const expected = ssh2.utils.parseKey(login.hostPublicKey);
  if (expected instanceof Error) return Promise.resolve(undefined);
  const expectedBlob = (
    Array.isArray(expected) ? required(expected[0], 'the parsed host key') : expected
  ).getPublicSSH();
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let settled = false;
    const finish = (result: { code: number; stdout: Buffer } | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      resolve(result);
    };
    const timer = setTimeout(() => finish(undefined), login.timeoutMs);
    client.on('error', () => finish(undefined));
    client.on('close', () => finish(undefined));
    client.on('ready', () => {
      client.exec(command, (error, stream) => {
        if (error) return finish(undefined);
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          if (size >= maxBytes) return;
          chunks.push(chunk.subarray(0, maxBytes - size));
          size += Math.min(chunk.length, maxBytes - size);
        });
        stream.on('close', (code: number) => finish({ code, stdout: Buffer.concat(chunks) }));
        stream.stderr.resume();
      });
    });
    client.connect({
      host: login.host,
      port: login.port,
      username: login.username,
      privateKey: login.privateKey,
      readyTimeout: login.timeoutMs,
      hostVerifier: (key: Buffer) => Buffer.compare(key, expectedBlob) === 0,
    });
  });
}

/** The fallback when phone_home never arrives: the machine answers SSH with the pinned host key. */
export async function probeMachine(login: MachineLogin): Promise<boolean> {
  return (await runOnMachine(login, 'true', 0))?.code === 0;
}
