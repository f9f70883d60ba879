import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

export async function runPlatformOwnerCommand({ accounts, print }: CliContext, [action, email]: string[]) {
  if ((action !== 'add' && action !== 'remove') || !email)
    throw new UsageError('Usage: platform-owner add|remove <email>');
  const owner = action === 'add';
  if (!(await accounts.setPlatformOwner(email.trim().toLowerCase(), owner))) {
    throw new UsageError(`No account has the email ${email}: the person must sign in once first.`);
  }
  print(owner ? `${email} is now a platform owner.` : `${email} is no longer a platform owner.`);
}
