import { DATE_LOCALES, type Locale } from '../i18n/locales.ts';
import { translator } from '../i18n/translator.ts';

// From the smallest unit up: a difference below `below` seconds is told in `unit`s of `seconds` each.
const UNITS = [
  { unit: 'minute', seconds: 60, below: 3600 },
  { unit: 'hour', seconds: 3600, below: 86_400 },
  { unit: 'day', seconds: 86_400, below: 30 * 86_400 },
  { unit: 'month', seconds: 30 * 86_400, below: 365 * 86_400 },
  { unit: 'year', seconds: 365 * 86_400, below: Number.POSITIVE_INFINITY },
] as const;
const YEARS = UNITS[4];

const exact = new Map<Locale, Intl.DateTimeFormat>();
const relative = new Map<Locale, Intl.RelativeTimeFormat>();

/** A date and time in UTC, the same on every device, as the reader's language writes it. */
export function exactTime(locale: Locale): Intl.DateTimeFormat {
  let format = exact.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(DATE_LOCALES[locale], {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    });
    exact.set(locale, format);
  }
  return format;
}

function relativeTime(locale: Locale): Intl.RelativeTimeFormat {
  let format = relative.get(locale);
  if (!format) {
    format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    relative.set(locale, format);
  }
  return format;
}

/** A moment on the account pages: `<time datetime="iso" title="exact">text</time>`. */
export type ShownTime = { iso: string; text: string; title: string };

/**
 * "3 minutes ago", "yesterday", "2 months ago": when something happened, as a person reads it at a
 * glance in their language, with the exact time in UTC for the `title` (the same on every device).
 */
export function shownTime(at: Date, locale: Locale, now: number = Date.now()): ShownTime {
  const seconds = Math.round((at.getTime() - now) / 1000);
  const size = Math.abs(seconds);
  let text = translator(locale).t('time.justNow');
  if (size >= 45) {
    const { unit, seconds: each } = UNITS.find((candidate) => size < candidate.below) ?? YEARS;
    text = relativeTime(locale).format(Math.round(seconds / each), unit);
  }
  return {
    iso: at.toISOString(),
    text,
    title: translator(locale).t('time.utc', { time: exactTime(locale).format(at) }),
  };
}
