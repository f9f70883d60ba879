import { z } from 'zod';
import type { Account } from '../accounts/account.table.ts';
import { ACCOUNT_STATUSES } from '../accounts/account.table.ts';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { timestamp } from '../http/api-schemas.ts';
import { requirePerson as person } from '../oidc/caller.ts';
import type { AccountStatusService } from './account-status.service.ts';

const accountStatusSchema = z.object({
  id: z.string(),
  fairyname: z.string(),
  status: z.enum(ACCOUNT_STATUSES),
  status_reason: z.string().nullable().describe('Why the platform owner suspended it'),
  status_changed_at: timestamp.nullable(),
});
const idParams = z.object({ id: z.string().min(1).max(64) });

const present = (account: Account) => ({
  id: account.id,
  fairyname: account.fairyname,
  status: account.status,
  status_reason: account.status_reason,
  status_changed_at: account.status_changed_at?.toISOString() ?? null,
});

/** The platform owner suspends and reactivates accounts, as they approve organizations. */
export function accountStatusRoutes(status: AccountStatusService): ApiRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/platform/accounts/:id/suspend',
      summary: 'Suspend an account: its sessions end, its grants are revoked, it cannot sign in',
      tag: 'Platform',
      scopes: ['platform:manage'],
      params: idParams,
      body: z.object({ reason: z.string().trim().min(1).max(500) }),
      response: accountStatusSchema,
      async handler(ctx, { params, body }) {
        const actor = { accountId: person(ctx.state) };
        return present(await status.suspend(actor, params.id, body.reason));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/platform/accounts/:id/reactivate',
      summary: 'Reactivate a suspended account: it may sign in again (revoked grants stay revoked)',
      tag: 'Platform',
      scopes: ['platform:manage'],
      params: idParams,
      body: z.object({}),
      response: accountStatusSchema,
      async handler(ctx, { params }) {
        const actor = { accountId: person(ctx.state) };
        return present(await status.reactivate(actor, params.id));
      },
    }),
  ];
}
