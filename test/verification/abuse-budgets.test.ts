import test from 'ava';
import type { Config } from '../../src/config.ts';
import { MemoryStore } from '../../src/db/memory-store.ts';
import { createAbuseControls } from '../../src/verification/abuse-controls.ts';
import { testClock } from '../helpers/clock.ts';

const HOUR = { windowSeconds: 3600 };
const limits: Config['limits'] = {
  sendsPerRecipient: { max: 1, ...HOUR },
  sendsPerIp: { max: 2, ...HOUR },
  sendsPerAccount: { max: 2, ...HOUR },
  checksPerRecipient: { max: 1, ...HOUR },
  checksPerIp: { max: 2, ...HOUR },
  checksPerAccount: { max: 2, ...HOUR },
  lockoutAfterFailures: { max: 5, ...HOUR },
  lockoutSeconds: 900,
  deviceCodeGuessesPerIp: { max: 5, ...HOUR },
};

const controls = () => {
  const kv = new MemoryStore();
  return { kv, abuse: createAbuseControls(kv, limits, testClock({ frozen: true })) };
};

test('a send refused for its recipient spends none of the budgets after it: the IP and the account keep theirs', async (t) => {
  const { kv, abuse } = controls();
  const ip = '192.0.2.1';
  t.is((await abuse.allowSend({ identifier: 'email:a@example.com', ip, accountId: 'acc-1' })).status, 'allowed');
  t.is((await abuse.allowSend({ identifier: 'email:a@example.com', ip, accountId: 'acc-1' })).status, 'limited');
  // The refused send gave back what it counted beyond the recipient's budget.
  t.is(await kv.windowCount(`abuse:window:send:ip:${ip}`, 3600, Date.now()), 1);
  t.is(await kv.windowCount('abuse:window:send:account:acc-1', 3600, Date.now()), 1);
  t.is((await abuse.allowSend({ identifier: 'email:b@example.com', ip, accountId: 'acc-1' })).status, 'allowed');
  // Now the IP's two are spent, by sends that went out.
  const third = await abuse.allowSend({ identifier: 'email:c@example.com', ip });
  t.is(third.status, 'limited');
});

test('a check refused for its IP spends none of the account budget after it, but keeps the recipient count before it', async (t) => {
  const { kv, abuse } = controls();
  const ip = '192.0.2.2';
  for (const address of ['a', 'b']) {
    const verdict = await abuse.allowCheck({ identifier: `email:${address}@example.com`, ip });
    t.is(verdict.status, 'allowed');
    await abuse.releaseCheck(`email:${address}@example.com`);
  }
  const refused = await abuse.allowCheck({ identifier: 'email:c@example.com', ip, accountId: 'acc-2' });
  t.is(refused.status, 'limited');
  t.is(await kv.windowCount('abuse:window:check:email:c@example.com', 3600, Date.now()), 1);
  t.is(await kv.windowCount('abuse:window:check:account:acc-2', 3600, Date.now()), 0);
});

test('a locked identifier or account spends no budget at all', async (t) => {
  const { kv, abuse } = controls();
  const until = String(Date.now() + 60_000);
  await kv.write([{ op: 'set', key: 'abuse:lock:account:acc-3', value: until, ttlSeconds: 60 }]);
  const verdict = await abuse.allowSend({ identifier: 'email:d@example.com', ip: '192.0.2.3', accountId: 'acc-3' });
  t.is(verdict.status, 'locked');
  t.is(await kv.windowCount('abuse:window:send:email:d@example.com', 3600, Date.now()), 0);
  t.is(await kv.windowCount('abuse:window:send:ip:192.0.2.3', 3600, Date.now()), 0);
});
