import { ConfigError, loadConfig, loadDotEnv } from './config.ts';
import { runClientsCommand } from './cli/clients.command.ts';
import { runKeysCommand } from './cli/keys.command.ts';
import { runLedgerCommand } from './cli/ledger.command.ts';
import { runPlatformOwnerCommand } from './cli/platform-owner.command.ts';
import { runTemplatesCommand } from './cli/templates.command.ts';
import { openCliContext } from './cli/context.ts';
import { UsageError } from './cli/usage-error.ts';
import { ClientRegistrationError } from './oidc/client-registry.ts';

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
    const context = await openCliContext(loadConfig());
    try {
      if (command === 'migrate') console.log('Database schema is up to date.');
      else if (command === 'keys') await runKeysCommand(context, rest);
      else if (command === 'clients') await runClientsCommand(context, rest);
      else if (command === 'ledger') await runLedgerCommand(context, rest);
      else if (command === 'platform-owner') await runPlatformOwnerCommand(context, rest);
      else if (command === 'templates') await runTemplatesCommand(context, rest);
      else throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
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
