import test from 'ava';
import { MailDeliveryError, SmsDeliveryError } from '../../src/notifications/message.ts';
import {
  checkProblem,
  malformedCode,
  parseFormCode,
  refusedCheck,
  sendCode,
  sendProblem,
} from '../../src/verification/code-outcomes.ts';
import { lockedOutMessage } from '../../src/verification/locked-out-message.ts';
import { translator } from '../../src/i18n/translator.ts';

const en = translator('en').t;
/** A problem with its message in English, as the pages show it to an English reader. */
const inEnglish = <P extends { message: Parameters<typeof en>[0] }>(problem: P | undefined) =>
  problem && { ...problem, message: en(problem.message) };

// One wording for every page that sends or checks a one-time code: sign-in, the second step and
// identifier changes all show these, so each outcome is pinned here once.

const until = new Date(Date.now() + 10 * 60_000);

test('a sent code is no problem', async (t) => {
  t.is(await sendCode(async () => ({ status: 'sent' }), 'email'), undefined);
});

test('a resend too soon and a spent send budget are the person’s doing: 429 with the wait', (t) => {
  t.deepEqual(inEnglish(sendProblem({ status: 'throttled', reason: 'resend', retryAfter: 30 }, 'email')), {
    status: 429,
    message: 'A code was just sent. You can ask for a new one in 30 seconds.',
    retryAfter: 30,
  });
  t.deepEqual(inEnglish(sendProblem({ status: 'throttled', reason: 'limited', retryAfter: 600 }, 'sms')), {
    status: 429,
    message: 'Too many codes were asked for. Try again in 10 minutes.',
    retryAfter: 600,
  });
});

test('a send to a locked address says what is locked and for how long', (t) => {
  const problem = sendProblem({ status: 'locked_out', until }, 'sms');
  t.is(problem.status, 429);
  t.is(en(problem.message), 'Too many wrong codes. Signing in with this phone number is locked for 10 minutes.');
  t.true(problem.retryAfter! > 590 && problem.retryAfter! <= 600);
});

test('a failed delivery is ours: 503, naming the channel and what else the page offers', async (t) => {
  t.deepEqual(
    inEnglish(
      await sendCode(async () => {
        throw new MailDeliveryError('smtp down');
      }, 'email'),
    ),
    { status: 503, message: 'We could not send the email just now. Please try again in a minute.' },
  );
  t.deepEqual(
    inEnglish(
      await sendCode(
        async () => {
          throw new SmsDeliveryError('twilio down');
        },
        'sms',
        'email',
      ),
    ),
    {
      status: 503,
      message: 'We could not send the text message just now. Please try again in a minute, or use your email address.',
    },
  );
});

test('any other failure while sending is a bug and is thrown, not shown', async (t) => {
  await t.throwsAsync(
    sendCode(async () => {
      throw new TypeError('boom');
    }, 'email'),
    { instanceOf: TypeError },
  );
});

test('a wrong code stays on the code page, says how many tries are left, and is audited', (t) => {
  t.deepEqual(inEnglish(checkProblem({ status: 'wrong', attemptsLeft: 4 }, 'email')), {
    status: 400,
    message: 'That code is not right. 4 tries left.',
    page: 'code',
    reason: 'wrong_code',
  });
  t.is(en(checkProblem({ status: 'wrong', attemptsLeft: 1 }, 'email').message), 'That code is not right. 1 try left.');
});

test('a spent check budget keeps the code page, says the wait and audits nothing (nothing was checked)', (t) => {
  t.deepEqual(inEnglish(checkProblem({ status: 'limited', retryAfter: 90 }, 'sms')), {
    status: 429,
    message: 'Too many attempts. Try again in 90 seconds.',
    retryAfter: 90,
    page: 'code',
    reason: undefined,
  });
});

test('the wrong code that starts a lockout is audited with the lockout; later refusals are not', (t) => {
  const starting = checkProblem({ status: 'locked_out', until, started: true }, 'email');
  t.like(starting, { status: 429, page: 'start', reason: 'wrong_code', lockedOutUntil: until });
  t.deepEqual(starting.message, lockedOutMessage(starting.retryAfter!, 'email'));
  t.truthy(starting.retryAfter);
  const later = checkProblem({ status: 'locked_out', until }, 'email');
  t.is(later.reason, undefined);
  t.is(later.lockedOutUntil, undefined);
  t.is(later.page, 'start');
});

test('a code whose attempts are spent sends the person back to ask for a new one', (t) => {
  t.deepEqual(inEnglish(checkProblem({ status: 'locked' }, 'email')), {
    status: 429,
    message: 'Too many wrong codes. Ask for a new code to try again.',
    page: 'start',
    reason: 'too_many_wrong_codes',
  });
});

test('an expired code is audited on every page and sends the person back to start', (t) => {
  t.deepEqual(inEnglish(checkProblem({ status: 'expired' }, undefined)), {
    status: 400,
    message: 'That code has expired. Ask for a new one.',
    page: 'start',
    reason: 'expired',
  });
});

test('a lockout of unknown channel names the account', (t) => {
  t.regex(
    en(checkProblem({ status: 'locked_out', until }, undefined).message),
    /Signing in to this account is locked for /,
  );
  t.regex(en(refusedCheck({ status: 'locked', until }).message), /Signing in to this account is locked for /);
  t.deepEqual(inEnglish(refusedCheck({ status: 'limited', retryAfter: 60 })), {
    status: 429,
    message: 'Too many attempts. Try again in 1 minute.',
    retryAfter: 60,
  });
});

test('a form code is six digits, spaces forgiven; anything else is asked for again by channel', (t) => {
  t.is(parseFormCode({ code: '123 456' }), '123456');
  t.is(parseFormCode({ code: ' 012345 ' }), '012345');
  for (const typed of ['12345', '1234567', 'abcdef', '', undefined, ['123456'], 123456]) {
    t.is(parseFormCode({ code: typed }), undefined, JSON.stringify(typed));
  }
  t.is(parseFormCode(undefined), undefined);
  t.deepEqual(inEnglish(malformedCode('sms')), { status: 400, message: 'Enter the 6 digits from the text message.' });
  t.is(en(malformedCode('email').message), 'Enter the 6 digits from the email.');
});
