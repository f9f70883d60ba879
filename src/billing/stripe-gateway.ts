import Stripe from 'stripe';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { billingErrors } from './billing.errors.ts';

export type StripeSettings = NonNullable<Config['stripe']>;
export type CheckoutSessionParams = Stripe.Checkout.SessionCreateParams;

/** What a verified webhook event must carry for us; Stripe's own Event type satisfies it. */
export type StripeEvent = { id: string; type: string; created: number; data: { object: unknown } };

/** The two things FairyID asks of Stripe: start a Checkout Session, and prove a webhook came from it. */
export function createStripeGateway(settings: StripeSettings, log: Logger) {
  const stripe = new Stripe(settings.secretKey, {
    ...endpoint(settings.apiUrl),
    // The client sends an idempotency key with retried POSTs, so a retry never opens a second session.
    maxNetworkRetries: 2,
    timeout: 15_000,
    telemetry: false,
    appInfo: { name: 'FairyID' },
  });

  return {
    async createCheckoutSession(params: CheckoutSessionParams): Promise<{ id: string; url: string }> {
      let session: Stripe.Checkout.Session;
      try {
        session = await stripe.checkout.sessions.create(params);
      } catch (error) {
        // A refused request is usually ours to fix (a wrong price id in STRIPE_PLANS, a revoked key).
        log.error({ err: error, mode: params.mode }, 'Stripe did not create a Checkout Session');
        throw billingErrors.providerUnavailable();
      }
      if (!session.url) {
        log.error({ session: session.id }, 'Stripe returned a Checkout Session without a URL');
        throw billingErrors.providerUnavailable();
      }
      return { id: session.id, url: session.url };
    },

    /** Throws Stripe's signature error unless `raw` is exactly what Stripe signed, recently, with our secret. */
    constructEvent(raw: Buffer, signature: string): StripeEvent {
      return stripe.webhooks.constructEvent(raw, signature, settings.webhookSecret);
    },
  };
}

export type StripeGateway = ReturnType<typeof createStripeGateway>;

export const isSignatureError = (error: unknown) => error instanceof Stripe.errors.StripeSignatureVerificationError;

/** STRIPE_API_URL (a stand-in such as stripe-mock) as the client's host, port and protocol options. */
function endpoint(apiUrl: string | undefined) {
  if (!apiUrl) return {};
  const url = new URL(apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port || (protocol === 'http' ? 80 : 443), protocol } as const;
}
