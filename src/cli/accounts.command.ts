import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

const USAGE =
  'Usage: accounts suspend <email|account id> --reason "<why>"\n       accounts reactivate <email|account id>';
const OPERATOR = { accountId: undefined };

/** `accounts suspend|reactivate`: the operator's way to do what the platform owner does through the API. */
export async function runAccountsCommand(context: CliContext, args: string[]) {
  const [action, who, ...rest] = args;
  if ((action !== 'suspend' && action !== 'reactivate') || !who) throw new UsageError(USAGE);
  const reasonAt = rest.indexOf('--reason');
  const reason = reasonAt >= 0 ? rest[reasonAt + 1]?.trim() : undefined;
  if (action === 'suspend' && !reason) throw new UsageError(`A suspension needs a reason.\n${USAGE}`);
  // Nothing but an optional `--reason <why>` after the account.
  if (rest.length !== (reasonAt === 0 ? 2 : 0)) throw new UsageError(USAGE);

  const account = who.includes('@')
    ? await context.accounts.findBySignInAddress('email', who.trim().toLowerCase())
    : await context.accounts.findById(who);
  if (!account) throw new UsageError(`No account has the ${who.includes('@') ? 'email' : 'id'} ${who}.`);

  const { status, sharedStore, accessTokenTtl } = await context.accountStatus();
  try {
    const changed =
      action === 'suspend'
        ? await status.suspend(OPERATOR, account.id, reason ?? '')
        : await status.reactivate(OPERATOR, account.id);
    context.print(`${changed.fairyname} (${changed.id}) is now ${changed.status}.`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'invalid_status_transition') throw new UsageError((error as Error).message);
    throw error;
  }
  if (action === 'suspend' && !sharedStore) {
    context.print(
      `Without REDIS_URL the running server keeps sessions and its revoked-token list in its own memory: its sessions end at their next use, and API tokens already issued work until they expire (at most ${accessTokenTtl} s). Suspend through the API for an immediate effect.`,
    );
  }
}
