import test from 'ava';
import { csrfToken, formAction } from '../helpers/page-client.ts';
import { latestCode } from '../helpers/outbox.ts';
import { startTestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

/** The opening tag of the input with this id. */
const inputTag = (html: string, id: string) => new RegExp(`<input id="${id}"[^>]*>`).exec(html)?.[0] ?? '';

/** The message at the field (views/partials-field-error.eta), if any. */
const fieldError = (html: string, id: string) =>
  new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(html)?.[1];

test('a wrong or malformed code is marked at the code field and linked from the summary; a refused resend is not', async (t) => {
  const server = await startTestServer(t);
  const email = 'field@example.com';
  const signIn = await openSignInPage(server);
  const { html: codeHtml } = await askForCode(signIn.client, signIn.html, email);
  t.notRegex(inputTag(codeHtml, 'code'), /aria-invalid/, 'nothing is marked before a try');

  const wrong = await submitCode(signIn.client, codeHtml, otherThan(await latestCode(server.url, email)));
  t.is(wrong.response.status, 400);
  t.regex(inputTag(wrong.html, 'code'), / aria-invalid="true" aria-describedby="code-error"/);
  t.regex(fieldError(wrong.html, 'code') ?? '', /^That code is not right\. 4 tries left\.$/);
  t.regex(wrong.html, /role="alert"><a href="#code">That code is not right\. 4 tries left\.<\/a><\/p>/);

  const malformed = await submitCode(signIn.client, wrong.html, '12ab');
  t.is(malformed.response.status, 400);
  t.regex(inputTag(malformed.html, 'code'), / aria-invalid="true" aria-describedby="code-error"/);
  t.truthy(fieldError(malformed.html, 'code'));

  // Asking again too early is no fault of the code field: the summary alone says so.
  const early = await signIn.client.request(formAction(malformed.html, '/resend'), {
    form: { _csrf: csrfToken(malformed.html) },
  });
  const earlyHtml = await early.text();
  t.is(early.status, 429);
  t.regex(earlyHtml, /role="alert">[^<]/);
  t.notRegex(inputTag(earlyHtml, 'code'), /aria-invalid/);
  t.is(fieldError(earlyHtml, 'code'), undefined);
});

test('an address that is no address is marked at the identifier field, next to its hint', async (t) => {
  const server = await startTestServer(t);
  const signIn = await openSignInPage(server);
  const { status, html } = await askForCode(signIn.client, signIn.html, 'not an address');
  t.is(status, 400);
  t.regex(inputTag(html, 'identifier'), / aria-invalid="true" aria-describedby="identifier-error identifier-help"/);
  t.truthy(fieldError(html, 'identifier'));
  t.regex(html, /role="alert"><a href="#identifier">/);
});
