import { AUDIT_EVENT_NAMES, type AuditEventName } from '../audit/audit.service.ts';
import { catalogs, type MessageKey } from '../i18n/catalog.ts';
import type { Locale } from '../i18n/locales.ts';
import { type Text, text, translator } from '../i18n/translator.ts';
import { exactTime } from './relative-time.ts';

/**
 * How the activity page heads one event of the trail; a new event name fails type-checking until
 * the catalogs name it. Where the record names the app and what it did, the person reads a
 * sentence ("Acme Notes fetched your GitHub token") rather than a label and two facts.
 */
export function eventLabel(
  event: string,
  failed: boolean,
  detail: Record<string, unknown> | null,
  app: string | Text | undefined,
): Text | string {
  if (!isEventName(event)) return event.replaceAll('_', ' ');
  if (event === 'provider_token_fetched' && !failed && app && typeof detail?.provider_name === 'string')
    return text('activity.sentence.provider_token_fetched', { app, provider: detail.provider_name });
  const failure = `activity.failure.${event}`;
  if (failed && isKey(failure)) return text(failure);
  return text(`activity.event.${event}`);
}

const isEventName = (event: string): event is AuditEventName =>
  (AUDIT_EVENT_NAMES as readonly string[]).includes(event);

// The detail's values are whatever was recorded: only those the catalogs name are put in words.
const isKey = (key: string): key is MessageKey => Object.hasOwn(catalogs.en, key);

/**
 * The facts in an event's detail that a person can use, in words: how they signed in, why it
 * failed, what changed. Internal ids (session uids, grant ids) are left out.
 */
export function describeDetail(detail: Record<string, unknown> | null, locale: Locale = 'en'): string[] {
  if (!detail) return [];
  const words = translator(locale);
  const say = (key: string, otherwise: () => string) => (isKey(key) ? words.t(key) : otherwise());
  const spaced = (value: string) => value.replaceAll('_', ' ');
  const value = (key: string) => (typeof detail[key] === 'string' ? (detail[key] as string) : undefined);
  const facts: string[] = [];
  const method = value('method') ?? value('channel');
  if (method)
    facts.push(say(`activity.with.${method}`, () => words.t('activity.withOther', { method: spaced(method) })));
  const factor = value('factor') ?? value('type') ?? value('kind');
  if (factor) facts.push(say(`activity.factor.${factor}`, () => capitalize(spaced(factor))));
  const name = value('name') ?? value('label');
  if (name) facts.push(words.t('activity.named', { name }));
  const reason = value('reason');
  if (reason)
    facts.push(words.t('activity.failed', { reason: say(`activity.reason.${reason}`, () => spaced(reason)) }));
  const from = value('from');
  const to = value('to');
  if (from && to) facts.push(words.t('activity.fromTo', { from, to }));
  else if (to) facts.push(words.t('activity.to', { to }));
  const until = value('until');
  if (until && !Number.isNaN(Date.parse(until)))
    facts.push(words.t('activity.lockedUntil', { until: exactTime(locale).format(new Date(until)) }));
  if (Array.isArray(detail.changed)) {
    const fields = detail.changed
      .filter((field): field is string => typeof field === 'string')
      .map((field) => say(`activity.field.${field}`, () => field));
    if (fields.length)
      facts.push(
        words.t('activity.changed', { fields: new Intl.ListFormat(locale, { type: 'conjunction' }).format(fields) }),
      );
  }
  if (detail.everywhere === false) facts.push(words.t('activity.oneAppOnly'));
  if (detail.created === true) facts.push(words.t('activity.accountCreated'));
  return facts;
}

const capitalize = (words: string) => words.charAt(0).toUpperCase() + words.slice(1);
