import test from 'ava';
import { describeDevice } from '../../src/account-pages/device-description.ts';
import { type Text, translator } from '../../src/i18n/translator.ts';

const inLanguage = (locale: 'en' | 'fr', said: Text | string) =>
  typeof said === 'string' ? said : translator(locale).t(said);

const AGENTS: [string, string][] = [
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    'Safari on iPhone',
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
    'Chrome on Android',
  ],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
    'Edge on Windows',
  ],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on macOS'],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    'Safari on macOS',
  ],
  [
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    'Chrome on ChromeOS',
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
    'Samsung Internet on Android',
  ],
  ['curl/8.5.0', 'curl'],
  ['SomethingNew/1.0', 'Unknown browser'],
];

test('a User-Agent is summarised as the browser and system a person would recognise', (t) => {
  for (const [agent, summary] of AGENTS) t.is(inLanguage('en', describeDevice(agent)), summary, agent);
});

test('a request without a User-Agent is an unknown device', (t) => {
  t.is(inLanguage('en', describeDevice(null)), 'Unknown device');
  t.is(inLanguage('fr', describeDevice(null)), 'Appareil inconnu');
});

test('in French, the words around the product names are French', (t) => {
  t.is(inLanguage('fr', describeDevice(AGENTS[3]![0])), 'Firefox sous macOS');
  t.is(inLanguage('fr', describeDevice('SomethingNew/1.0')), 'Navigateur inconnu');
});
