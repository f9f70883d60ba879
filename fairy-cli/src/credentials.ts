import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CliError, EXIT } from './exit-codes.ts';

/** One person's tokens at one issuer, as stored in `credentials/<issuer>/<account>.json`. */
export type Credentials = {
  issuer: string;
  client_id: string;
  /** The person's fairyname: how `--account` names them. */
  account: string;
  sub: string;
  email: string | null;
  access_token: string;
  /** Milliseconds since the epoch, from the token response's expires_in and this machine's clock. */
  expires_at: number;
  refresh_token: string | null;
  scope: string;
};

/** config.json: the issuer used when none is named, and each issuer's default account. */
export type Settings = { issuer?: string; accounts: Record<string, string> };

const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkAccountName(name: string): string {
  if (!ACCOUNT_NAME.test(name))
    throw new CliError(`"${name}" is not an account name (a fairyname such as merry_otter_0412).`, EXIT.usage);
  return name;
}

/** A folder name for an issuer: readable, and unable to climb out of credentials/. */
function issuerFolder(issuer: string): string {
  return issuer.replace(/^([a-z]+):\/\//, '$1_').replace(/[^A-Za-z0-9.-]+/g, '_');
}

/**
 * Files are written 0600 in folders made 0700: they hold bearer credentials for the person's account.
 * Every write goes to a temporary file renamed over the old one, so a reader (another fairy process)
 * sees the old file or the new one, never half of one.
 */
export class CredentialStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  path(issuer: string, account: string): string {
    return join(this.dir, 'credentials', issuerFolder(issuer), `${checkAccountName(account)}.json`);
  }

  async read(issuer: string, account: string): Promise<Credentials | undefined> {
    const file = this.path(issuer, account);
    const text = await readIfPresent(file);
    if (text === undefined) return undefined;
    const credentials = parseCredentials(text, file);
    if (credentials.issuer !== issuer || credentials.account !== account) {
      throw damaged(file, `it holds ${credentials.account} at ${credentials.issuer}`);
    }
    return credentials;
  }

  async write(credentials: Credentials): Promise<void> {
    const file = this.path(credentials.issuer, credentials.account);
    await this.ensureFolder(join(this.dir, 'credentials', issuerFolder(credentials.issuer)));
    await writePrivate(file, `${JSON.stringify(credentials, null, 2)}\n`);
  }

  async remove(issuer: string, account: string): Promise<void> {
    await rm(this.path(issuer, account), { force: true });
  }

  /** Every stored login, for `auth status`; a damaged file is reported by name, not skipped. */
  async list(): Promise<Array<{ file: string; credentials?: Credentials; problem?: string }>> {
    const root = join(this.dir, 'credentials');
    const found: Array<{ file: string; credentials?: Credentials; problem?: string }> = [];
    for (const issuer of await readdirIfPresent(root)) {
      for (const name of await readdirIfPresent(join(root, issuer))) {
        if (!name.endsWith('.json')) continue;
        const file = join(root, issuer, name);
        try {
          found.push({ file, credentials: parseCredentials(await readFile(file, 'utf8'), file) });
        } catch (error) {
          found.push({ file, problem: error instanceof Error ? error.message : String(error) });
        }
      }
    }
    return found;
  }

  async settings(): Promise<Settings> {
    const file = join(this.dir, 'config.json');
    const text = await readIfPresent(file);
    if (text === undefined) return { accounts: {} };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CliError(`${file} is not valid JSON. Fix it or delete it (fairy auth login writes a new one).`);
    }
    const settings = value as Partial<Settings> | null;
    const accounts = settings?.accounts;
    if (
      typeof settings !== 'object' ||
      settings === null ||
      (settings.issuer !== undefined && typeof settings.issuer !== 'string') ||
      typeof accounts !== 'object' ||
      accounts === null ||
      Object.values(accounts).some((account) => typeof account !== 'string')
    ) {
      throw new CliError(
        `${file} is not a fairy settings file. Fix it or delete it (fairy auth login writes a new one).`,
      );
    }
    return { ...(settings.issuer ? { issuer: settings.issuer } : {}), accounts: { ...accounts } };
  }

  async saveSettings(settings: Settings): Promise<void> {
    await this.ensureFolder(this.dir);
    await writePrivate(join(this.dir, 'config.json'), `${JSON.stringify(settings, null, 2)}\n`);
  }

  private async ensureFolder(folder: string) {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    for (let current = folder; current.startsWith(this.dir); current = join(current, '..')) {
      await chmod(current, 0o700);
      if (current === this.dir) break;
    }
  }
}

async function writePrivate(file: string, text: string) {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
    // The mode given to open() is narrowed by the umask but never widened; chmod makes it exact.
    await chmod(temporary, 0o600);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}`, EXIT.auth);
  }
}

async function readdirIfPresent(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function damaged(file: string, why: string): CliError {
  return new CliError(
    `The credentials file ${file} is damaged (${why}). Run \`fairy auth login\` to replace it, or delete the file.`,
    EXIT.auth,
  );
}

function parseCredentials(text: string, file: string): Credentials {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw damaged(file, 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null) throw damaged(file, 'not a JSON object');
  const record = value as Record<string, unknown>;
  const strings = ['issuer', 'client_id', 'account', 'sub', 'access_token', 'scope'] as const;
  for (const key of strings) {
    if (typeof record[key] !== 'string' || record[key] === '') throw damaged(file, `"${key}" is missing`);
  }
  if (typeof record.expires_at !== 'number' || !Number.isFinite(record.expires_at)) {
    throw damaged(file, '"expires_at" is missing');
  }
  if (record.refresh_token !== null && typeof record.refresh_token !== 'string') {
    throw damaged(file, '"refresh_token" is neither a string nor null');
  }
  if (record.email !== null && typeof record.email !== 'string') throw damaged(file, '"email" is not a string');
  return {
    issuer: record.issuer as string,
    client_id: record.client_id as string,
    account: record.account as string,
    sub: record.sub as string,
    email: record.email as string | null,
    access_token: record.access_token as string,
    expires_at: record.expires_at,
    refresh_token: record.refresh_token as string | null,
    scope: record.scope as string,
  };
}
