import { setTimeout as sleep } from 'node:timers/promises';
import { generate } from 'otplib';

const PERIOD = 30;

/** The key an enrollment page shows for typing by hand (grouped in fours), without its spaces. */
export function secretFromPage(html: string): string {
  const match = /id="totp-secret"[^>]*>([^<]+)</.exec(html);
  if (!match) throw new Error('no authenticator key on the page');
  return match[1]!.replace(/\s/g, '');
}

/**
 * What an authenticator app would show, as a phone does: codes only move forward, so each call
 * returns the code of a step after `after` (the server refuses a step it has accepted), waiting
 * for the clock when the next step has not come within the server's one-step tolerance yet.
 */
export async function nextAppCode(secret: string, after = 0): Promise<{ code: string; step: number }> {
  for (;;) {
    const now = Math.floor(Date.now() / 1000 / PERIOD);
    const step = Math.max(after + 1, now);
    if (step <= now + 1) return { code: await generate({ secret, epoch: step * PERIOD }), step };
    await sleep((now + 1) * PERIOD * 1000 - Date.now() + 50);
  }
}
