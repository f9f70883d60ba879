import test from 'ava';
import Keygrip from 'keygrip';
import { CookieSigner } from '../../src/http/cookie-signer.ts';

// The format every signed cookie already set in a browser carries: it must keep verifying after an upgrade.
test('signatures are exactly those Keygrip makes with the first key', (t) => {
  const keys = ['current key', 'previous key'];
  const signer = new CookieSigner(keys);
  const keygrip = new Keygrip(keys);
  for (const data of ['fairyid.csrf=abc', '_interaction=Tq4zTfrFGrukrGbbnZhWs1THUeOEFSazjANMsayBcN4', '', 'é ü ✓']) {
    t.is(signer.sign(data), keygrip.sign(data));
  }
});

test('a signature by any listed key is accepted and names that key, so keys rotate without signing anyone out', (t) => {
  const signer = new CookieSigner(['new', 'old']);
  t.is(signer.index('name=value', new Keygrip(['new']).sign('name=value')), 0);
  t.is(signer.index('name=value', new Keygrip(['old']).sign('name=value')), 1);
  t.true(signer.verify('name=value', new Keygrip(['old']).sign('name=value')));
});

test('a signature by no listed key, for other data, truncated or of another length is refused', (t) => {
  const signer = new CookieSigner(['new', 'old']);
  const good = signer.sign('name=value');
  t.is(signer.index('name=value', new Keygrip(['retired']).sign('name=value')), -1);
  t.is(signer.index('name=other', good), -1);
  t.is(signer.index('name=value', good.slice(0, -1)), -1);
  t.is(signer.index('name=value', `${good}A`), -1);
  t.is(signer.index('name=value', ''), -1);
  t.false(
    signer.verify(
      'name=value',
      good.replace(/^./, (char) => (char === 'A' ? 'B' : 'A')),
    ),
  );
});

test('no keys is a configuration error, not a signer that accepts nothing', (t) => {
  t.throws(() => new CookieSigner([]), { message: /at least one key/ });
});
