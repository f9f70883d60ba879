import type { Clock } from '../../src/shared/clock.ts';

/** Real time plus whatever the test has moved it forward: time-based rules pass without sleeping. */
export type TestClock = Clock & { advance(seconds: number): void };

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(seconds) {
      offset += seconds * 1000;
    },
  };
}
