import test, { type ExecutionContext } from 'ava';
import { testClock } from '../helpers/clock.ts';
import { latestCode, outboxMessages } from '../helpers/outbox.ts';
import { persistedServers, startTestServer, type TestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

// Without Redis the counters live in the process, so only a Redis set-up can keep a lock across a restart.
const onRedis = process.env.REDIS_URL ? test : test.skip;

/** Asks for a code for `identifier` (as typed; `to` as delivered) in a new sign-in and types wrong codes `failures` times. */
async function failRepeatedly(server: TestServer, identifier: string, failures: number, to = identifier) {
  const page = await openSignInPage(server);
  const asked = await askForCode(page.client, page.html, identifier);
  if (asked.status !== 303) throw new Error(`asking for a code answered ${asked.status}`);
  const code = await latestCode(server.url, to);
  const answers = [];
  for (let attempt = 0; attempt < failures; attempt += 1)
    answers.push(await submitCode(page.client, asked.html, otherThan(code)));
  return { page, answers, code, codeHtml: asked.html };
}

/** "N minutes" or "N seconds": how long a lock of `lockSeconds` has left, as the page says it. */
function lockLengths(lockSeconds: number) {
  if (lockSeconds >= 120) return [`${lockSeconds / 60} minutes`];
  // A second may pass between the lock and the page.
  return [lockSeconds, lockSeconds - 1].map((seconds) => `${seconds} second${seconds === 1 ? '' : 's'}`);
}

function showsLock(
  t: ExecutionContext,
  answer: { response: Response; html: string },
  subject: string,
  lengths: string[],
) {
  t.is(answer.response.status, 429);
  const message = new RegExp(`Too many wrong codes\\. Signing in ${subject} is locked for (\\d+ \\w+)\\.`).exec(
    answer.html,
  );
  t.truthy(message, 'the page says what is locked and for how long');
  t.true(lengths.includes(message?.[1] ?? ''), `lock length ${message?.[1]} is one of ${lengths.join(', ')}`);
  t.true(Number(answer.response.headers.get('retry-after')) >= 1);
}

test('repeated wrong codes lock the address with how long it lasts shown, no code is sent or accepted meanwhile, and the lock ends on time', async (t) => {
  // Frozen: on a busy machine two real seconds could end the lock before the checks that it holds.
  const server = await startTestServer(t, {
    env: { LOCKOUT_AFTER_FAILURES: '3/60', LOCKOUT_SECONDS: '2' },
    clock: testClock({ frozen: true }),
  });
  const { answers } = await failRepeatedly(server, 'ada@example.com', 3);
  t.deepEqual(
    answers.slice(0, 2).map((answer) => answer.response.status),
    [400, 400],
  );
  showsLock(t, answers[2]!, 'with this email address', lockLengths(2));
  t.true(answers[2]!.html.includes('value="ada@example.com"'));

  const page = await openSignInPage(server);
  showsLock(t, await askForCode(page.client, page.html, 'ada@example.com'), 'with this email address', lockLengths(2));
  t.is((await outboxMessages(server.url)).length, 1, 'no code is sent to a locked address');
  t.is((await askForCode(page.client, page.html, 'grace@example.com')).status, 303, 'other addresses are not locked');

  const events = await server.app.services.db
    .selectFrom('audit_events')
    .selectAll()
    .where('event', '=', 'lockout')
    .execute();
  t.is(events.length, 1, 'the lockout is audited once');
  t.like(events[0]!.detail, { channel: 'email' });

  server.clock.advance(3);
  const after = await openSignInPage(server);
  const asked = await askForCode(after.client, after.html, 'ada@example.com');
  t.is(asked.status, 303, 'the lock has ended');
  t.is(
    (await submitCode(after.client, asked.html, await latestCode(server.url, 'ada@example.com'))).response.status,
    303,
  );
});

test('a locked phone number is named as such on the page', async (t) => {
  const server = await startTestServer(t, { env: { LOCKOUT_AFTER_FAILURES: '2/60', LOCKOUT_SECONDS: '600' } });
  const { answers } = await failRepeatedly(server, '+1 415 555 2671', 2, '+14155552671');
  showsLock(t, answers[1]!, 'with this phone number', lockLengths(600));
  t.true(answers[1]!.html.includes('value="+1 415 555 2671"'));
});

test('the right code does not work on a locked address', async (t) => {
  const server = await startTestServer(t, { env: { LOCKOUT_AFTER_FAILURES: '3/60', LOCKOUT_SECONDS: '600' } });
  // Two sign-ins for one address: wrong codes in the first lock the address, and the second's right code is refused.
  const waiting = await openSignInPage(server);
  const asked = await askForCode(waiting.client, waiting.html, 'ada@example.com');
  const code = await latestCode(server.url, 'ada@example.com');
  await failRepeatedly(server, 'ada@example.com', 3);
  const refused = await submitCode(waiting.client, asked.html, code);
  t.is(refused.response.status, 429);
  t.regex(refused.html, /Signing in with this email address is locked for /);
  t.deepEqual(await server.app.services.db.selectFrom('accounts').selectAll().execute(), []);
});

onRedis('a lockout survives a restart of the server on the same Redis', async (t) => {
  const servers = await persistedServers(t, { LOCKOUT_AFTER_FAILURES: '2/60', LOCKOUT_SECONDS: '600' });
  const first = await servers.start();
  const { answers } = await failRepeatedly(first, 'ada@example.com', 2);
  showsLock(t, answers[1]!, 'with this email address', lockLengths(600));

  const page = await openSignInPage(await servers.start());
  showsLock(
    t,
    await askForCode(page.client, page.html, 'ada@example.com'),
    'with this email address',
    lockLengths(600),
  );
});
