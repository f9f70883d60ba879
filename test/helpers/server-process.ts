import { type ChildProcess, spawn } from 'node:child_process';

/**
 * FairyID as its own process (`src/main.ts`) on the address `url` names, for tests that kill it with
 * SIGKILL. Resolves once /health answers; two minutes without an answer means it hung.
 */
export async function startServerProcess(
  env: Record<string, string>,
  url: string,
): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: {
      ...process.env,
      ...env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      PORT: new URL(url).port,
      HOST: '127.0.0.1',
      ISSUER: url,
    },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // Only a server that never starts fails here; under load a start with initdb takes minutes.
  const deadline = Date.now() + 300_000;
  for (;;) {
    const healthy = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { child, exited };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the server did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
