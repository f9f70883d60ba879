import { ApiError } from '../shared/api-error.ts';

/** Who is calling the API, established by the bearer guard from a token we issued. */
export type Caller = {
  sub: string;
  clientId: string;
  scopes: ReadonlySet<string>;
  accountId: string | undefined;
  /** The organization an org-scoped token acts for. */
  organization: { id: string; role: string } | undefined;
  expiresAt: number;
  /** The grant the token belongs to, so what outlives a request (an open terminal) can end with it. */
  grantId?: string | undefined;
};

export function organizationOf(claims: Record<string, unknown> | undefined): Caller['organization'] {
  return typeof claims?.org_id === 'string' && typeof claims.org_role === 'string'
    ? { id: claims.org_id, role: claims.org_role }
    : undefined;
}

/** The caller the bearer guard established; every /api route runs behind it. */
export function callerOf(state: { caller?: Caller | undefined }): Caller {
  if (!state.caller) throw new Error('no caller: this route is not behind the bearer guard');
  return state.caller;
}

/** The person behind the token; machine (client-credentials) tokens are refused. */
export function requirePerson(state: { caller?: Caller | undefined }): string {
  const accountId = callerOf(state).accountId;
  if (!accountId)
    throw new ApiError(403, 'person_required', 'This route needs a token issued to a person, not to a client.');
  return accountId;
}
