/**
 * The time as the rules that count hours see it (metering, idle stops, reconciler leases). Real time
 * unless a test moves it forward, so hour-long rules are tested without waiting an hour.
 */
export type Clock = { now(): Date; advance(ms: number): void };

export function createClock(): Clock {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance(ms: number) {
      offset += ms;
    },
  };
}
