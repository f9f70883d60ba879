import { spawn } from 'node:child_process';
import { runCli as runCliCommand } from '../../src/cli/run.ts';

const ROOT = new URL('../../', import.meta.url);

export type CliResult = { code: number | null; stdout: string; stderr: string };

/**
 * What a CLI process gets to read: only `env` configures it, empty meaning unset (see config.ts), so
 * the test worker's own DATABASE_URL, REDIS_URL, DATA_DIR and KEYS_SECRET do not leak in.
 */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, DATABASE_URL: '', REDIS_URL: '', DATA_DIR: '', KEYS_SECRET: '', NODE_ENV: 'test', ...env };
}

/**
 * The operator CLI's command, run in the test's own process: the same argument parsing, configuration
 * from `env` alone, storage opened and closed, exit code and output as `npm run cli` gives them, without
 * a Node start and a load of every module per command (about 1.5 s of CPU each). Its storage must not be
 * open elsewhere in the process: the embedded database's lock cannot tell this process from itself.
 * `runCliProcess` is the real process, for what only a process shows.
 */
export async function runCli(env: Record<string, string>, args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCliCommand(args, cliEnv(env), {
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
  });
  return { code, stdout, stderr };
}

/**
 * The real operator CLI in a child process, as an operator runs it next to a running server
 * (`npm run cli -- ...` is `node src/cli.ts ...`, Node's own type stripping).
 */
export function runCliProcess(env: Record<string, string>, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli.ts', ...args], {
      cwd: ROOT,
      env: cliEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
