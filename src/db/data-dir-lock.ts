import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Embedded Postgres (PGlite) is one process's database: a second process opening the same folder
 * would corrupt it. The lock names the holder so the message can say what to stop.
 */
export async function acquireDataDirLock(dataDir: string): Promise<() => void> {
  if (dataDir === 'memory://') return () => {};
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, 'fairyid.lock');
  const holder = Number(readIfExists(lockFile));
  if (holder && holder !== process.pid && isAlive(holder)) {
    throw new Error(
      `${dataDir} is in use by process ${holder}. The embedded database serves one process at a time: ` +
        'stop the server first, or set DATABASE_URL to use Postgres.',
    );
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

function readIfExists(path: string) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
