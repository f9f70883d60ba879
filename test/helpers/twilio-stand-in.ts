import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';

export type SentSms = { accountSid: string; to: string; from?: string; messagingServiceSid?: string; body: string };

/** How the next requests fail: Twilio's own error document, or a bare 503 from something in front of it. */
export type TwilioFailure = { status: number; code: number; message: string } | { status: 503; unavailable: true };

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

/**
 * A local stand-in for Twilio's Messages API, reached by the real twilio client through
 * TWILIO_API_URL: it checks Basic auth as Twilio does (account SID and auth token), keeps every
 * message it accepts and answers like Twilio (201 with the message resource, status `queued`).
 * `failWith` makes the following requests fail until `recover` is called.
 */
export async function startTwilioStandIn(t: ExecutionContext, options: { from?: string } = {}) {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const messages: SentSms[] = [];
  let unauthorized = 0;
  let failure: TwilioFailure | undefined;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) =>
      reply(response, 500, { code: 20500, message: String(error), status: 500 }),
    );
  });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const path = MESSAGES_PATH.exec(new URL(request.url ?? '/', 'http://stand-in').pathname);
    if (request.method !== 'POST' || !path) {
      return reply(response, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    }
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    if (request.headers.authorization !== expected || path[1] !== accountSid) {
      unauthorized += 1;
      return reply(response, 401, { code: 20003, message: 'Authenticate', status: 401 });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const to = form.get('To');
    const body = form.get('Body');
    const from = form.get('From') ?? undefined;
    const messagingServiceSid = form.get('MessagingServiceSid') ?? undefined;
    if (!to || !body || (!from && !messagingServiceSid)) {
      return reply(response, 400, {
        code: 21604,
        message: "A 'To' phone number, a 'Body' and a 'From' or 'MessagingServiceSid' are required.",
        status: 400,
      });
    }
    if (failure && 'unavailable' in failure) {
      response.writeHead(503, { 'content-type': 'text/html' }).end('<html><body>Service Unavailable</body></html>');
      return;
    }
    if (failure)
      return reply(response, failure.status, { code: failure.code, message: failure.message, status: failure.status });
    const sms: SentSms = {
      accountSid,
      to,
      body,
      ...(from ? { from } : {}),
      ...(messagingServiceSid ? { messagingServiceSid } : {}),
    };
    messages.push(sms);
    const sid = `SM${randomBytes(16).toString('hex')}`;
    reply(response, 201, {
      sid,
      account_sid: accountSid,
      to,
      from: from ?? null,
      messaging_service_sid: messagingServiceSid ?? null,
      body,
      status: 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    messages,
    /** Requests refused for their credentials. */
    unauthorized: () => unauthorized,
    /** What the app needs to send through this stand-in. */
    env: {
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_FROM: options.from ?? '+15005550006',
      TWILIO_API_URL: url,
    },
    failWith(next: TwilioFailure) {
      failure = next;
    },
    recover() {
      failure = undefined;
    },
    /** The code in the newest text to `to` (E.164). */
    latestCode(to: string): string {
      const message = messages.findLast((candidate) => candidate.to === to);
      const code = message && /^(\d{6}) /.exec(message.body)?.[1];
      if (!code) throw new Error(`no text with a code to ${to}`);
      return code;
    },
  };
}

export type TwilioStandIn = Awaited<ReturnType<typeof startTwilioStandIn>>;

function reply(response: ServerResponse, status: number, body: Record<string, unknown>) {
  if (status >= 400) body.more_info = `https://www.twilio.com/docs/errors/${String(body.code)}`;
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
