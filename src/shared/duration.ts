/** Whole seconds from now until `until`, at least 1: what a Retry-After header says. */
export function secondsUntil(until: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
}

/** "90 seconds", "10 minutes", "1 hour": the wait or lifetime as a person reads it. */
export function describeDuration(totalSeconds: number): string {
  const unit = (value: number, name: string) => `${value} ${name}${value === 1 ? '' : 's'}`;
  if (totalSeconds < 120 && totalSeconds % 60 !== 0) return unit(totalSeconds, 'second');
  const minutes = Math.ceil(totalSeconds / 60);
  if (minutes < 120 || minutes % 60 !== 0) return unit(minutes, 'minute');
  return unit(minutes / 60, 'hour');
}

/** "0:30", "1:05": a countdown's time left, as the resend button shows it. */
export function countdownClock(totalSeconds: number): string {
  return `${Math.floor(totalSeconds / 60)}:${String(totalSeconds % 60).padStart(2, '0')}`;
}
