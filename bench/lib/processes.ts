import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';

export type CpuPlan = { cores: number } & (
  | { pinned: false; reason: string }
  | {
      pinned: true;
      serverCore: number;
      loadCore: number;
      /**
       * --instances: the cores the FairyID instances take turns on: every core but the load
       * generator's. On 2 cores that is the server core alone, so all instances share it.
       */
      instanceCores: number[];
    }
);

/**
 * With taskset and at least two cores: the servers on the last core (they are measured one at a
 * time, so they never compete for it), this process (load generator, token preparation) on core 0.
 * Postgres and Redis are system services and stay unpinned.
 */
export function planCpus(): CpuPlan {
  // Counted before this process pins itself (availableParallelism follows the affinity mask).
  const cores = availableParallelism();
  if (spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status !== 0) {
    return { cores, pinned: false, reason: 'taskset not found' };
  }
  if (cores < 2) return { cores, pinned: false, reason: `${cores} core available` };
  const instanceCores = Array.from({ length: cores - 1 }, (_, i) => cores - 1 - i);
  const plan = { cores, pinned: true as const, serverCore: cores - 1, loadCore: 0, instanceCores };
  // -a: every thread of this process (libuv pool, V8 helpers), not only the main one.
  const self = spawnSync('taskset', ['-a', '-p', '-c', String(plan.loadCore), String(process.pid)], {
    stdio: 'ignore',
  });
  if (self.status !== 0) return { cores, pinned: false, reason: 'taskset failed on the bench process' };
  return plan;
}

export type Runtime = { kind: 'dist' | 'source'; note: string };

/**
 * FairyID runs compiled (`node dist/src/main.js`, as the Dockerfile does) when dist/ is at least as new
 * as every source file; otherwise its sources, by Node's type stripping, as `npm start` runs them.
 * Stale dist/ would measure code that is no longer in src/, so `auto` never uses it.
 */
export function chooseRuntime(requested: 'auto' | 'dist' | 'source', root: string): Runtime {
  if (requested === 'source') return { kind: 'source', note: 'source (requested)' };
  const stale = staleDistFiles(root);
  if (requested === 'dist') {
    if (!existsSync(join(root, 'dist/src/main.js')))
      throw new Error('--runtime dist: dist/src/main.js is missing (npm run build)');
    return {
      kind: 'dist',
      note: stale.length ? `dist (requested; STALE: ${stale.slice(0, 3).join(', ')})` : 'dist (requested)',
    };
  }
  if (stale.length === 0) return { kind: 'dist', note: 'dist (up to date with src/)' };
  return {
    kind: 'source',
    note: `source (dist/ missing or older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', ...' : ''}; npm run build to measure compiled code)`,
  };
}

/** FairyID's `main` or `cli` entry point for this runtime, relative to its root. */
export function entryFile(runtime: Runtime, entry: 'main' | 'cli'): string {
  return runtime.kind === 'dist' ? `dist/src/${entry}.js` : `src/${entry}.ts`;
}

function staleDistFiles(root: string): string[] {
  const stale: string[] = [];
  for (const folder of ['src', 'migrations']) {
    for (const file of walk(join(root, folder))) {
      if (!file.endsWith('.ts')) continue;
      const compiled = join(root, 'dist', relative(root, file)).replace(/\.ts$/, '.js');
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(file).mtimeMs)
        stale.push(relative(root, file));
    }
  }
  for (const file of walk(join(root, 'views'))) {
    const copied = join(root, 'dist', relative(root, file));
    if (!existsSync(copied) || statSync(copied).mtimeMs < statSync(file).mtimeMs) stale.push(relative(root, file));
  }
  return stale;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Runs a short command to completion (the CLI); rejects with its output when it fails. */
export function runToCompletion(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${args.join(' ')} exited with ${code}:\n${stderr || stdout}`));
    });
  });
}

export type ServerProcess = {
  name: string;
  url: string;
  pid: number;
  memory(): { rssKiB: number; peakKiB: number } | undefined;
  /** The last 20 kB the server wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
};

/**
 * Starts a server as `[taskset -c CORE] node ...` (taskset execs node, so the pid is the server's)
 * and waits until `readyPath` answers 200.
 */
export async function startServerProcess(options: {
  name: string;
  url: string;
  readyPath: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  core: number | undefined;
}): Promise<ServerProcess> {
  const [command, args] =
    options.core === undefined
      ? [process.execPath, options.args]
      : ['taskset', ['-c', String(options.core), process.execPath, ...options.args]];
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  await waitUntilReady(`${options.url}${options.readyPath}`, child, exited, () => output);
  return {
    name: options.name,
    url: options.url,
    pid: child.pid!,
    memory: () => readMemory(child.pid!),
    output: () => output,
    stop: () => stopProcess(child, exited),
  };
}

async function waitUntilReady(url: string, child: ChildProcess, exited: Promise<number | null>, output: () => string) {
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (done) throw new Error(`server exited before it was ready (${url}):\n${output()}`);
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`server not ready after 60 s (${url}):\n${output()}`);
}

async function stopProcess(child: ChildProcess, exited: Promise<number | null>) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

let clockTicks: number | undefined;

/** CPU time (user + system) a process has used so far, in seconds; undefined without /proc. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (peak resident set) from /proc, in KiB; undefined where /proc is not available. */
export function readMemory(pid: number): { rssKiB: number; peakKiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
  } catch {
    return undefined;
  }
}
