import { ApiError } from '../shared/api-error.ts';

/** Who is calling the API, established by the bearer guard from a token we issued. */
export type Caller = { sub: string; clientId: string; scopes: ReadonlySet<string>; accountId: string | undefined };

/** The person behind the token; machine (client-credentials) tokens are refused. */
export function requirePerson(state: unknown): string {
  const accountId = (state as { caller?: Caller }).caller?.accountId;
  if (!accountId) throw new ApiError(403, 'person_required', 'This route needs a token issued to a person, not to a client.');
  return accountId;
}
