import test from 'ava';
import { translator } from '../../src/i18n/translator.ts';
import { lockedOutMessage } from '../../src/verification/locked-out-message.ts';

const en = translator('en').t;
const fr = translator('fr').t;

test('a lock says how long it lasts, naming what is locked', (t) => {
  t.is(
    en(lockedOutMessage(900, 'sms')),
    'Too many wrong codes. Signing in with this phone number is locked for 15 minutes.',
  );
  t.regex(en(lockedOutMessage(900, 'email')), /Signing in with this email address is locked for 15 minutes\./);
  t.regex(en(lockedOutMessage(900)), /Signing in to this account is locked for 15 minutes\./);
});

test('a lock partly over is rounded up to the minute, and a short one is told in seconds', (t) => {
  t.regex(en(lockedOutMessage(841, 'email')), /locked for 15 minutes\.$/);
  t.regex(en(lockedOutMessage(7200, 'email')), /locked for 2 hours\.$/);
  t.regex(en(lockedOutMessage(45, 'email')), /locked for 45 seconds\.$/);
  t.regex(en(lockedOutMessage(0, 'email')), /locked for 1 second\.$/);
});

test('in French, the lock reads in French, its wait counted, pluralised and formatted by Intl', (t) => {
  t.is(
    fr(lockedOutMessage(900, 'email')),
    'Trop de codes erronés. La connexion avec cette adresse e-mail est bloquée pendant 15 minutes.',
  );
  t.regex(fr(lockedOutMessage(60, 'sms')), /avec ce numéro de téléphone est bloquée pendant 1 minute\.$/);
  t.regex(fr(lockedOutMessage(7200)), /La connexion à ce compte est bloquée pendant 2 heures\.$/);
  // French groups thousands with a narrow no-break space: the count went through Intl.NumberFormat.
  t.regex(fr(lockedOutMessage(1200 * 3600)), /bloquée pendant 1\u202f200 heures\.$/);
  t.regex(en(lockedOutMessage(1200 * 3600)), /locked for 1,200 hours\.$/);
});
