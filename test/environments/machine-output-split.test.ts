import test from 'ava';
import { splitOutput } from '../../src/environments/machine-output.ts';

test('an unfinished last line waits for the next read, and the final read takes it', (t) => {
  const bytes = Buffer.from('one\ntwo\nthr');
  t.deepEqual(splitOutput(bytes, false, 4096), [{ text: 'one\ntwo', end: 8 }]);
  t.deepEqual(splitOutput(bytes, true, 4096), [{ text: 'one\ntwo\nthr', end: 11 }]);
  t.deepEqual(splitOutput(Buffer.from('no newline yet'), false, 4096), []);
});

test('events hold whole lines up to the size, and a longer line is cut between characters', (t) => {
  t.deepEqual(splitOutput(Buffer.from('aaa\nbbb\nccc\n'), false, 9), [
    { text: 'aaa\nbbb', end: 8 },
    { text: 'ccc', end: 12 },
  ]);
  // "é" is two bytes: a cut after five bytes would split the third one.
  const pieces = splitOutput(Buffer.from('ééééé\n'), false, 5);
  t.deepEqual(
    pieces.map((piece) => piece.text),
    ['éé', 'éé', 'é'],
  );
  t.is(pieces.at(-1)?.end, 11);
});

test('terminal escapes are removed, a carriage return leaves what its line shows last, tabs are kept', (t) => {
  const bytes = Buffer.from('\x1b[32mgreen\x1b[0m\tdone\r\nprogress 10%\rprogress 100%\n');
  t.deepEqual(
    splitOutput(bytes, false, 4096).map((piece) => piece.text),
    ['green\tdone\nprogress 100%'],
  );
});
