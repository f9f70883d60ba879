import test from 'ava';
import { trailText } from '../../src/environments/trail-text.ts';
import { translator } from '../../src/i18n/translator.ts';

type Entry = { kind: string; to_state?: string | null; message?: string | null; detail?: Record<string, unknown> };

const row = (entry: Entry) => ({
  kind: entry.kind,
  to_state: (entry.to_state ?? null) as null,
  message: entry.message ?? null,
  detail: entry.detail ?? {},
});
const say = (locale: 'en' | 'fr', entry: Entry) => {
  const said = trailText(row(entry));
  return said && translator(locale).t(said);
};

test('a retry says how long it waits in the reader’s units, and quotes the provider’s answer as it came', (t) => {
  const retry = {
    kind: 'retry',
    detail: { attempt: 2, retry_in_s: 8, cause: 'provider', provider_message: 'DigitalOcean had a problem (503)' },
  };
  t.is(say('en', retry), 'Retrying in 8 seconds: the provider answered “DigitalOcean had a problem (503)”');
  t.is(
    say('fr', retry),
    'Nouvel essai dans 8 secondes\u202f: le fournisseur a répondu «\u202fDigitalOcean had a problem (503)\u202f»',
  );
  t.is(
    say('fr', { kind: 'retry', detail: { retry_in_s: 1, cause: 'unreachable' } }),
    'Nouvel essai dans 1 seconde\u202f: FairyID n’a pas pu joindre le fournisseur de machines',
  );
});

test('the failures FairyID words itself are translated whole', (t) => {
  t.is(
    say('fr', { kind: 'error', detail: { cause: 'ready_timeout', minutes: 15 } }),
    'Échec\u202f: la machine n’était pas prête au bout de 15 minutes',
  );
  t.is(
    say('fr', { kind: 'error', detail: { cause: 'template_gone', template: 'rust-box' } }),
    'Échec\u202f: le modèle rust-box n’existe plus',
  );
});

test('FairyID’s stops say why in the reader’s language', (t) => {
  t.is(
    say('fr', { kind: 'stop_requested', detail: { reason: 'insufficient_funds', hour: 7, price: 4 } }),
    'Arrêt\u202f: le portefeuille n’a pas pu payer l’heure 7 (4 DUST). Les fichiers sont conservés.',
  );
  t.is(say('fr', { kind: 'stop_requested', detail: {} }), 'Arrêt demandé', 'a person’s stop has no reason');
  t.is(
    say('fr', { kind: 'stopped', detail: { reason: 'idle', elapsed_ms: 900 } }),
    'Arrêté (inactivité)\u202f: machine supprimée, volume conservé',
  );
  t.is(say('en', { kind: 'stopped', detail: { reason: null } }), 'Stopped: machine removed, volume kept');
  t.is(
    say('fr', { kind: 'low_balance', detail: { balance: 1234 } }),
    'Le portefeuille contient 1\u202f234 DUST\u202f: moins d’une heure restante',
  );
});

test('the machine’s output is not FairyID’s to word, and a driver’s note is quoted as it came', (t) => {
  t.is(say('fr', { kind: 'machine_output', message: 'compiling the world' }), undefined);
  t.is(
    say('fr', { kind: 'machine_note', message: 'packages: not applied on a local machine' }),
    'Signalé par la machine\u202f: packages: not applied on a local machine',
  );
  t.is(
    say('fr', {
      kind: 'machine_output_truncated',
      detail: { offset: 262144, kib: 256, path: '/var/log/cloud-init-output.log' },
    }),
    'Sortie de la machine tronquée après 256 Kio\u202f: la suite est dans /var/log/cloud-init-output.log sur la machine',
  );
});

test('entries written before their detail carried their words, and unknown kinds, are left as stored', (t) => {
  // As the trail held them before: the variable parts only in the English message.
  for (const entry of [
    { kind: 'requested', message: 'Requested from template Test box, free tier, region ams3' },
    { kind: 'machine_created', message: 'Machine up at 127.0.0.5', detail: { elapsed_ms: 40 } },
    {
      kind: 'retry',
      message: 'Retrying in 2 s: DigitalOcean had a problem (503); trying again',
      detail: { attempt: 1 },
    },
    { kind: 'error', message: 'The machine did not become ready within 15 minutes.' },
    {
      kind: 'stop_requested',
      message: 'Stopped: the wallet could not pay hour 7 (4 DUST).',
      detail: { reason: 'insufficient_funds' },
    },
    { kind: 'stopped', message: 'Stopped (idle): machine removed, volume kept', detail: { elapsed_ms: 5 } },
    { kind: 'idle_warning', message: 'No activity: stops at 2026-12-07T10:00:00.000Z unless kept running' },
    { kind: 'something_new', message: 'A kind this code does not know' },
  ])
    t.is(trailText(row(entry)), undefined, entry.kind);
  t.is(say('fr', { kind: 'idle_warning', detail: { stop_at: 'not a time' } }), undefined);
});
