import test, { type ExecutionContext } from 'ava';
import { latestCode } from '../helpers/outbox.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { twoInstances as startTwoInstances, type TestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

// Two instances share limits only through shared storage: real Postgres and Redis.
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

/** Two instances behind a load balancer, with a client and a sign-in helper for either. */
async function twoInstances(t: ExecutionContext, limits: Record<string, string>) {
  const { a, b } = await startTwoInstances(t, limits);
  const { clientId, clientSecret } = await registerClient(a.app);
  const config = await discover(a.url, clientId, clientSecret);
  /** A sign-in whose requests the balancer sends to `server`. */
  const askOn = async (server: TestServer, identifier: string) => {
    const page = await openSignInPage(server, { config });
    return { page, asked: await askForCode(page.client, page.html, identifier) };
  };
  return { a, b, askOn };
}

shared('the send limit for an address is counted across two instances', async (t) => {
  const { a, b, askOn } = await twoInstances(t, { LIMIT_SENDS_PER_RECIPIENT: '2/60' });
  t.is((await askOn(a, 'ada@example.com')).asked.status, 303);
  t.is((await askOn(b, 'ada@example.com')).asked.status, 303);
  const refused = (await askOn(a, 'ada@example.com')).asked;
  t.is(refused.status, 429, 'the third code is refused though A sent only one');
  t.regex(refused.html, /Too many codes were asked for/);
  t.is((await askOn(b, 'ada@example.com')).asked.status, 429);
});

shared('the check limit for an IP is counted across two instances', async (t) => {
  const { a, b, askOn } = await twoInstances(t, { LIMIT_CHECKS_PER_IP: '2/60' });
  const onA = await askOn(a, 'one@example.com');
  const onB = await askOn(b, 'two@example.com');
  const codeOnB = await latestCode(b.url, 'two@example.com');
  t.is(
    (await submitCode(onA.page.client, onA.asked.html, otherThan(await latestCode(a.url, 'one@example.com')))).response
      .status,
    400,
  );
  t.is((await submitCode(onB.page.client, onB.asked.html, otherThan(codeOnB))).response.status, 400);
  const refused = await submitCode(onB.page.client, onB.asked.html, codeOnB);
  t.is(refused.response.status, 429, 'the third check from this IP is refused on B after one on each instance');
  t.regex(refused.html, /Too many attempts/);
});

shared('wrong codes on two instances add up to one lockout, which both instances enforce', async (t) => {
  const { a, b, askOn } = await twoInstances(t, { LOCKOUT_AFTER_FAILURES: '2/60', LOCKOUT_SECONDS: '600' });
  const onA = await askOn(a, 'ada@example.com');
  const codeOnA = await latestCode(a.url, 'ada@example.com');
  const onB = await askOn(b, 'ada@example.com');
  const codeOnB = await latestCode(b.url, 'ada@example.com');
  t.is((await submitCode(onA.page.client, onA.asked.html, otherThan(codeOnA))).response.status, 400);
  const locking = await submitCode(onB.page.client, onB.asked.html, otherThan(codeOnB));
  t.is(locking.response.status, 429, 'the second wrong code, made on B, locks the address');
  t.regex(locking.html, /Signing in with this email address is locked for \d+ (minutes|seconds?)\./);

  const onALater = await submitCode(onA.page.client, onA.asked.html, codeOnA);
  t.is(onALater.response.status, 429, 'A refuses even its own right code');
  t.regex(onALater.html, /is locked for /);
  t.is((await askOn(a, 'ada@example.com')).asked.status, 429, 'and sends no new code');
});
