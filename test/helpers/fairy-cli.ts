import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { readForm } from './html-form.ts';
import { PageClient } from './page-client.ts';
import type { TestServer } from './server.ts';
import { signInThroughPages } from './sign-in.ts';
import { signInByEmailCode } from './browser-sign-in.ts';

/**
 * The CLI's own entry file, run by this Node (24, which strips the types itself): the tests run the
 * real `fairy` process, from source, so they need no build step.
 */
export const FAIRY = fileURLToPath(new URL('../../fairy-cli/src/main.ts', import.meta.url));

export type FairyResult = { code: number | null; stdout: string; stderr: string };

/** A fresh config home (XDG_CONFIG_HOME) for one test's credentials, removed when it ends. */
export async function configHome(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fairy-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The environment a fairy process gets: its own config home and issuer, no display (so no browser is
 * ever opened) and none of the runner's FAIRY_* variables. V8's compile cache (./compile-cache.ts) halves
 * each process's start: about 0.15 s of CPU instead of 0.3, on a file that starts thirty of them.
 */
export function fairyEnv(home: string, server: TestServer): NodeJS.ProcessEnv {
  const { PATH, NODE_COMPILE_CACHE } = process.env;
  return { PATH, NODE_COMPILE_CACHE, HOME: home, XDG_CONFIG_HOME: home, FAIRY_ISSUER: server.url };
}

/** Starts `fairy args...`; `done` resolves with its exit code and output. */
export function startFairy(args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const child = spawn(process.execPath, [FAIRY, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (input !== undefined) child.stdin.end(input);
  const done = new Promise<FairyResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

export function fairy(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<FairyResult> {
  return startFairy(args, env, input).done;
}

/** Waits until the process has printed something matching `pattern` on stderr. */
async function waitForStderr(process: ReturnType<typeof startFairy>, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const match = pattern.exec(process.output().stderr);
    if (match) return match;
    const ended = await Promise.race([
      process.done.then((result) => result),
      new Promise<undefined>((resolve) => process.child.stderr.once('data', () => resolve(undefined))),
    ]);
    if (ended) throw new Error(`fairy exited (${ended.code}) before printing ${pattern}: ${ended.stderr}`);
  }
}

/** Starts `fairy auth login --no-browser` and reads the code and address it tells the person. */
export async function startLogin(env: NodeJS.ProcessEnv, extraArgs: string[] = []) {
  const login = startFairy(['auth', 'login', '--no-browser', ...extraArgs], env);
  const [, userCode] = await waitForStderr(login, /one-time code: (\S+)/);
  const [, verificationUri] = await waitForStderr(login, /Then open (\S+) in a browser/);
  return { login, userCode: userCode!, verificationUri: verificationUri! };
}

/** Approves a device code as a person does in Chromium: types it, confirms, signs in, allows. */
export async function approveInChromium(
  server: TestServer,
  page: Page,
  verificationUri: string,
  userCode: string,
  email: string,
) {
  await page.goto(verificationUri);
  await page.getByLabel('Device code').fill(userCode);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Yes, it is my device' }).click();
  await page.waitForURL(/\/interaction\//);
  await signInByEmailCode(server, page, email);
  const allow = page.getByRole('button', { name: 'Allow' });
  const connected = page.getByRole('heading', { name: 'Device connected' });
  await allow.or(connected).waitFor();
  if (await allow.isVisible()) await allow.click();
  await connected.waitFor();
}

/** The same approval over plain HTTP with the pages' forms, for tests about what happens after login. */
export async function approveWithPages(server: TestServer, verificationUri: string, userCode: string, email: string) {
  const browser = new PageClient(server.url);
  const input = readForm(await (await browser.request(verificationUri)).text());
  const confirmPage = await browser.request(input.action, { form: { ...input.fields, user_code: userCode } });
  const confirm = readForm(await confirmPage.text(), 'op.deviceConfirmForm');
  const { url } = await browser.follow(confirm.action, { form: confirm.fields });
  const { html } = await signInThroughPages(server.url, url.href, email, { client: browser });
  if (!html.includes('Device connected')) throw new Error('the device was not connected');
}

/** Logs `email` in with the real CLI (approved over HTTP) into `home`; returns the login's output. */
export async function loginWithCli(server: TestServer, env: NodeJS.ProcessEnv, email: string) {
  const { login, userCode, verificationUri } = await startLogin(env);
  await approveWithPages(server, verificationUri, userCode, email);
  const result = await login.done;
  if (result.code !== 0) throw new Error(`fairy auth login exited ${result.code}: ${result.stderr}`);
  return result;
}
