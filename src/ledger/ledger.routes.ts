import type { Context } from 'koa';
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { pageOf, pageQuery, pageRequest, timestamp } from '../http/api-schemas.ts';
import { requirePerson, type Caller } from '../oidc/caller.ts';
import { ApiError } from '../shared/api-error.ts';
import { toPage } from '../shared/cursor.ts';
import { ledgerErrors } from './ledger.errors.ts';
import type { LedgerRepository } from './ledger.repository.ts';
import type { LedgerService } from './ledger.service.ts';
import { TRANSACTION_KINDS, type LedgerTransaction } from './ledger.table.ts';

export type LedgerRouteDeps = {
  ledger: LedgerService;
  /** Throws unless the person may do `permission` in the organization (organizations domain). */
  authorize(
    accountId: string,
    organizationId: string,
    permission: 'billing:read' | 'billing:manage' | 'organization:read',
  ): Promise<unknown>;
  /** First-party apps and apps of approved organizations may charge a person who is not present. */
  isApprovedApp(clientId: string): Promise<boolean>;
};

const amount = z.number().int().min(1).max(1_000_000);
const transactionSchema = z.object({
  id: z.string(),
  kind: z.enum(TRANSACTION_KINDS),
  amount: z.number().int(),
  account_id: z.string().nullable(),
  client_id: z.string().nullable(),
  organization_id: z.string().nullable(),
  reverses_id: z.string().nullable(),
  description: z.string().nullable(),
  created_at: timestamp,
});
const entrySchema = z.object({
  id: z.string(),
  transaction_id: z.string(),
  kind: z.enum(TRANSACTION_KINDS),
  amount: z.number().int().describe('Signed: positive came in, negative went out'),
  description: z.string().nullable(),
  client_id: z.string().nullable(),
  organization_id: z.string().nullable(),
  reverses_id: z.string().nullable(),
  created_at: timestamp,
});
const walletQuery = z.object({
  organization_id: z.uuid().optional().describe("An organization's wallet instead of yours"),
});

const present = (transaction: LedgerTransaction) => ({
  id: transaction.id,
  kind: transaction.kind,
  amount: transaction.amount,
  account_id: transaction.account_id,
  client_id: transaction.client_id,
  organization_id: transaction.organization_id,
  reverses_id: transaction.reverses_id,
  description: transaction.description,
  created_at: transaction.created_at.toISOString(),
});

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** DUST: balances, history, app charges and refunds, transfers with organizations, allowances. */
export function ledgerRoutes(deps: LedgerRouteDeps): ApiRoute[] {
  const { ledger } = deps;

  /** Every request that moves DUST carries an Idempotency-Key; a replay answers what the first did. */
  async function once(ctx: Context, request: unknown, work: (repo: LedgerRepository) => Promise<LedgerTransaction>) {
    const key = ctx.get('Idempotency-Key');
    if (!IDEMPOTENCY_KEY.test(key)) throw ledgerErrors.idempotencyKeyRequired();
    const caller = ctx.state.caller as Caller;
    const result = await ledger.idempotent(
      `${caller.clientId}:${caller.sub}`,
      key,
      { path: ctx.path, request },
      async (repo) => ({
        status: 201,
        body: present(await work(repo)),
      }),
    );
    if (result.replayed) ctx.set('Idempotent-Replayed', 'true');
    return result.body;
  }

  async function wallet(ctx: Context, organizationId: string | undefined) {
    const accountId = requirePerson(ctx.state);
    if (!organizationId) return { kind: 'person' as const, owner: accountId };
    await deps.authorize(accountId, organizationId, 'billing:read');
    return { kind: 'organization' as const, owner: organizationId };
  }

  return [
    defineRoute({
      method: 'get',
      path: '/api/dust/balance',
      summary: 'Your DUST balance, or an organization’s (owner, admin, billing)',
      tag: 'DUST',
      scopes: ['dust:read'],
      query: walletQuery,
      response: z.object({ balance: z.number().int(), currency: z.literal('DUST') }),
      async handler(ctx, { query }) {
        const { kind, owner } = await wallet(ctx, query.organization_id);
        return { balance: await ledger.balance(kind, owner), currency: 'DUST' as const };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/dust/transactions',
      summary: 'Your DUST history (or an organization’s), newest first',
      tag: 'DUST',
      scopes: ['dust:read'],
      query: pageQuery.extend(walletQuery.shape).extend({ kind: z.enum(TRANSACTION_KINDS).optional() }),
      response: pageOf(entrySchema),
      async handler(ctx, { query }) {
        const { kind, owner } = await wallet(ctx, query.organization_id);
        const page = pageRequest(query);
        const rows = await ledger.history(kind, owner, { kind: query.kind }, page);
        return toPage(rows, page.limit, (row) => ({ ...row, created_at: row.created_at.toISOString() }));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/dust/charges',
      summary:
        'Charge DUST: with a person’s token (dust:spend) from them; with a client-credentials token of an approved app, from account_id within the allowance they set',
      tag: 'DUST',
      scopes: ['dust:spend'],
      body: z.object({
        amount,
        description: z.string().trim().min(1).max(200),
        account_id: z.string().max(64).optional(),
      }),
      response: transactionSchema,
      status: 201,
      async handler(ctx, { body }) {
        const caller = ctx.state.caller as Caller;
        const personPresent = caller.accountId !== undefined;
        if (personPresent && body.account_id && body.account_id !== caller.accountId) {
          throw new ApiError(403, 'forbidden', 'A person’s token can only charge that person.');
        }
        if (!personPresent && !body.account_id)
          throw new ApiError(400, 'invalid_request', 'Invalid body "account_id": required with a client token.');
        if (!personPresent && !(await deps.isApprovedApp(caller.clientId))) throw ledgerErrors.appNotApproved();
        const accountId = caller.accountId ?? body.account_id!;
        return once(ctx, body, (repo) =>
          ledger.charge(
            {
              accountId,
              clientId: caller.clientId,
              amount: body.amount,
              description: body.description,
              allowance: !personPresent,
            },
            repo,
          ),
        );
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/dust/charges/:id/refunds',
      summary: 'Refund all or part of a charge (only the app that charged)',
      tag: 'DUST',
      scopes: ['dust:spend'],
      params: z.object({ id: z.uuid() }),
      body: z.object({ amount: amount.optional().describe('Defaults to what is left of the charge') }),
      response: transactionSchema,
      status: 201,
      async handler(ctx, { params, body }) {
        const caller = ctx.state.caller as Caller;
        return once(ctx, body, (repo) =>
          ledger.refund({ clientId: caller.clientId, chargeId: params.id, amount: body.amount }, repo),
        );
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/dust/transfers',
      summary: 'Move DUST between you and an organization: any member may give, owners and billing may take',
      tag: 'DUST',
      scopes: ['dust:manage'],
      body: z.object({ organization_id: z.uuid(), direction: z.enum(['to_organization', 'to_person']), amount }),
      response: transactionSchema,
      status: 201,
      async handler(ctx, { body }) {
        const accountId = requirePerson(ctx.state);
        await deps.authorize(
          accountId,
          body.organization_id,
          body.direction === 'to_person' ? 'billing:manage' : 'organization:read',
        );
        return once(ctx, body, (repo) =>
          ledger.transfer(
            { accountId, organizationId: body.organization_id, direction: body.direction, amount: body.amount },
            repo,
          ),
        );
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/dust/allowances/:clientId',
      summary: 'Set how much DUST an app may charge you while you are not present (0 stops it)',
      tag: 'DUST',
      scopes: ['dust:manage'],
      params: z.object({ clientId: z.string().min(1).max(128) }),
      body: z.object({ amount: z.number().int().min(0).max(1_000_000) }),
      response: z.object({ client_id: z.string(), remaining: z.number().int() }),
      async handler(ctx, { params, body }) {
        await ledger.setAllowance(requirePerson(ctx.state), params.clientId, body.amount);
        return { client_id: params.clientId, remaining: body.amount };
      },
    }),
  ];
}
