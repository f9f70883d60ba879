#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { authCommands } from './commands/auth.ts';
import { dustCommands } from './commands/dust.ts';
import { envCommands } from './commands/env.ts';
import { orgsCommands } from './commands/orgs.ts';
import { whoamiCommand } from './commands/whoami.ts';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.ts';
import { run } from './run.ts';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const program = new Command('fairy')
  .version(version)
  .description('FairyID from a terminal: log in, organizations, DUST and environments')
  .option('--issuer <url>', 'the FairyID to talk to (default: FAIRY_ISSUER, else the last one logged in to)')
  .option('--account <fairyname>', "which login to use at that issuer (default: the issuer's default account)")
  .option('--json', 'print JSON for scripts instead of tables')
  .addHelpText(
    'after',
    `\nEnvironment: FAIRY_ISSUER, FAIRY_TOKEN (an access token to use instead of the stored logins, for CI),\n` +
      `XDG_CONFIG_HOME (credentials live in $XDG_CONFIG_HOME/fairy, files 0600).\n\n${EXIT_CODES_HELP}`,
  )
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(add --help for usage)')
  // Usage errors exit 2 like other Unix tools, not commander's 1, which fairy keeps for failures.
  .exitOverride((error: CommanderError) => {
    throw error;
  });

authCommands(program, run);
whoamiCommand(program, run);
orgsCommands(program, run);
dustCommands(program, run);
envCommands(program, run);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (error instanceof CliError) {
    process.stderr.write(`fairy: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`fairy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.error;
  }
}
