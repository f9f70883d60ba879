import type { Clock } from '../../src/shared/clock.ts';

/** Real time plus whatever the test has moved it forward: time-based rules pass without sleeping. */
export type TestClock = Clock & { advance(seconds: number): void };

/**
 * Real time plus the test's moves; `frozen`, time stands still between them, for a test that reads
 * a wait back (a resend countdown) and must get the same seconds on a machine slow enough to lose a few.
 */
export function testClock(options: { frozen?: boolean } = {}): TestClock {
  let offset = 0;
  const start = Date.now();
  return {
    now: () => (options.frozen ? start : Date.now()) + offset,
    advance(seconds) {
      offset += seconds * 1000;
    },
  };
}
