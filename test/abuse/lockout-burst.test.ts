import test from 'ava';
import { latestCode } from '../helpers/outbox.ts';
import { startTestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

const LOCKOUT_AFTER = 3;
const FLOWS = 3;
const TRIES_PER_CODE = 5;

// On the embedded store each submission happens to run to its comparison without yielding to
// another, so a check-then-act lockout only leaks here with Redis and Postgres (as in CI).
test('a burst of parallel wrong codes for one address gets no more compared than LOCKOUT_AFTER_FAILURES, and starts one lockout', async (t) => {
  const server = await startTestServer(t, {
    env: {
      LOCKOUT_AFTER_FAILURES: `${LOCKOUT_AFTER}/3600`,
      LOCKOUT_SECONDS: '600',
      // Only the lockout is under test: the per-address check budget would stop the burst too.
      LIMIT_CHECKS_PER_RECIPIENT: '1000/3600',
    },
  });
  // An existing account, so that every compared code is on its audit trail.
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('ada@example.com');

  // Several sign-ins, each with its own code (five tries each), so the burst is not capped per code.
  const flows = [];
  for (let flow = 0; flow < FLOWS; flow += 1) {
    const page = await openSignInPage(server);
    const asked = await askForCode(page.client, page.html, 'ada@example.com');
    t.is(asked.status, 303);
    flows.push({ page, asked, code: await latestCode(server.url, 'ada@example.com') });
  }
  const answers = await Promise.all(
    flows.flatMap(({ page, asked, code }) =>
      Array.from({ length: TRIES_PER_CODE }, () => submitCode(page.client, asked.html, otherThan(code))),
    ),
  );
  t.deepEqual(
    answers.map((answer) => answer.response.status).filter((status) => status !== 400 && status !== 429),
    [],
  );

  const trail = await server.app.services.audit.recentFor(account.id, 100);
  const compared = trail.filter((event) => event.event === 'sign_in_failed' && event.detail?.reason === 'wrong_code');
  t.is(
    compared.length,
    LOCKOUT_AFTER,
    `${FLOWS * TRIES_PER_CODE} parallel wrong codes: exactly the lockout's worth compared`,
  );
  t.is(trail.filter((event) => event.event === 'lockout').length, 1, 'one lockout, started once');

  const page = await openSignInPage(server);
  const refused = await askForCode(page.client, page.html, 'ada@example.com');
  t.is(refused.status, 429, 'the address is locked: no new code is sent');
  t.regex(refused.html, /is locked for /);
});
