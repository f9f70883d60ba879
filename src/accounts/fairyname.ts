import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'amber', 'brave', 'bright', 'calm', 'clever', 'cosmic', 'dappled', 'dreamy', 'eager', 'fabled',
  'fair', 'gentle', 'gilded', 'glowing', 'happy', 'hidden', 'jolly', 'kind', 'lively', 'lucky',
  'merry', 'misty', 'mossy', 'nimble', 'noble', 'pearly', 'plucky', 'quiet', 'rosy', 'shiny',
  'silver', 'sleepy', 'sparkly', 'starry', 'sunny', 'swift', 'tiny', 'twinkly', 'velvet', 'wild',
  'wise', 'witty', 'zesty',
];

const NOUNS = [
  'acorn', 'badger', 'bramble', 'breeze', 'brook', 'clover', 'comet', 'dewdrop', 'ember', 'fern',
  'firefly', 'fox', 'glade', 'hazel', 'heron', 'lantern', 'lark', 'meadow', 'moth', 'mushroom',
  'nettle', 'otter', 'owl', 'pebble', 'petal', 'pixie', 'puddle', 'raven', 'robin', 'sprite',
  'sprout', 'thimble', 'thistle', 'toadstool', 'wand', 'willow', 'wisp', 'wren',
];

/** `{adjective}_{noun}_{4 digits}`: readable, and ~16 million combinations before collisions matter. */
export function generateFairyname(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)];
  const noun = NOUNS[randomInt(NOUNS.length)];
  const digits = String(randomInt(10_000)).padStart(4, '0');
  return `${adjective}_${noun}_${digits}`;
}
