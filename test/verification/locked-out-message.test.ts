import test from 'ava';
import { lockedOutMessage } from '../../src/verification/locked-out-message.ts';

test('a lock that ends today is shown with its UTC time only, naming what is locked', (t) => {
  const until = new Date(Date.now() + 60_000);
  const time = until.toISOString().slice(11, 16);
  // A minute from now can be tomorrow just before midnight UTC; then the date is rightly added.
  const day =
    until.toISOString().slice(0, 10) === new Date().toISOString().slice(0, 10)
      ? ''
      : `${until.toISOString().slice(0, 10)} `;
  t.is(
    lockedOutMessage(until, 'sms'),
    `Too many wrong codes. Signing in with this phone number is locked until ${day}${time} UTC.`,
  );
  t.regex(lockedOutMessage(until, 'email'), /Signing in with this email address is locked/);
  t.regex(lockedOutMessage(until), /Signing in to this account is locked/);
});

test('a lock that ends on another day names the date too', (t) => {
  const until = new Date(Date.now() + 2 * 24 * 3600 * 1000);
  const iso = until.toISOString();
  t.is(
    lockedOutMessage(until, 'email'),
    `Too many wrong codes. Signing in with this email address is locked until ${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC.`,
  );
});
