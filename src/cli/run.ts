import { format } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { ClientRegistrationError } from '../oidc/client-registry.ts';
import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

/** Resolves with the exit code when it is not 0 (`ledger verify` finding a fault); anything else means 0. */
type Command = (context: CliContext, args: string[]) => Promise<unknown>;

// Each command's module, and the storage and services behind it, are loaded only when it runs: a
// usage error or `help` opens nothing, and `clients add` does not load what the server alone needs.
const COMMANDS: Record<string, () => Promise<Command>> = {
  migrate:
    async () =>
    async ({ print }) =>
      print('Database schema is up to date.'),
  keys: async () => (await import('./keys.command.ts')).runKeysCommand,
  clients: async () => (await import('./clients.command.ts')).runClientsCommand,
  ledger: async () => (await import('./ledger.command.ts')).runLedgerCommand,
  builders: async () => (await import('./builders.command.ts')).runBuildersCommand,
  accounts: async () => (await import('./accounts.command.ts')).runAccountsCommand,
  'platform-owner': async () => (await import('./platform-owner.command.ts')).runPlatformOwnerCommand,
  templates: async () => (await import('./templates.command.ts')).runTemplatesCommand,
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

/** Where a command writes: a line at a time, as `console.log` and `console.error` would. */
export type CliOutput = { out(text: string): void; err(text: string): void };

/**
 * The operator CLI: parses `argv` (the words after `npm run cli --`), configures itself from `env`
 * alone, runs the command and answers its exit code: 0, 2 for a usage or configuration error (and a
 * client the registry refuses), 1 for anything else. src/cli.ts is the process around it; the tests
 * call it in their own process, which saves each command a Node start and loading its modules.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, output: CliOutput): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === 'help' || command === '--help') {
      output.out(USAGE);
      return 0;
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
    const config = loadConfig(env);
    const [run, { openCliContext }] = await Promise.all([load(), import('./context.ts')]);
    const context = await openCliContext(config, output.out);
    try {
      const code = await run(context, rest);
      return typeof code === 'number' ? code : 0;
    } finally {
      await context.close();
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof ClientRegistrationError) {
      output.err((error as Error).message);
      return 2;
    }
    // An operator needs the reason (an unreachable database, keys sealed under another KEYS_SECRET),
    // not a stack trace; LOG_LEVEL=debug shows the trace.
    output.err(`fairyid: ${(error as Error).message}`);
    if (env.LOG_LEVEL === 'debug') output.err(format(error));
    return 1;
  }
}
