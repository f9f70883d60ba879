import lockfile from 'proper-lockfile';
import { configDir } from './config-dir.ts';
import { checkAccountName, CredentialStore, type Credentials } from './credentials.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { normalizeIssuer } from './issuer.ts';
import { discover, refresh } from './oauth.ts';

/** An access token this close to its end is refreshed first, so a command never starts with one about to lapse. */
const REFRESH_MARGIN_MS = 60_000;

/** The options every command takes, as commander hands them over. */
export type GlobalOptions = { issuer?: string; account?: string; json?: boolean };

/** Which issuer and account a command works with, and where their credentials live. */
export class Session {
  readonly store: CredentialStore;
  readonly options: GlobalOptions;
  constructor(options: GlobalOptions) {
    this.options = options;
    this.store = new CredentialStore(configDir());
  }

  get json(): boolean {
    return this.options.json === true;
  }

  /** --issuer, else FAIRY_ISSUER, else the issuer of the last login. */
  async issuer(): Promise<string> {
    const named = this.options.issuer ?? process.env.FAIRY_ISSUER;
    if (named) return normalizeIssuer(named);
    const { issuer } = await this.store.settings();
    if (issuer) return issuer;
    throw new CliError('No FairyID issuer: pass --issuer https://id.example.com or set FAIRY_ISSUER.', EXIT.usage);
  }

  /** --account, else the issuer's default account (the last one to log in there). */
  async account(issuer: string): Promise<string> {
    if (this.options.account) return checkAccountName(this.options.account);
    const account = (await this.store.settings()).accounts[issuer];
    if (account) return account;
    throw new CliError(`Not logged in to ${issuer}. Run \`fairy auth login --issuer ${issuer}\`.`, EXIT.auth);
  }

  async credentials(): Promise<Credentials> {
    const issuer = await this.issuer();
    const account = await this.account(issuer);
    const credentials = await this.store.read(issuer, account);
    if (!credentials) {
      throw new CliError(
        `Not logged in to ${issuer} as ${account}. Run \`fairy auth login --issuer ${issuer}\`.`,
        EXIT.auth,
      );
    }
    return credentials;
  }

  /**
   * A valid access token: FAIRY_TOKEN when set (CI), else the stored one, refreshed first when it is
   * about to expire. The refresh happens under a lock on the credentials file, and the file is read
   * again once the lock is held: if another fairy process refreshed meanwhile, its token is used and
   * the refresh token (already rotated by that process) is not presented a second time, which would
   * make FairyID revoke the whole login (OAuth 2.0 Security BCP 4.14.2).
   */
  async accessToken(): Promise<string> {
    if (process.env.FAIRY_TOKEN) return process.env.FAIRY_TOKEN;
    const stored = await this.credentials();
    if (isFresh(stored)) return stored.access_token;
    const file = this.store.path(stored.issuer, stored.account);
    const release = await lock(file);
    try {
      const current = await this.store.read(stored.issuer, stored.account);
      if (!current) throw new CliError(`Logged out of ${stored.issuer} as ${stored.account} meanwhile.`, EXIT.auth);
      if (isFresh(current)) return current.access_token;
      const next = await refresh(await discover(current.issuer, current.client_id), current, Date.now());
      await this.store.write(next);
      return next.access_token;
    } finally {
      await release();
    }
  }
}

function isFresh(credentials: Credentials): boolean {
  return credentials.expires_at - Date.now() > REFRESH_MARGIN_MS;
}

export async function lock(file: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(file, {
      // A refresh is one discovery and one token request; other fairy processes wait their turn.
      retries: { retries: 80, factor: 1.2, minTimeout: 25, maxTimeout: 400 },
      // A lock left by a killed process is taken over after this long (its holder refreshes the mtime).
      stale: 15_000,
      // The tokens are written even if the lock was lost meanwhile: they are the newest the server issued.
      onCompromised: () => {},
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new CliError(`Another fairy process is still refreshing ${file}; try again.`);
    }
    throw new CliError(`Cannot lock ${file}: ${(error as Error).message}`);
  }
}
