import { ConfigError, loadConfig, loadDotEnv } from './config.ts';
import type { CliContext } from './cli/context.ts';
import { UsageError } from './cli/usage-error.ts';
import { ClientRegistrationError } from './oidc/client-registry.ts';

type Command = (context: CliContext, args: string[]) => Promise<void>;

// Each command's module, and the storage and services behind it, are loaded only when it runs: a
// usage error or `help` opens nothing, and `clients add` does not load what the server alone needs.
const COMMANDS: Record<string, () => Promise<Command>> = {
  migrate: async () => async () => console.log('Database schema is up to date.'),
  keys: async () => (await import('./cli/keys.command.ts')).runKeysCommand,
  clients: async () => (await import('./cli/clients.command.ts')).runClientsCommand,
  ledger: async () => (await import('./cli/ledger.command.ts')).runLedgerCommand,
  builders: async () => (await import('./cli/builders.command.ts')).runBuildersCommand,
  accounts: async () => (await import('./cli/accounts.command.ts')).runAccountsCommand,
  'platform-owner': async () => (await import('./cli/platform-owner.command.ts')).runPlatformOwnerCommand,
  templates: async () => (await import('./cli/templates.command.ts')).runTemplatesCommand,
};

const USAGE = `Usage: npm run cli -- <command>

  migrate                         apply pending database migrations
  keys list                       list signing keys
  keys rotate                     add a new signing key per algorithm (old keys stay published)
  keys retire [kid]               stop publishing superseded keys (or one key)
  clients add [options]           register a client (see: clients add --help)
  clients list [--json]           list clients
  clients show <client_id> [--json]
  clients remove <client_id>
  ledger verify                   check that every DUST transaction balances and every balance matches
  builders add <email>            let the account with this email register OAuth clients of its own
  builders remove <email>
  accounts suspend <email|id> --reason "<why>"
                                  end the account's sessions and grants, refuse its sign-in and tokens
  accounts reactivate <email|id>  let a suspended account sign in again (revoked grants stay revoked)
  platform-owner add <email>      make the account with this email a platform owner
  platform-owner remove <email>
  templates reload                validate TEMPLATES_DIR and offer its environment templates on every instance
  templates list                  list the environment templates on offer`;

loadDotEnv();
const [command, ...rest] = process.argv.slice(2);
try {
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
  } else {
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
    const config = loadConfig();
    const [run, { openCliContext }] = await Promise.all([load(), import('./cli/context.ts')]);
    const context = await openCliContext(config);
    try {
      await run(context, rest);
    } finally {
      await context.close();
    }
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof ClientRegistrationError) {
    console.error((error as Error).message);
    process.exit(2);
  }
  // An operator needs the reason (an unreachable database, keys sealed under another KEYS_SECRET),
  // not a stack trace; LOG_LEVEL=debug shows the trace.
  console.error(`fairyid: ${(error as Error).message}`);
  if (process.env.LOG_LEVEL === 'debug') console.error(error);
  process.exit(1);
}
