import test from 'ava';
import { ensureDemoClient, demoInstructions } from '../../src/oidc/demo-client.ts';
import { askForCode, openSignInPage } from '../helpers/sign-in-pages.ts';
import { PageClient } from '../helpers/page-client.ts';
import { startTestServer } from '../helpers/server.ts';

/** The parts of a page every FairyID page has: the document's language, its title and the heading. */
function ourPage(html: string) {
  return {
    lang: /<html lang="([^"]+)">/.exec(html)?.[1],
    title: /<title>([^<]*)<\/title>/.exec(html)?.[1],
    heading: /<h1 id="page-title">([^<]*)<\/h1>/.exec(html)?.[1],
  };
}

test('unknown paths answer 404 with FairyID’s page, never oidc-provider’s bare Not Found', async (t) => {
  const server = await startTestServer(t);
  for (const path of [
    '/does-not-exist',
    '/account/nope',
    '/.well-known/nope',
    '/session/end/nope/deeper',
    '/auth/a/b',
  ]) {
    for (const method of ['GET', 'POST']) {
      const response = await fetch(`${server.url}${path}`, { method, redirect: 'manual' });
      t.is(response.status, 404, `${method} ${path}`);
      t.regex(response.headers.get('content-type') ?? '', /^text\/html/);
      const html = await response.text();
      t.deepEqual(
        ourPage(html),
        { lang: 'en', title: 'Page not found · FairyID', heading: 'Page not found' },
        `${method} ${path}`,
      );
      t.true(html.includes('<a class="button primary" href="/">Go to the home page</a>'));
      // The page is ours, with our headers: the strict CSP holds on it too.
      t.regex(response.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    }
  }
  // oidc-provider's own routes still answer as before.
  t.is((await fetch(`${server.url}/.well-known/openid-configuration`)).status, 200);
  t.is((await fetch(`${server.url}/jwks`)).status, 200);
  const resume = await fetch(`${server.url}/auth/no-such-interaction`, { redirect: 'manual' });
  t.is(resume.status, 400, 'a resume of an unknown sign-in is the provider’s error, in our look');
  t.is(ourPage(await resume.text()).lang, 'en');
});

test('the home page says what FairyID is and leads to signing in, the account and the API reference', async (t) => {
  const server = await startTestServer(t);
  const response = await fetch(`${server.url}/`);
  t.is(response.status, 200);
  const html = await response.text();
  t.like(ourPage(html), { lang: 'en', heading: 'Welcome to FairyID' });
  t.true(html.includes('signs you in to apps without a password'));
  t.true(html.includes('<a class="button primary" href="/account">Sign in</a>'));
  t.true(html.includes('href="/docs/api"'));
  t.false(html.includes('role="status"'), 'no notice without a sign-in outcome');
  const cancelled = await (await fetch(`${server.url}/?sign-in=cancelled`)).text();
  t.true(cancelled.includes('You cancelled signing in.'));
  const unknown = await (await fetch(`${server.url}/?sign-in=constructor`)).text();
  t.false(unknown.includes('role="status"'), 'only the outcomes the page knows are shown');
});

test('a failed or cancelled sign-in on our own pages returns to the home page, never to the page that asked', async (t) => {
  const server = await startTestServer(t);
  const client = new PageClient(server.url);
  const asked = await client.request(`${server.url}/account`);
  t.is(asked.status, 302);
  const state = new URL(asked.headers.get('location')!).searchParams.get('state')!;
  const cancelled = await client.request(`${server.url}/signed-in?error=access_denied&state=${state}`);
  t.is(cancelled.headers.get('location'), '/?sign-in=cancelled');
  const failed = await client.request(`${server.url}/signed-in?error=login_required&state=${state}`);
  t.is(failed.headers.get('location'), '/?sign-in=failed');
});

test('a sign-in link opened in another browser says so and leads back to the app; an ended one says it ended', async (t) => {
  const server = await startTestServer(t);
  const started = await openSignInPage(server);
  const asked = await askForCode(started.client, started.html, 'ada@example.com');
  t.is(asked.status, 303);
  const codePage = /action="(\/interaction\/[^/]+)\/code"/.exec(asked.html)![1]!;

  // Another browser: no interaction cookie, while the sign-in still runs.
  const other = new PageClient(server.url);
  for (const path of [codePage, `${codePage}/code`]) {
    const response = await other.request(`${server.url}${path}`);
    t.is(response.status, 400);
    const html = await response.text();
    t.is(ourPage(html).heading, 'Finish signing in where you started');
    t.true(html.includes('started in another browser or app'));
    // The test app's redirect URI is http://127.0.0.1:9/callback: its origin is where the app lives.
    t.true(html.includes('<a class="button primary" href="http://127.0.0.1:9">Return to Test RP</a>'), path);
  }

  // A sign-in that no longer exists at all.
  const ended = await other.request(`${server.url}/interaction/no-such-sign-in`);
  t.is(ended.status, 400);
  const html = await ended.text();
  t.is(ourPage(html).heading, 'This sign-in has ended');
  t.true(html.includes('<a class="button primary" href="/">Start again</a>'));
});

test('the demo client signs out to a page of ours, and its callback page’s title says when it reports an error', async (t) => {
  const server = await startTestServer(t);
  await ensureDemoClient(server.app.clients, server.url);
  const client = new PageClient(server.url);
  const logoutUri = `${server.url}/dev/signed-out`;
  const confirm = await client.request(
    `${server.url}/session/end?client_id=demo&post_logout_redirect_uri=${encodeURIComponent(logoutUri)}&state=xyz`,
  );
  t.is(confirm.status, 200);
  const form = await confirm.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(form)![1]!;
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(form)![1]!;
  const { response, url } = await client.follow(new URL(action, server.url).href, {
    form: { xsrf, logout: 'yes' },
  });
  t.is(url.pathname, '/dev/signed-out');
  t.is(url.searchParams.get('state'), 'xyz');
  t.is(ourPage(await response.text()).heading, 'Signed out: demo app');

  const failed = await (await fetch(`${server.url}/dev/callback?error=access_denied&error_description=no`)).text();
  t.is(ourPage(failed).heading, 'Sign-in did not finish: demo callback');
  const succeeded = await (await fetch(`${server.url}/dev/callback?code=abc`)).text();
  t.is(ourPage(succeeded).heading, 'Signed in: demo callback');
});

test('the device flow lines npm start prints start the flow and poll its token endpoint', async (t) => {
  const server = await startTestServer(t);
  await ensureDemoClient(server.app.clients, server.url);
  const banner = demoInstructions(server.url);
  /** A printed curl line (with its continuation) as a form POST: its URL and -d fields. */
  const curl = (start: string) => {
    const lines = banner.split('\n');
    const at = lines.findIndex((line) => line.includes(start));
    const line = lines
      .slice(at, at + 2)
      .join(' ')
      .replace(/\\\s+/g, ' ');
    const url = /curl -s (\S+)/.exec(line)![1]!;
    const fields = [...line.matchAll(/-d ([\w]+)=("[^"]*"|\S+)/g)].map(([, name, value]) => [
      name!,
      value!.replace(/^"|"$/g, ''),
    ]);
    return { url, fields: Object.fromEntries(fields) as Record<string, string> };
  };
  const start = curl(`curl -s ${server.url}/device/auth`);
  const started = await fetch(start.url, { method: 'POST', body: new URLSearchParams(start.fields) });
  t.is(started.status, 200);
  const device = (await started.json()) as { device_code: string; verification_uri_complete: string };
  t.truthy(device.verification_uri_complete);

  const poll = curl('grant_type=urn:ietf:params:oauth:grant-type:device_code');
  t.is(poll.url, `${server.url}/token`);
  t.is(poll.fields.device_code, 'DEVICE_CODE');
  const polled = await fetch(poll.url, {
    method: 'POST',
    body: new URLSearchParams({ ...poll.fields, device_code: device.device_code }),
  });
  t.is(polled.status, 400);
  t.is(((await polled.json()) as { error: string }).error, 'authorization_pending');
});

test('the API reference names the real resource, has a section per tag and shows request and response fields', async (t) => {
  const server = await startTestServer(t);
  const html = await (await fetch(`${server.url}/docs/api`)).text();
  t.false(html.includes('ISSUER/api'));
  t.true(html.includes(`<code>${server.url}/api</code>`));
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
    info: { description: string };
    paths: Record<string, Record<string, { tags: string[] }>>;
  };
  t.is(document.info.description, `Call with an access token issued for the resource ${server.url}/api.`);
  const tags = new Set(
    Object.values(document.paths).flatMap((methods) => Object.values(methods).map((o) => o.tags[0])),
  );
  for (const tag of tags) {
    const id = tag!.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    t.true(html.includes(`<li><a href="#${id}">${tag}</a></li>`), `contents link to ${tag}`);
    t.true(html.includes(`<h2 id="${id}"><a class="anchor" href="#${id}">${tag}</a></h2>`), `section ${tag}`);
  }
  const invite = html.slice(html.indexOf('id="post-api-organizations-id-invitations"'));
  const operation = invite.slice(0, invite.indexOf('</article>'));
  t.regex(operation, /<code class="api-scope">organizations:write<\/code>/);
  t.regex(
    operation,
    /<h4>Request body<\/h4>[\s\S]*<code class="api-field">email<\/code> <span class="api-type">string \(email\)<\/span> <span class="api-required">required<\/span>/,
  );
  t.regex(
    operation,
    /<h4>Response 201<\/h4>[\s\S]*<code class="api-field">expires_at<\/code> <span class="api-type">string \(date-time\)<\/span>/,
  );
  t.regex(operation, /<code class="api-field">\{id\}<\/code> <span class="api-type">string \(uuid\)<\/span>/);
});
