import test from 'ava';
import { lockedOutMessage } from '../../src/verification/locked-out-message.ts';

test('a lock says how long it lasts, naming what is locked', (t) => {
  t.is(
    lockedOutMessage(900, 'sms'),
    'Too many wrong codes. Signing in with this phone number is locked for 15 minutes.',
  );
  t.regex(lockedOutMessage(900, 'email'), /Signing in with this email address is locked for 15 minutes\./);
  t.regex(lockedOutMessage(900), /Signing in to this account is locked for 15 minutes\./);
});

test('a lock partly over is rounded up to the minute, and a short one is told in seconds', (t) => {
  t.regex(lockedOutMessage(841, 'email'), /locked for 15 minutes\.$/);
  t.regex(lockedOutMessage(7200, 'email'), /locked for 2 hours\.$/);
  t.regex(lockedOutMessage(45, 'email'), /locked for 45 seconds\.$/);
  t.regex(lockedOutMessage(0, 'email'), /locked for 1 second\.$/);
});
