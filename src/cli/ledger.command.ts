import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

/** `ledger verify`: the ledger's invariants, checked against the database; exit code 1 if any fails. */
export async function runLedgerCommand({ ledger, print }: CliContext, [action]: string[]) {
  if (action !== 'verify') throw new UsageError('Usage: ledger verify');
  const { unbalancedTransactions, walletsOutOfBalance } = await ledger.verify();
  for (const row of unbalancedTransactions)
    print(`transaction ${row.transaction_id}: entries sum to ${row.sum}, not 0`);
  for (const row of walletsOutOfBalance)
    print(`wallet ${row.id}: cached balance ${row.balance}, entries sum to ${row.entries}`);
  if (unbalancedTransactions.length || walletsOutOfBalance.length) {
    return 1;
  }
  print('The ledger is consistent: every transaction sums to zero and every cached balance equals its entries.');
}
