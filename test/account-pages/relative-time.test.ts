import test from 'ava';
import { shownTime } from '../../src/account-pages/relative-time.ts';

const NOW = Date.parse('2026-12-07T12:18:00Z');
const before = (seconds: number) => new Date(NOW - seconds * 1000);

test('a moment on the account pages reads relative to now, with the exact UTC time as its title', (t) => {
  t.deepEqual(shownTime(before(180), 'en', NOW), {
    iso: '2026-12-07T12:15:00.000Z',
    text: '3 minutes ago',
    title: '7 Dec 2026, 12:15 UTC',
  });
});

test('each span of time is told in its own unit, rounded', (t) => {
  t.is(shownTime(before(10), 'en', NOW).text, 'just now');
  t.is(shownTime(before(50), 'en', NOW).text, '1 minute ago');
  t.is(shownTime(before(59 * 60), 'en', NOW).text, '59 minutes ago');
  t.is(shownTime(before(2 * 3600), 'en', NOW).text, '2 hours ago');
  t.is(shownTime(before(30 * 3600), 'en', NOW).text, 'yesterday');
  t.is(shownTime(before(10 * 86_400), 'en', NOW).text, '10 days ago');
  t.is(shownTime(before(65 * 86_400), 'en', NOW).text, '2 months ago');
  t.is(shownTime(before(800 * 86_400), 'en', NOW).text, '2 years ago');
});

test('a moment ahead (a clock a little fast) still reads sensibly', (t) => {
  t.is(shownTime(new Date(NOW + 5 * 60_000), 'en', NOW).text, 'in 5 minutes');
});

test('in French, the moment reads in French and the exact time as French writes it', (t) => {
  t.deepEqual(shownTime(before(180), 'fr', NOW), {
    iso: '2026-12-07T12:15:00.000Z',
    text: 'il y a 3 minutes',
    title: '7 déc. 2026, 12:15 UTC',
  });
  t.is(shownTime(before(10), 'fr', NOW).text, 'à l’instant');
  t.is(shownTime(before(30 * 3600), 'fr', NOW).text, 'hier');
});
