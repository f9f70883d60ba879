const exact = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

// From the smallest unit up: a difference below `below` seconds is told in `unit`s of `seconds` each.
const UNITS = [
  { unit: 'minute', seconds: 60, below: 3600 },
  { unit: 'hour', seconds: 3600, below: 86_400 },
  { unit: 'day', seconds: 86_400, below: 30 * 86_400 },
  { unit: 'month', seconds: 30 * 86_400, below: 365 * 86_400 },
  { unit: 'year', seconds: 365 * 86_400, below: Number.POSITIVE_INFINITY },
] as const;
const YEARS = UNITS[4];

/** A moment on the account pages: `<time datetime="iso" title="exact">text</time>`. */
export type ShownTime = { iso: string; text: string; title: string };

/**
 * "3 minutes ago", "yesterday", "2 months ago": when something happened, as a person reads it at a
 * glance, with the exact time in UTC for the `title` (the same on every device).
 */
export function shownTime(at: Date, now: number = Date.now()): ShownTime {
  const seconds = Math.round((at.getTime() - now) / 1000);
  const size = Math.abs(seconds);
  let text = 'just now';
  if (size >= 45) {
    const { unit, seconds: each } = UNITS.find((candidate) => size < candidate.below) ?? YEARS;
    text = relative.format(Math.round(seconds / each), unit);
  }
  return { iso: at.toISOString(), text, title: `${exact.format(at)} UTC` };
}
