import ssh2 from 'ssh2';

/**
 * The fallback when phone_home never arrives: signs in with the environment's key, insisting on the
 * host key FairyID generated (anything else is a different machine, or someone in between), and
 * checks that tmux answers. Resolves false on any failure; `timeoutMs` bounds the whole attempt.
 */
export function probeMachine(input: {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  hostPublicKey: string;
  timeoutMs: number;
}): Promise<boolean> {
  const expected = ssh2.utils.parseKey(input.hostPublicKey);
  if (expected instanceof Error) return Promise.resolve(false);
  const expectedBlob = (Array.isArray(expected) ? expected[0]! : expected).getPublicSSH();
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), input.timeoutMs);
    client.on('error', () => finish(false));
    client.on('close', () => finish(false));
    client.on('ready', () => {
      client.exec('true', (error, stream) => {
        if (error) return finish(false);
        stream.on('close', (code: number) => finish(code === 0));
        stream.resume();
        stream.stderr.resume();
      });
    });
    client.connect({
      host: input.host,
      port: input.port,
      username: input.username,
      privateKey: input.privateKey,
      readyTimeout: input.timeoutMs,
      hostVerifier: (key: Buffer) => Buffer.compare(key, expectedBlob) === 0,
    });
  });
}
