import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { guardedLookup, isPublicAddress, RefusedAddressError } from './address-policy.ts';

const EXCERPT_BYTES = 1024;

export type SendResult = {
  success: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
};

/**
 * One attempt of one delivery, per Standard Webhooks: `webhook-id` is the event id (the same on
 * every retry, for de-duplication), `webhook-timestamp` the send time in seconds, `webhook-signature`
 * an HMAC-SHA256 over `id.timestamp.body` with the endpoint's secret. Redirects are not followed
 * (they could point anywhere); only a 2xx answer within the timeout counts as delivered.
 */
export async function sendWebhook(input: {
  url: string;
  secret: string;
  eventId: string;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failed = (error: string, statusCode: number | null = null, excerpt: string | null = null): SendResult => ({
    success: false,
    statusCode,
    latencyMs: elapsed(),
    responseExcerpt: excerpt,
    error,
  });
  const url = new URL(input.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A literal address skips the DNS lookup, so it is checked here instead.
  if (isIP(host) !== 0 && !input.allowPrivate && !isPublicAddress(host))
    return failed(new RefusedAddressError(`${host} is a loopback, private or link-local address`).message);
  // Receivers check the timestamp against their own clock (five minutes' tolerance), so this is
  // the wall clock, not the injected one that schedules retries.
  const sentAt = new Date();
  const signature = new Webhook(input.secret).sign(input.eventId, sentAt, input.body);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendResult>((resolve) => {
    const req = send(
      url,
      {
        method: 'POST',
        lookup: guardedLookup(input.allowPrivate),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'FairyID-Webhooks/1',
          'webhook-id': input.eventId,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        signal: AbortSignal.timeout(input.timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < EXCERPT_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8') || null;
          const status = res.statusCode ?? 0;
          resolve(
            status >= 200 && status < 300
              ? { success: true, statusCode: status, latencyMs: elapsed(), responseExcerpt: excerpt, error: null }
              : failed(`answered ${status}`, status, excerpt),
          );
        });
        res.on('error', (error) => resolve(failed(error.message, status(res.statusCode))));
      },
    );
    req.on('error', (error) =>
      resolve(failed(error.name === 'AbortError' || error.name === 'TimeoutError' ? 'timed out' : error.message)),
    );
    req.end(input.body);
  });
}

const status = (code: number | undefined) => code ?? null;
