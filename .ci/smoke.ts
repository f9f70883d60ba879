// The quick start, checked: `npm start` on the embedded defaults serves discovery and signs a person
// in with the demo client it creates, then shuts down cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { signInThroughPages } from '../test/helpers/sign-in.ts';

const port = 3917;
const issuer = `http://localhost:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'fairyid-smoke-'));
const server = spawn('npm', ['start'], {
  env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', NODE_ENV: '' },
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: true,
});
let output = '';
server.stdout.on('data', (chunk) => (output += chunk));
// npm exits before the server it started has finished shutting down, so its exit says nothing about
// the server's last log lines. The pipe closes only when every process holding it (npm, the shell and
// the server itself) has exited, and by then all the output has been read.
const outputClosed = new Promise((resolve) => server.stdout.on('close', resolve));

try {
  await waitForHealth();
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
  if (discovery.issuer !== issuer) throw new Error(`discovery issuer is ${discovery.issuer}`);
  if (!output.includes('Try it:')) throw new Error('npm start did not print how to try it');

  const config = await oidc.discovery(new URL(issuer), 'demo', undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${issuer}/dev/callback`,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const { url } = await signInThroughPages(issuer, authorizationUrl.href, 'smoke@example.com');
  const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier });
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
  if (userinfo.email !== 'smoke@example.com') throw new Error('userinfo did not return the signed-in email');
  console.log(`smoke: signed in as ${String(userinfo.preferred_username)} through npm start on the embedded defaults`);
} finally {
  // The whole group, as a container runtime or terminal would: npm itself does not forward SIGTERM.
  process.kill(-server.pid!, 'SIGTERM');
}
await hungAfter(60_000, outputClosed, 'the server kept running after SIGTERM');
rmSync(dataDir, { recursive: true, force: true });
if (
  await fetch(`${issuer}/health`).then(
    () => true,
    () => false,
  )
)
  throw new Error('something still listens on the port');
for (const line of ['"msg":"shutting down"', '"msg":"stopped"']) {
  if (!output.includes(line))
    throw new Error(`the server did not shut down gracefully on SIGTERM: no ${line} in\n${output}`);
}
console.log('smoke: clean shutdown');

async function hungAfter<T>(ms: number, promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForHealth() {
  // A hung start, not a slow one: a busy machine compiles and migrates slowly.
  for (let attempt = 0; attempt < 360; attempt += 1) {
    const ok = await fetch(`${issuer}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`server did not become healthy:\n${output}`);
}
