import { defineMessages } from '../define-messages.ts';

/** How long a wait or a lifetime lasts, and when something happened, as a person reads it. */
export const timeMessages = defineMessages({
  en: {
    'time.seconds': { one: '{count} second', other: '{count} seconds' },
    'time.minutes': { one: '{count} minute', other: '{count} minutes' },
    'time.hours': { one: '{count} hour', other: '{count} hours' },
    'time.justNow': 'just now',
    'time.utc': '{time} UTC',
  },
  fr: {
    'time.seconds': { one: '{count} seconde', other: '{count} secondes' },
    'time.minutes': { one: '{count} minute', other: '{count} minutes' },
    'time.hours': { one: '{count} heure', other: '{count} heures' },
    'time.justNow': 'à l’instant',
    'time.utc': '{time} UTC',
  },
});
