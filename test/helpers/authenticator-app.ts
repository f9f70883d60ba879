import { generate } from 'otplib';
import type { TestClock } from './clock.ts';

const PERIOD = 30;

/** The key an enrollment page shows for typing by hand (grouped in fours), without its spaces. */
export function secretFromPage(html: string): string {
  const match = /id="totp-secret"[^>]*>([^<]+)</.exec(html);
  if (!match) throw new Error('no authenticator key on the page');
  return match[1]!.replace(/\s/g, '');
}

/**
 * What an authenticator app would show, as a phone does: codes only move forward, so each call
 * returns the code of a step after `after` (the server refuses a step it has accepted). When the
 * next step has not come within the server's one-step tolerance yet, the server's clock is moved
 * to it instead of waiting.
 */
export async function nextAppCode(
  secret: string,
  after: number,
  clock: TestClock,
): Promise<{ code: string; step: number }> {
  const now = Math.floor(clock.now() / 1000 / PERIOD);
  const step = Math.max(after + 1, now);
  if (step > now + 1) clock.advance((step - 1) * PERIOD - clock.now() / 1000);
  return { code: await generate({ secret, epoch: step * PERIOD }), step };
}
