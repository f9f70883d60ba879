import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

const OPERATOR_ORIGIN = { ip: null, userAgent: null };

/** `builders add|remove <email>`: what the platform owner's API route does, for an operator at the console. */
export async function runBuildersCommand({ setBuilder, print }: CliContext, [action, email]: string[]) {
  if ((action !== 'add' && action !== 'remove') || !email) throw new UsageError('Usage: builders add|remove <email>');
  const builder = action === 'add';
  // Audited as the API's change is, by the operator and from no address (the console is nobody's browser).
  if (!(await setBuilder({ email: email.trim().toLowerCase() }, builder, OPERATOR_ORIGIN, 'operator'))) {
    throw new UsageError(`No account has the email ${email}: the person must sign in once first.`);
  }
  print(
    builder
      ? `${email} is now a builder: they register their own apps at /account/developer.`
      : `${email} is no longer a builder; the apps they registered stay theirs.`,
  );
}
