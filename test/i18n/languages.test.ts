import test from 'ava';
import * as oidc from 'openid-client';
import { outboxMessages } from '../helpers/outbox.ts';
import { csrfToken, formAction, PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';
import { answerConfirmPage, openCompleteVerificationUri } from '../helpers/device-approval.ts';

// The sign-in pages speak the app's ui_locales before the browser's Accept-Language, on every page of
// the interaction, and so do the codes they send; pages outside an interaction follow Accept-Language.

const ENGLISH_BROWSER = { 'accept-language': 'en-US,en;q=0.9' };

/** A relying party's authorization request with ui_locales, opened in a browser that prefers English. */
const signInPageIn = (server: TestServer, uiLocales: string) =>
  openSignInPage(server, { extra: { ui_locales: uiLocales }, headers: ENGLISH_BROWSER });

test('discovery lists the languages the sign-in pages speak', async (t) => {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  t.deepEqual(config.serverMetadata().ui_locales_supported, ['en', 'fr']);
});

test('ui_locales=fr makes the sign-in page French though the browser asks for English', async (t) => {
  const server = await startTestServer(t);
  const { client, response, html } = await signInPageIn(server, 'de fr-CA en');
  t.is(response.status, 200);
  t.is(response.headers.get('content-language'), 'fr');
  t.regex(html, /<html lang="fr">/);
  // The next page of the same interaction has no ui_locales in its URL, and still speaks French.
  const refused = await client.request(formAction(html, '/email'), {
    form: { _csrf: csrfToken(html), email: 'not an address@' },
    headers: ENGLISH_BROWSER,
  });
  t.is(refused.status, 400);
  t.regex(await refused.text(), /Saisissez une adresse e-mail valide, par exemple nom@example\.com\./);
});

test('without ui_locales, the same sign-in page follows the browser', async (t) => {
  const server = await startTestServer(t);
  const { html, response } = await signInPageIn(server, 'de');
  t.is(response.headers.get('content-language'), 'en');
  t.regex(html, /<html lang="en">/);
});

test('the sign-in code email and a wrong code are in the language the app asked for', async (t) => {
  const server = await startTestServer(t);
  const { client, html } = await signInPageIn(server, 'fr');
  const codePage = await askForCode(client, html, 'camille@example.com', ENGLISH_BROWSER);
  t.is(codePage.status, 303);
  const [email] = (await outboxMessages(server.url)).filter((message) => message.to === 'camille@example.com');
  const code = /\b(\d{6})\b/.exec(email?.subject ?? '')?.[1] ?? '';
  t.is(email?.subject, `${code} est votre code de connexion FairyID`);
  t.regex(
    email?.text ?? '',
    new RegExp(`^Votre code de connexion FairyID est ${code}\\.\\n\\nIl expire dans \\d+ minutes`),
  );
  t.regex(email?.text ?? '', /vous pouvez ignorer cet e-mail\u202f: personne ne peut se connecter sans ce code\.$/);
  const wrong = await submitCode(client, codePage.html, otherThan(code), ENGLISH_BROWSER);
  t.is(wrong.response.status, 400);
  t.regex(wrong.html, /Ce code n’est pas correct\. Il vous reste \d essais\./);
});

test('the sign-in code text message is in French, its origin-bound line unchanged', async (t) => {
  const server = await startTestServer(t);
  const { client, html } = await signInPageIn(server, 'fr');
  const codePage = await askForCode(client, html, '+1 415 555 2671', ENGLISH_BROWSER);
  t.is(codePage.status, 303);
  const [sms] = (await outboxMessages(server.url)).filter((message) => message.to === '+14155552671');
  const code = /^(\d{6}) /.exec(sms?.text ?? '')?.[1] ?? '';
  t.is(
    sms?.text.replace(/dans \d+ minutes/, 'dans N minutes'),
    `${code} est votre code de connexion FairyID. Il expire dans N minutes. Ne le communiquez à personne.\n\n@${new URL(server.url).hostname} #${code}`,
  );
});

test('an ended sign-in says so in the browser’s language', async (t) => {
  const server = await startTestServer(t);
  const client = new PageClient(server.url);
  const french = await client.request('/interaction/no-such-interaction', { headers: { 'accept-language': 'fr' } });
  t.is(french.status, 400);
  t.is(french.headers.get('content-language'), 'fr');
  const page = await french.text();
  t.regex(page, /Cette connexion est terminée/);
  t.regex(page, /Cette demande de connexion a expiré ou a déjà abouti\. Revenez à l’application/);
  const english = await client.request('/interaction/no-such-interaction', { headers: ENGLISH_BROWSER });
  t.regex(await english.text(), /This sign-in request has expired or was already completed\./);
});

test('an unknown page is a French 404 for a French browser', async (t) => {
  const server = await startTestServer(t);
  const response = await fetch(`${server.url}/nothing-here`, {
    headers: { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' },
  });
  t.is(response.status, 404);
  const page = await response.text();
  t.regex(page, /Page introuvable/);
  t.regex(page, /Aller à la page d’accueil/);
});

test('a device that asked for ui_locales=fr gets its confirmation and sign-in pages in French', async (t) => {
  const server = await startTestServer(t);
  const { clientId } = await registerClient(server.app, {
    name: 'Fairy TV',
    authMethod: 'none',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  });
  const config = await discover(server.url, clientId);
  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid', ui_locales: 'fr' });
  const browser = new PageClient(server.url);
  const confirm = await openCompleteVerificationUri(browser, device);
  t.is(confirm.headers.get('content-language'), 'fr');
  const { response, url } = await answerConfirmPage(browser, confirm, 'yes');
  t.true(url.pathname.startsWith('/interaction/'));
  t.is(response.headers.get('content-language'), 'fr');
});

test('a refusal a page script shows is in the page’s language, its error code unchanged', async (t) => {
  const server = await startTestServer(t);
  const refused = async (language: string) => {
    const response = await fetch(`${server.url}/interaction/no-such-interaction/passkey/sign-in/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-language': language },
      body: '{}',
    });
    return { status: response.status, body: (await response.json()) as { error: string; error_description: string } };
  };
  const french = await refused('fr');
  t.is(french.status, 403);
  t.is(french.body.error, 'forbidden');
  t.regex(french.body.error_description, /^Ce formulaire a expiré/);
  t.regex((await refused('en')).body.error_description, /^This form expired/);
});
