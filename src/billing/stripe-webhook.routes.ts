import type { IncomingMessage } from 'node:http';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { hasUncleanText } from '../http/input-rule.ts';
import type { StripeEventService } from './stripe-events.service.ts';
import { isSignatureError, type StripeEvent } from './stripe-gateway.ts';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';
// Stripe's event payloads are a few kilobytes; the cap only stops someone streaming junk at us.
const MAX_BODY_BYTES = 256 * 1024;
// Stripe refuses signatures older than its tolerance, but not ones from the future: a signature dated
// ahead would stay replayable for as long as it is early. Clocks drift a little; this much, no more.
const FUTURE_TOLERANCE_SECONDS = 60;

// What the event service reads of an event: a signed body that is not this (`null`, an event with
// no id, `data: null`) can never be handled, so it is acknowledged and dropped, not retried for days.
const eventEnvelope = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/**
 * POST /webhooks/stripe. The signature covers the exact bytes Stripe sent, so the body is read raw
 * here, before any parser could reformat it, and nothing reaches the event service unverified.
 * Answers: 200 once handled (or ignored, or already handled, or signed but not an event we can
 * read), 400 when unsigned, badly signed or signed with a timestamp from the future,
 * 409 while another delivery of the same event is being handled, 500 when handling failed: Stripe
 * retries everything but 2xx.
 */
export function stripeWebhookRoutes(deps: {
  constructEvent(raw: Buffer, signature: string): StripeEvent;
  events: StripeEventService;
  /** Milliseconds since the epoch; tests of the timestamp rule move it. */
  now?: () => number;
}): Middleware {
  const now = deps.now ?? Date.now;
  return async (ctx, next) => {
    if (ctx.path !== STRIPE_WEBHOOK_PATH) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      return reply(ctx, 405, { error: 'method_not_allowed', error_description: 'Stripe webhooks are POSTed.' });
    }
    const raw = await readRawBody(ctx.req, MAX_BODY_BYTES).catch(() => 'aborted' as const);
    if (raw === 'aborted')
      return reply(ctx, 400, { error: 'invalid_request', error_description: 'The body could not be read.' });
    if (raw === 'too_large') {
      // The rest of the body is never read, so the connection cannot carry another request.
      ctx.set('Connection', 'close');
      return reply(ctx, 413, {
        error: 'request_too_large',
        error_description: `The body is larger than ${MAX_BODY_BYTES} bytes.`,
      });
    }
    const signature = ctx.get('stripe-signature');
    if (!signature)
      return reply(ctx, 400, {
        error: 'invalid_signature',
        error_description: 'The Stripe-Signature header is missing.',
      });

    let event: StripeEvent;
    try {
      event = deps.constructEvent(raw, signature);
    } catch (error) {
      if (isSignatureError(error)) {
        return reply(ctx, 400, {
          error: 'invalid_signature',
          error_description: 'The Stripe-Signature does not match this body and our secret.',
        });
      }
      return reply(ctx, 400, { error: 'invalid_request', error_description: 'The body is not a Stripe event.' });
    }
    if (signedAt(signature) > now() / 1000 + FUTURE_TOLERANCE_SECONDS) {
      return reply(ctx, 400, {
        error: 'invalid_signature',
        error_description: 'The Stripe-Signature timestamp is in the future.',
      });
    }
    const envelope = eventEnvelope.safeParse(event);
    if (!envelope.success || hasUncleanText(event)) {
      ctx.state.log?.warn(
        { issue: envelope.success ? 'unclean text' : envelope.error.issues[0] },
        'a signed Stripe event was not understood and is ignored',
      );
      return reply(ctx, 200, { received: true, outcome: 'ignored_malformed' });
    }

    try {
      const result = await deps.events.handle(event);
      if ('busy' in result) {
        return reply(ctx, 409, {
          error: 'in_progress',
          error_description: 'Another delivery of this event is being handled; retry later.',
        });
      }
      return reply(ctx, 200, {
        received: true,
        ...('duplicate' in result ? { duplicate: true } : { outcome: result.outcome }),
      });
    } catch (error) {
      ctx.state.log?.error({ err: error, event: event.id, type: event.type }, 'Stripe event failed');
      return reply(ctx, 500, {
        error: 'server_error',
        error_description: 'The event could not be handled; Stripe will retry it.',
      });
    }
  };
}

/** The signature's timestamp (seconds), read as Stripe's own parser does: the last `t=` wins. */
function signedAt(header: string): number {
  let timestamp = Number.NaN;
  for (const item of header.split(',')) {
    const [key, value] = item.split('=');
    if (key === 't') timestamp = Number.parseInt(value ?? '', 10);
  }
  return timestamp;
}

function reply(ctx: Context, status: number, body: Record<string, unknown>) {
  ctx.status = status;
  ctx.body = body;
}

/** The body as received, or 'too_large' as soon as it (or its declared length) passes `limit`. */
function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stop();
      req.pause();
      resolve('too_large');
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
