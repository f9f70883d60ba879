import test from 'ava';
import { sql } from 'kysely';
import { createLogger } from '../../src/http/logger.ts';
import { accountByEmail } from '../helpers/account-pages.ts';
import { latestCode } from '../helpers/outbox.ts';
import { PageClient, csrfToken, formAction } from '../helpers/page-client.ts';
import { startTestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const EMAIL = 'ada@example.com';

/** The app's own logger configuration, writing its lines to memory. */
function memoryLog() {
  const lines: string[] = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

test('an error log keeps the database error code (SQLSTATE) operators need', async (t) => {
  const { log, lines } = memoryLog();
  const server = await startTestServer(t, { log });
  await signInThroughPages(server.url, `${server.url}/account`, EMAIL);
  const account = await accountByEmail(server, EMAIL);

  // A real unique violation from the real driver, logged as the error pages log what they catch.
  const error = await t.throwsAsync(
    sql`insert into accounts (id, email, fairyname) values (${account.id}, 'twin@example.com', 'twin')`.execute(
      server.app.services.db,
    ),
  );
  log.child({ requestId: 'test' }).error({ err: error }, 'unhandled error');

  const logged = lines.map((line) => JSON.parse(line) as { msg: string; err?: { code?: unknown } });
  const entry = logged.find((line) => line.msg === 'unhandled error');
  t.is(entry?.err?.code, '23505');
});

test('a submitted one-time code, right or wrong, never reaches a log line', async (t) => {
  const { log, lines } = memoryLog();
  const server = await startTestServer(t, { log });
  const client = new PageClient(server.url);
  const login = await (await client.follow(`${server.url}/account`)).response.text();
  const sent = await client.follow(formAction(login, '/email'), { form: { _csrf: csrfToken(login), email: EMAIL } });
  const codePage = await sent.response.text();
  const code = await latestCode(server.url, EMAIL);
  const wrong = code === '314159' ? '271828' : '314159';

  const refused = await client.follow(formAction(codePage, '/code'), {
    form: { _csrf: csrfToken(codePage), code: wrong },
  });
  const again = await refused.response.text();
  t.true(again.includes('/code"'), 'the wrong code is refused on the code page');
  const accepted = await client.follow(formAction(again, '/code'), { form: { _csrf: csrfToken(again), code } });
  t.is(accepted.url.pathname, '/account');

  t.true(lines.length > 0);
  t.deepEqual(
    lines.filter((line) => line.includes(wrong)),
    [],
  );
  // The development outbox delivers by writing the message to the log; no other line may carry the code.
  t.deepEqual(
    lines.filter((line) => line.includes(code) && !line.includes('development outbox')),
    [],
  );
});
