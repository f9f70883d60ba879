import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import Koa from 'koa';
import { environmentErrors } from '../../src/environments/environment.errors.ts';
import { errorPages } from '../../src/http/error-pages.ts';
import { createRenderer } from '../../src/http/render.ts';
import { ApiError } from '../../src/shared/api-error.ts';

/** A page whose route lets a domain refusal through to the error page. */
async function pageThrowing(t: ExecutionContext, error: Error) {
  const app = new Koa();
  app.use(errorPages(createRenderer({ reloadTemplates: false })));
  app.use(() => {
    throw error;
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return async (language: string) => {
    const response = await fetch(url, { headers: { 'accept-language': language } });
    return { status: response.status, html: (await response.text()).replace(/&#39;/g, "'") };
  };
}

test('a domain refusal that reaches the error page is said in the reader’s language', async (t) => {
  const open = await pageThrowing(t, environmentErrors.notFound());
  const french = await open('fr');
  t.is(french.status, 404);
  t.true(
    french.html.includes('Cet environnement n’existe pas, ou il appartient à quelqu’un que vous ne pouvez pas voir.'),
  );
  const english = await open('en');
  t.true(english.html.includes('There is no such environment, or it belongs to someone you cannot see.'));
  t.false(english.html.includes('No such environment'), 'not the API’s wording');
});

test('a refusal without words for people shows its English message on the error page', async (t) => {
  const open = await pageThrowing(t, new ApiError(409, 'some_conflict', 'That conflicts with something.'));
  const french = await open('fr');
  t.is(french.status, 409);
  t.true(french.html.includes('That conflicts with something.'));
});
