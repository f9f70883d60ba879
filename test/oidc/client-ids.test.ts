import test from 'ava';
import { newClientId } from '../../src/oidc/client-registry.ts';

// An id led by "-" reads as an option on command lines; base64url starts one id in 64 that way, so
// 10,000 draws without one say the rule holds (the old generator fails this almost surely).
test('a generated client_id never begins with a hyphen and keeps 96 random bits', (t) => {
  const ids = Array.from({ length: 10_000 }, newClientId);
  t.false(ids.some((id) => id.startsWith('-')));
  t.true(ids.every((id) => /^[\w-]{16}$/.test(id)));
  t.is(new Set(ids).size, ids.length);
});
