import type { Context } from 'koa';
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { pageOf, pageQuery, pageRequest, timestamp } from '../http/api-schemas.ts';
import { callerOf, requirePerson } from '../oidc/caller.ts';
import { toPage } from '../shared/cursor.ts';
import { ledgerErrors } from './ledger.errors.ts';
import type { Booked, LedgerActor, LedgerService, Once } from './ledger.service.ts';
import { TRANSACTION_KINDS, type LedgerTransaction } from './ledger.table.ts';

export type LedgerRouteDeps = { ledger: LedgerService };

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

/**
 * DUST: balances, history, app charges and refunds, transfers with organizations, allowances. Who
 * may move whose DUST is the ledger service's decision; this file only speaks HTTP.
 */
export function ledgerRoutes({ ledger }: LedgerRouteDeps): ApiRoute[] {
  const actor = (ctx: Context): LedgerActor => {
    const caller = callerOf(ctx.state);
    return { clientId: caller.clientId, accountId: caller.accountId };
  };

  /** Every request that moves DUST carries an Idempotency-Key; a replay answers what the first did. */
  function once(ctx: Context, request: unknown): Once {
    const key = ctx.get('Idempotency-Key');
    if (!IDEMPOTENCY_KEY.test(key)) throw ledgerErrors.idempotencyKeyRequired();
    return { key, request: { path: ctx.path, request } };
  }

  function answer(ctx: Context, booked: Booked) {
    if (booked.replayed) ctx.set('Idempotent-Replayed', 'true');
    return present(booked.transaction);
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
        const { kind, owner } = await ledger.walletOf(requirePerson(ctx.state), query.organization_id);
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
        const { kind, owner } = await ledger.walletOf(requirePerson(ctx.state), query.organization_id);
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
        const { account_id: accountId, ...charge } = body;
        return answer(ctx, await ledger.charge(actor(ctx), { ...charge, accountId }, once(ctx, body)));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/dust/charges/:id/refunds',
      summary: 'Refund all or part of a charge (only the app that charged, with a client-credentials token)',
      tag: 'DUST',
      scopes: ['dust:spend'],
      params: z.object({ id: z.uuid() }),
      body: z.object({ amount: amount.optional().describe('Defaults to what is left of the charge') }),
      response: transactionSchema,
      status: 201,
      async handler(ctx, { params, body }) {
        return answer(
          ctx,
          await ledger.refund(actor(ctx), { chargeId: params.id, amount: body.amount }, once(ctx, body)),
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
        const transfer = { organizationId: body.organization_id, direction: body.direction, amount: body.amount };
        return answer(ctx, await ledger.transfer(actor(ctx), transfer, once(ctx, body)));
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
