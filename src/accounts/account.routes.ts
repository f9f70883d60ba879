import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { timestamp } from '../http/api-schemas.ts';
import { requirePerson } from '../oidc/caller.ts';
import { ApiError } from '../shared/api-error.ts';
import type { AccountService } from './account.service.ts';

export type MembershipSummary = { id: string; slug: string; name: string; status: string; role: string };

const meSchema = z.object({
  id: z.string(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  phone_number: z.string().nullable(),
  phone_number_verified: z.boolean(),
  name: z.string().nullable(),
  fairyname: z.string(),
  builder: z.boolean().describe('Registers OAuth clients of their own (/api/clients)'),
  created_at: timestamp,
  updated_at: timestamp,
  memberships: z.array(
    z.object({ id: z.string(), slug: z.string(), name: z.string(), status: z.string(), role: z.string() }),
  ),
});

/**
 * `/api/me`: the signed-in person behind the token and their memberships. Memberships come from
 * the organizations domain, handed in by the composition root (organizations depend on accounts,
 * not the other way round).
 */
export function accountRoutes(deps: {
  accounts: AccountService;
  memberships(accountId: string): Promise<MembershipSummary[]>;
}): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/me',
      summary: 'Your profile and the organizations you belong to',
      tag: 'Account',
      scopes: ['account:read'],
      response: meSchema,
      async handler(ctx) {
        const accountId = requirePerson(ctx.state);
        const account = await deps.accounts.findById(accountId);
        if (!account) throw new ApiError(404, 'account_not_found', 'The account behind this token no longer exists.');
        return {
          id: account.id,
          email: account.email,
          email_verified: account.email_verified,
          phone_number: account.phone_number,
          phone_number_verified: account.phone_number_verified,
          name: account.name,
          fairyname: account.fairyname,
          builder: account.builder,
          created_at: account.created_at.toISOString(),
          updated_at: account.updated_at.toISOString(),
          memberships: await deps.memberships(accountId),
        };
      },
    }),
  ];
}
