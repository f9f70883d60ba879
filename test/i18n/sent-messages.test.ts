import test from 'ava';
import { accountDeletedEmail, accountDeletedSms } from '../../src/account-lifecycle/account-deletion-email.ts';
import { identifierChangedNoticeEmail } from '../../src/accounts/identifier-change-message.ts';
import { environmentEmail } from '../../src/environments/environment-email.ts';
import { webhookDisabledEmail } from '../../src/events/webhook-email.ts';
import { text, translator } from '../../src/i18n/translator.ts';
import { invitationEmail } from '../../src/organizations/invitation-email.ts';

// Emails and texts are in the language of the request that caused them; those sent outside any
// request are in English. Each builder is pinned here once per language it can speak.

const ISSUER = 'https://id.example.com';

test('an invitation is in the inviting request’s language, its role and expiry in French', (t) => {
  const mail = {
    to: 'lea@example.com',
    organizationName: 'La Clairière',
    role: 'admin' as const,
    link: `${ISSUER}/invitations/abc`,
    expiresAt: new Date('2026-12-14T12:15:00Z'),
  };
  const french = invitationEmail({ ...mail, locale: 'fr' });
  t.is(french.subject, 'Invitation à rejoindre La Clairière sur FairyID');
  t.regex(french.text, /^La Clairière vous invite à la rejoindre sur FairyID en tant qu’administrateur\./);
  t.regex(
    french.text,
    /Le lien fonctionne jusqu’au 14 décembre 2026 à 12:15 UTC, une seule fois, pour lea@example\.com\./,
  );
  t.regex(french.text, /Acceptez ou refusez ici\u202f: https:\/\/id\.example\.com\/invitations\/abc/);
  const english = invitationEmail({ ...mail, locale: 'en' });
  t.is(english.subject, 'You are invited to join La Clairière on FairyID');
  t.regex(english.text, /^You are invited to join La Clairière on FairyID as an admin\./);
  t.regex(english.text, /The link works until 14 December 2026 at 12:15 UTC, once, for lea@example\.com\./);
});

test('the notices to an old address and after a deletion speak the language they are given', (t) => {
  const fr = translator('fr');
  const moved = identifierChangedNoticeEmail('old@example.com', 'n***@example.com', ISSUER, fr);
  t.is(moved.subject, 'Votre compte FairyID ne se connecte plus avec cette adresse e-mail');
  t.regex(moved.text, /remplacée par n\*\*\*@example\.com/);
  t.regex(moved.text, /connectez-vous sur https:\/\/id\.example\.com\/account/);
  t.is(accountDeletedEmail('old@example.com', ISSUER, fr).subject, 'Votre compte FairyID a été supprimé');
  t.is(
    accountDeletedSms('+14155552671', ISSUER, fr).text,
    'Votre compte FairyID qui se connectait avec ce numéro a été supprimé. Ce n’était pas vous\u202f? https://id.example.com/account',
  );
  t.is(
    accountDeletedSms('+14155552671', ISSUER, translator('en')).text,
    'Your FairyID account that signed in with this number was deleted. Not you? https://id.example.com/account',
  );
});

test('what is sent outside any request is in English, numbers formatted as English writes them', (t) => {
  const low = environmentEmail('dev@example.com', {
    kind: 'low_balance',
    name: 'sprite',
    balance: 1500,
    pricePerHour: 2000,
    link: `${ISSUER}/account/environments`,
  });
  t.is(low.subject, 'sprite: DUST for less than an hour left');
  t.regex(low.text, /costs 2,000 DUST per started hour, and the wallet paying for it holds 1,500 DUST\./);
  const webhook = webhookDisabledEmail('owner@example.com', {
    url: 'https://hooks.example.com/in',
    reason: 'failing for 3 days',
    where: text('email.webhookDisabled.platform'),
    link: `${ISSUER}/api/webhooks/1`,
  });
  t.is(webhook.subject, 'A webhook endpoint was disabled');
  t.regex(
    webhook.text,
    /^FairyID stopped sending events to https:\/\/hooks\.example\.com\/in \(platform\): it was failing/,
  );
  t.regex(webhook.text, /PATCH https:\/\/id\.example\.com\/api\/webhooks\/1 with \{"enabled": true\}\.$/);
});
