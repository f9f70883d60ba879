import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

/** `ledger verify`: the ledger's invariants, checked against the database; exit 1 if any fails. */
export async function runLedgerCommand({ ledger }: CliContext, [action]: string[]) {
  if (action !== 'verify') throw new UsageError('Usage: ledger verify');
  const { unbalancedTransactions, walletsOutOfBalance } = await ledger.verify();
  for (const row of unbalancedTransactions)
    console.log(`transaction ${row.transaction_id}: entries sum to ${row.sum}, not 0`);
  for (const row of walletsOutOfBalance)
    console.log(`wallet ${row.id}: cached balance ${row.balance}, entries sum to ${row.entries}`);
  if (unbalancedTransactions.length || walletsOutOfBalance.length) {
    process.exitCode = 1;
    return;
  }
  console.log('The ledger is consistent: every transaction sums to zero and every cached balance equals its entries.');
}
