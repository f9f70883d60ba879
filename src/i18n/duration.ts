import { type Text, text } from './translator.ts';

/**
 * "90 seconds", "10 minutes", "1 hour": a wait or a lifetime in the one unit that says it best,
 * its number formatted and its plural chosen for the reader's language when it is shown.
 */
export function durationText(totalSeconds: number): Text {
  if (totalSeconds < 120 && totalSeconds % 60 !== 0) return text('time.seconds', { count: totalSeconds });
  const minutes = Math.ceil(totalSeconds / 60);
  if (minutes < 120 || minutes % 60 !== 0) return text('time.minutes', { count: minutes });
  return text('time.hours', { count: minutes / 60 });
}
