import test from 'ava';
import type { Config } from '../../src/config.ts';
import { MemoryStore } from '../../src/db/memory-store.ts';
import { createAbuseControls } from '../../src/verification/abuse-controls.ts';
import { createOneTimeCodes, type Recipient } from '../../src/verification/one-time-codes.ts';
import { testClock } from '../helpers/clock.ts';

const HOUR = { windowSeconds: 3600 };
const limits: Config['limits'] = {
  sendsPerRecipient: { max: 10, ...HOUR },
  sendsPerIp: { max: 10, ...HOUR },
  sendsPerAccount: { max: 10, ...HOUR },
  checksPerRecipient: { max: 10, ...HOUR },
  checksPerIp: { max: 10, ...HOUR },
  checksPerAccount: { max: 10, ...HOUR },
  lockoutAfterFailures: { max: 5, ...HOUR },
  lockoutSeconds: 900,
  deviceCodeGuessesPerIp: { max: 5, ...HOUR },
};

function codes() {
  const kv = new MemoryStore();
  const clock = testClock({ frozen: true });
  const sent: string[] = [];
  const oneTime = createOneTimeCodes({
    kv,
    secret: 'test-secret',
    settings: { ttl: 600, maxAttempts: 5, resendSeconds: 30 },
    abuse: createAbuseControls(kv, limits, clock),
    deliver: async (_recipient, code) => {
      sent.push(code);
    },
    clock,
  }).for('sign_in');
  return { kv, clock, codes: oneTime, sent };
}

const ada: Recipient = { channel: 'email', address: 'ada@example.com' };

test('waiting gives the pending code and its resend countdown together, and nothing once the code has expired', async (t) => {
  const { clock, codes: oneTime } = codes();
  t.is(await oneTime.waiting('flow-1'), undefined);
  await oneTime.start('flow-1', ada, { ip: '192.0.2.1' });
  t.deepEqual(await oneTime.waiting('flow-1'), { recipient: ada, resendIn: 30 });
  clock.advance(12);
  t.deepEqual(await oneTime.waiting('flow-1'), { recipient: ada, resendIn: 18 });
  clock.advance(60);
  t.deepEqual(await oneTime.waiting('flow-1'), { recipient: ada, resendIn: 0 });
  clock.advance(600);
  t.is(await oneTime.waiting('flow-1'), undefined);
  t.is(await oneTime.pending('flow-1'), undefined);
});

test('the right code clears the failures before it, and of two concurrent right codes one signs in, leaving none counted', async (t) => {
  const { kv, codes: oneTime, sent } = codes();
  await oneTime.start('flow-2', ada, { ip: '192.0.2.2' });
  const code = sent.at(-1)!;
  const wrong = code === '000000' ? '000001' : '000000';
  t.like(await oneTime.verify('flow-2', wrong, { ip: '192.0.2.2' }), { status: 'wrong' });
  t.is(await kv.windowCount('abuse:window:failures:email:ada@example.com', 3600, Date.now()), 1);
  const results = await Promise.all([
    oneTime.verify('flow-2', code, { ip: '192.0.2.2' }),
    oneTime.verify('flow-2', code, { ip: '192.0.2.2' }),
  ]);
  t.deepEqual(results.map((result) => result.status).sort(), ['expired', 'ok']);
  t.is(await kv.windowCount('abuse:window:failures:email:ada@example.com', 3600, Date.now()), 0);
});
