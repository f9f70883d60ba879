import test from 'ava';
import { catalogs } from '../../src/i18n/catalog.ts';
import { signedInAt } from '../helpers/account-pages.ts';
import { csrfToken, formAction, type PageClient } from '../helpers/page-client.ts';
import { startTestServer } from '../helpers/server.ts';
import { openSignInPage } from '../helpers/sign-in-pages.ts';

const FRENCH = { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' };

/** The page's text and attribute values as a reader gets them: entities decoded, whitespace collapsed. */
function readable(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/**
 * The words of every English message that French says differently, as they would appear on a page:
 * the runs of text between markup and placeholders, long enough not to be a name or a code
 * ("FairyID", "Code") that both languages share.
 */
const englishWords: string[] = (() => {
  const pieces = new Set<string>();
  for (const [key, message] of Object.entries(catalogs.en)) {
    const french = catalogs.fr[key as keyof typeof catalogs.fr];
    if (JSON.stringify(french) === JSON.stringify(message)) continue;
    const forms = typeof message === 'string' ? [message] : Object.values(message);
    for (const form of forms) {
      for (const piece of form.split(/<[^>]*>|\{\w+\}/)) {
        const words = piece.replace(/\s+/g, ' ').trim();
        if (words.length >= 12) pieces.add(words);
      }
    }
  }
  return [...pieces];
})();

const englishOn = (html: string) => englishWords.filter((words) => readable(html).includes(words));

/** Follows redirects as a French browser would, sending its Accept-Language on every hop. */
async function followInFrench(client: PageClient, url: string) {
  const { response, url: landed } = await client.follow(url, { headers: FRENCH });
  return { response, html: await response.text(), url: landed };
}

test('the check finds English on an English page, so its silence on a French one means something', async (t) => {
  const server = await startTestServer(t);
  const html = await (await fetch(`${server.url}/`, { headers: { 'accept-language': 'en' } })).text();
  t.true(englishOn(html).includes('Signing in for the first time creates your account.'));
});

test('an app’s sign-in page started through /auth is in French for a browser that asks for French', async (t) => {
  const server = await startTestServer(t);
  const { client, response, html, url } = await openSignInPage(server, { headers: FRENCH });
  t.is(response.status, 200);
  t.true(url.pathname.startsWith('/interaction/'), 'the sign-in page of a real interaction');
  t.is(response.headers.get('content-language'), 'fr');
  t.regex(html, /<html lang="fr">/);
  t.true(html.includes('<title>Connexion · FairyID</title>'));
  t.true(html.includes('Adresse e-mail'));
  t.true(html.includes('Annuler et revenir à'));
  // The passkey script's words travel in the page, in French too.
  t.true(readable(html).includes('data-word-generic="Un problème est survenu avec la clé d’accès.'));
  t.deepEqual(englishOn(html), []);

  // The code page, and the resend countdown's words for its script.
  const asked = await client.request(formAction(html, '/email'), {
    form: { _csrf: csrfToken(html), email: 'ada@example.com' },
    headers: FRENCH,
  });
  t.is(asked.status, 303);
  const code = await followInFrench(client, asked.headers.get('location')!);
  t.regex(code.html, /<html lang="fr">/);
  t.true(code.html.includes('<title>Consultez vos e-mails · FairyID</title>'));
  t.true(code.html.includes('Nous avons envoyé un code à 6 chiffres à <strong>ada@example.com</strong>.'));
  t.true(code.html.includes('data-label-waiting="Envoyer un nouveau code ({clock})"'));
  t.deepEqual(englishOn(code.html), []);
});

test('the home page, a 404 and an account page are in French for a browser that asks for French', async (t) => {
  const server = await startTestServer(t);
  const home = await fetch(`${server.url}/`, { headers: FRENCH });
  const homeHtml = await home.text();
  t.regex(homeHtml, /<html lang="fr">/);
  t.true(homeHtml.includes('Bienvenue sur FairyID'));
  t.deepEqual(englishOn(homeHtml), []);

  const missing = await fetch(`${server.url}/does-not-exist`, { headers: FRENCH });
  t.is(missing.status, 404);
  const missingHtml = await missing.text();
  t.regex(missingHtml, /<html lang="fr">/);
  t.deepEqual(englishOn(missingHtml), []);

  const { client } = await signedInAt(server, '/account/security', 'ada@example.com');
  for (const path of ['/account', '/account/security', '/account/passkeys', '/account/sessions', '/account/data']) {
    const page = await client.request(path, { headers: FRENCH });
    t.is(page.status, 200, path);
    const html = await page.text();
    t.regex(html, /<html lang="fr">/, path);
    t.deepEqual(englishOn(html), [], path);
  }
});
