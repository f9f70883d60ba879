import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { SMTPServer } from 'smtp-server';
import { PageClient, csrfToken, formAction } from '../helpers/page-client.ts';
import { RP_REDIRECT, discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const EMAIL = 'ada@example.com';

type ReceivedMail = { mailFrom: string; rcptTo: string[]; headers: Map<string, string>; text: string };

/** A real SMTP server on a loopback port (no TLS, no auth) that keeps every message it accepts. */
async function startSmtpStandIn(t: ExecutionContext) {
  const received: ReceivedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          ...parseMessage(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= new Promise<void>((resolve) => smtp.close(resolve)));
  t.teardown(close);
  return { port: (smtp.server.address() as AddressInfo).port, received, close };
}

/**
 * Just enough RFC 5322 / MIME for a single-part text message: unfolded headers, and the body
 * decoded from quoted-printable when it says so (nodemailer picks that for long lines).
 */
function parseMessage(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (!/^text\/plain\b/i.test(headers.get('content-type') ?? ''))
    throw new Error(`unexpected message type ${headers.get('content-type')}`);
  let text = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding')?.toLowerCase() === 'quoted-printable') {
    const bytes = text
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    text = Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return { headers, text };
}

function codeIn(mail: ReceivedMail | undefined): string {
  const code = mail && /Your FairyID sign-in code is (\d{6})\./.exec(mail.text)?.[1];
  if (!code) throw new Error('no sign-in code in the message');
  return code;
}

async function openSignIn(server: TestServer) {
  const registered = await registerClient(server.app);
  const config = await discover(server.url, registered.clientId, registered.clientSecret);
  const { verifier, challenge } = await pkcePair();
  const state = oidc.randomState();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  });
  const client = new PageClient(server.url);
  const { response } = await client.follow(authorizationUrl.href);
  const html = await response.text();
  return { config, verifier, state, client, html };
}

/** Posts the code form, allows consent, and redeems the authorization code as the relying party would. */
async function finishSignIn(
  t: ExecutionContext,
  flow: Awaited<ReturnType<typeof openSignIn>>,
  codeHtml: string,
  code: string,
) {
  const { client, config } = flow;
  let { response, url } = await client.follow(formAction(codeHtml, '/code'), {
    form: { _csrf: csrfToken(codeHtml), code },
  });
  const consent = await response.text();
  t.true(consent.includes('Allow access?'));
  ({ response, url } = await client.follow(formAction(consent, '/confirm'), { form: { _csrf: csrfToken(consent) } }));
  t.is(url.origin + url.pathname, RP_REDIRECT);
  const tokens = await oidc.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
  });
  return tokens;
}

test('with SMTP_URL set, the code travels by SMTP and the development outbox does not exist', async (t) => {
  const smtp = await startSmtpStandIn(t);
  const server = await startTestServer(t, { env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}` } });
  const flow = await openSignIn(server);

  const { response, url } = await flow.client.follow(formAction(flow.html, '/email'), {
    form: { _csrf: csrfToken(flow.html), email: EMAIL },
  });
  t.is(response.status, 200);
  t.regex(url.pathname, /\/code$/);
  const codeHtml = await response.text();

  t.is(smtp.received.length, 1);
  const mail = smtp.received[0]!;
  t.is(mail.mailFrom, 'no-reply@fairyid.localhost');
  t.deepEqual(mail.rcptTo, [EMAIL]);
  t.is(mail.headers.get('to'), EMAIL);
  const code = codeIn(mail);
  t.is(mail.headers.get('subject'), `${code} is your FairyID sign-in code`);
  t.true(mail.text.includes('It expires in 10 minutes and works once.'));

  const tokens = await finishSignIn(t, flow, codeHtml, code);
  const userinfo = await oidc.fetchUserInfo(flow.config, tokens.access_token, tokens.claims()!.sub);
  t.is(userinfo.email, EMAIL);

  // The development outbox is only mounted when there is no SMTP: codes must not be readable over HTTP.
  const outbox = await fetch(`${server.url}/dev/outbox`);
  t.is(outbox.status, 404);
  t.false((await outbox.text()).includes(code));
});

test('an SMTP server that never answers costs a few seconds and a clear message, and the person can retry', async (t) => {
  const smtp = await startSmtpStandIn(t);
  // Answers nothing while `silent`; afterwards it passes connections through to the real stand-in.
  let silent = true;
  const sockets = new Set<Socket>();
  const gate: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (silent) return;
    const upstream = connect(smtp.port, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => gate.close(resolve));
  });
  const port = (gate.address() as AddressInfo).port;
  // Long enough for the retry's real delivery on a busy machine, short enough that silence is a failure.
  const server = await startTestServer(t, { env: { SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_TIMEOUT_MS: '3000' } });
  const flow = await openSignIn(server);

  const failed = await flow.client.request(formAction(flow.html, '/email'), {
    form: { _csrf: csrfToken(flow.html), email: EMAIL },
  });
  t.is(failed.status, 503);
  t.regex(failed.headers.get('content-type') ?? '', /^text\/html/);
  const page = await failed.text();
  t.true(page.includes('We could not send the email just now. Please try again in a minute.'));
  t.true(page.includes(`value="${EMAIL}"`), 'the sign-in form is back, with the address filled in');
  t.is(smtp.received.length, 0);

  // Nothing was sent, so nothing throttles the retry: the same form, posted again, now gets a code.
  silent = false;
  const retried = await flow.client.follow(formAction(page, '/email'), {
    form: { _csrf: csrfToken(page), email: EMAIL },
  });
  t.is(retried.response.status, 200);
  t.regex(retried.url.pathname, /\/code$/);
  t.is(smtp.received.length, 1);
  const tokens = await finishSignIn(t, flow, await retried.response.text(), codeIn(smtp.received[0]));
  t.truthy(tokens.claims()!.sub);
});

test('a new code that cannot be delivered sends the person back to the email form, not to a dead code', async (t) => {
  const smtp = await startSmtpStandIn(t);
  const server = await startTestServer(t, {
    // The first code must get through however busy the machine is; the closed server later refuses at once.
    env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SMTP_TIMEOUT_MS: '30000', OTP_RESEND_SECONDS: '1' },
  });
  const flow = await openSignIn(server);
  const sent = await flow.client.follow(formAction(flow.html, '/email'), {
    form: { _csrf: csrfToken(flow.html), email: EMAIL },
  });
  const codeHtml = await sent.response.text();
  const first = codeIn(smtp.received[0]);

  // The mail server goes away; the resend window (1 second) passes.
  await smtp.close();
  server.clock.advance(2);
  const resent = await flow.client.request(formAction(codeHtml, '/resend'), { form: { _csrf: csrfToken(codeHtml) } });
  t.is(resent.status, 503);
  const page = await resent.text();
  t.true(page.includes('We could not send the email just now. Please try again in a minute.'));
  t.true(page.includes('Email me a code'), 'the email form, since no code is waiting any more');
  t.false(page.includes('Sign-in code'));

  // The replaced code is gone with the failed delivery.
  const old = await flow.client.request(formAction(codeHtml, '/code'), {
    form: { _csrf: csrfToken(codeHtml), code: first },
  });
  t.is(old.status, 400);
  t.true((await old.text()).includes('That code has expired. Ask for a new one.'));
});
