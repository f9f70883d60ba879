import test from 'ava';
import { normalizeHtu } from '../../src/oidc/dpop-proof.ts';

// RFC 9449 4.3: htu is compared after RFC 3986 syntax-based (6.2.2) and scheme-based (6.2.3) normalisation.

test('htu values that RFC 3986 normalisation makes equal compare equal', (t) => {
  const equivalent: Record<string, string[]> = {
    'http://localhost:3000/api/me': [
      'HTTP://LOCALHOST:3000/api/me',
      'http://localhost:3000/api/%6De',
      'http://localhost:3000/api/./me',
      'http://localhost:3000/api/x/../me',
      'http://localhost:3000/api/me?x=1',
      'http://localhost:3000/api/me#frag',
    ],
    'https://id.example.com/api/me': ['https://id.example.com:443/api/me', 'HTTPS://Id.Example.COM/api/me'],
    'http://id.example.com/': ['http://id.example.com:80', 'http://id.example.com'],
    'https://id.example.com/api/a%2Fb': ['https://id.example.com/api/a%2fb'],
    'https://id.example.com/api/~x': ['https://id.example.com/api/%7Ex', 'https://id.example.com/api/%7ex'],
  };
  for (const [canonical, variants] of Object.entries(equivalent)) {
    for (const variant of variants) t.is(normalizeHtu(variant), normalizeHtu(canonical), variant);
  }
});

test('htu values that differ in what normalisation keeps do not compare equal', (t) => {
  const different: Array<[string, string]> = [
    ['http://localhost:3000/api/me', 'https://localhost:3000/api/me'],
    ['http://localhost:3000/api/me', 'http://localhost:3001/api/me'],
    ['http://localhost:3000/api/me', 'http://localhost:3000/API/me'],
    ['http://localhost:3000/api/me', 'http://localhost:3000/api/me/'],
    ['https://id.example.com:8443/api/me', 'https://id.example.com/api/me'],
    ['https://id.example.com/api/a%2Fb', 'https://id.example.com/api/a/b'],
    ['http://localhost:3000/api/me', 'http://user@localhost:3000/api/me'],
  ];
  for (const [a, b] of different) t.not(normalizeHtu(a), normalizeHtu(b), `${a} vs ${b}`);
  t.is(normalizeHtu('not a url'), undefined);
  t.is(normalizeHtu('ftp://localhost/api/me'), undefined);
});
