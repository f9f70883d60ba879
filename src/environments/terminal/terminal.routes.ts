import type { Context } from 'koa';
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../../http/api-route.ts';
import { timestamp } from '../../http/api-schemas.ts';
import { requirePerson, type Caller } from '../../oidc/caller.ts';
import type { Terminals } from './terminals.ts';

export const tmuxSessionName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, - and _ (at most 32)')
  .default('main');

const ticketSchema = z.object({
  ticket: z.string().describe('Single use; present it as ?ticket= on the WebSocket URL within expires_in seconds'),
  url: z.string().describe('The WebSocket URL, ticket included'),
  expires_at: timestamp,
  expires_in: z.number().int(),
  tmux_session: z.string(),
});

/** POST /api/environments/{id}/terminal-sessions (scope environments:connect). */
export function terminalRoutes(terminals: Terminals): ApiRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/environments/:id/terminal-sessions',
      summary:
        'A single-use ticket (about 30 s) and the WebSocket URL of a terminal to a running environment; see "The terminal" in the README',
      tag: 'Environments',
      scopes: ['environments:connect'],
      params: z.object({ id: z.uuid() }),
      body: z.object({ tmux_session: tmuxSessionName.optional() }),
      response: ticketSchema,
      status: 201,
      async handler(ctx: Context, { params, body }) {
        const caller = ctx.state.caller as Caller;
        return terminals.issueTicket({
          environmentId: params.id,
          accountId: requirePerson(ctx.state),
          clientId: caller.clientId,
          grantId: caller.grantId,
          tmux: body.tmux_session ?? 'main',
        });
      },
    }),
  ];
}
