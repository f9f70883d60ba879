import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import Stripe from 'stripe';

export const STRIPE_SECRET_KEY = 'sk_test_fairyid_stand_in';
export const STRIPE_WEBHOOK_SECRET = 'whsec_fairyid_test_secret';

export type RecordedRequest = {
  method: string;
  path: string;
  authorization: string | undefined;
  form: Record<string, string>;
};
export type StandInSession = {
  id: string;
  object: 'checkout.session';
  mode: string;
  status: string;
  payment_status: string;
  url: string;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  amount_total: number | null;
  currency: string | null;
  payment_intent: string | null;
  subscription: string | null;
};

/**
 * A local stand-in for the Stripe API, enough for Checkout: it records every request (the form
 * body stripe-node sends, flattened as `metadata[pack]` etc.) and answers POST
 * /v1/checkout/sessions with a plausible open session. `fail` makes it refuse like Stripe does.
 */
export async function startStripeStandIn(t: ExecutionContext) {
  const requests: RecordedRequest[] = [];
  const sessions = new Map<string, StandInSession>();
  const state = { fail: false };

  const server = createServer(async (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    requests.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization, form });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'request-id': `req_${randomBytes(6).toString('hex')}`,
      });
      res.end(JSON.stringify(body));
    };
    if (state.fail) return send(400, { error: { type: 'invalid_request_error', message: 'No such price' } });
    if (req.method === 'POST' && path === '/v1/checkout/sessions') {
      const session = sessionFrom(form);
      sessions.set(session.id, session);
      return send(200, session);
    }
    send(404, {
      error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${path})` },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    sessions,
    state,
    checkoutRequests: () =>
      requests.filter((request) => request.method === 'POST' && request.path === '/v1/checkout/sessions'),
  };
}

export type StripeStandIn = Awaited<ReturnType<typeof startStripeStandIn>>;

/** The environment that points the server's real stripe client at the stand-in. */
export const stripeEnv = (standIn: StripeStandIn, extra: Record<string, string> = {}) => ({
  STRIPE_SECRET_KEY,
  STRIPE_WEBHOOK_SECRET,
  STRIPE_API_URL: standIn.url,
  ...extra,
});

function sessionFrom(form: Record<string, string>): StandInSession {
  const id = `cs_test_${randomBytes(12).toString('hex')}`;
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) {
    const match = /^metadata\[(\w+)\]$/.exec(key);
    if (match) metadata[match[1]!] = value;
  }
  const unitAmount = form['line_items[0][price_data][unit_amount]'];
  return {
    id,
    object: 'checkout.session',
    mode: form.mode ?? 'payment',
    status: 'open',
    payment_status: 'unpaid',
    url: `https://checkout.stripe.test/c/pay/${id}`,
    client_reference_id: form.client_reference_id ?? null,
    metadata,
    amount_total: unitAmount ? Number(unitAmount) : null,
    currency: form['line_items[0][price_data][currency]'] ?? null,
    payment_intent: null,
    subscription: null,
  };
}

async function readBody(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Signs `payload` as Stripe would, with our test secret unless told otherwise. */
export function signatureFor(payload: string, secret = STRIPE_WEBHOOK_SECRET) {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret });
}

/** POSTs an event to /webhooks/stripe, signed unless `signature` is given (null sends none). */
export async function deliver(
  serverUrl: string,
  event: object,
  options: { signature?: string | null; body?: string } = {},
) {
  const payload = options.body ?? JSON.stringify(event);
  const signature = options.signature === undefined ? signatureFor(payload) : options.signature;
  const response = await fetch(`${serverUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'stripe-signature': signature }) },
    body: payload,
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> | undefined };
}
