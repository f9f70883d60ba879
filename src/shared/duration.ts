/** Whole seconds from now until `until`, at least 1: what a Retry-After header says. */
export function secondsUntil(until: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
}

/** "0:30", "1:05": a countdown's time left, as the resend button shows it. */
export function countdownClock(totalSeconds: number): string {
  return `${Math.floor(totalSeconds / 60)}:${String(totalSeconds % 60).padStart(2, '0')}`;
}
