import type { Command } from 'commander';
import { Api } from '../api.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { emit, line, table, when } from '../output.ts';
import type { Run } from '../run.ts';
import type { Session } from '../session.ts';
import { organizationId } from './organization-ref.ts';

type Entry = { id: string; kind: string; amount: number; description: string | null; created_at: string };

export function dustCommands(program: Command, run: Run) {
  const dust = program.command('dust').description("your DUST (or an organization's): balance and history");
  dust
    .command('balance', { isDefault: true })
    .description('the balance (the default)')
    .option('--org <org>', "an organization's wallet instead of yours (slug or id)")
    .action(run(balance));
  dust
    .command('history')
    .description('what came in and went out, newest first')
    .option('--org <org>', "an organization's wallet instead of yours (slug or id)")
    .option('--limit <n>', 'how many entries (1-100)', '20')
    .action(run(history));
}

async function walletQuery(api: Api, org: string | undefined) {
  return org ? { organization_id: await organizationId(api, org) } : {};
}

async function balance(session: Session, options: { org?: string }) {
  const api = new Api(session);
  const wallet = await api.get<{ balance: number; currency: string }>(
    '/api/dust/balance',
    await walletQuery(api, options.org),
  );
  emit(session.json, wallet, () => line(`${wallet.balance} ${wallet.currency}`));
}

async function history(session: Session, options: { org?: string; limit: string }) {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new CliError('--limit is a number from 1 to 100.', EXIT.usage);
  const api = new Api(session);
  const page = await api.get<{ data: Entry[] }>('/api/dust/transactions', {
    ...(await walletQuery(api, options.org)),
    limit,
  });
  emit(session.json, page.data, () => {
    if (page.data.length === 0) line('No DUST has moved yet.');
    table(
      ['WHEN', 'KIND', 'AMOUNT', 'DESCRIPTION'],
      page.data.map((entry) => [
        when(entry.created_at),
        entry.kind,
        entry.amount > 0 ? `+${entry.amount}` : entry.amount,
        entry.description,
      ]),
    );
  });
}
