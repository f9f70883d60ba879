import { apiToken, callApi } from '../helpers/api.ts';
import { invitationLink } from '../helpers/organizations.ts';
import { browserTest, phonePage, SCREENSHOTS } from '../helpers/browser.ts';
import { latestCode } from '../helpers/outbox.ts';
import { startTestServer } from '../helpers/server.ts';

const INVITEE = 'rowan.underhill-of-the-moonlit-gardens@example.com';

browserTest('an invitee follows the emailed link in a real browser, signs up with a code and joins', async (t) => {
  const server = await startTestServer(t);
  const owner = await apiToken(server, 'owner@example.com', ['organizations:read', 'organizations:write']);
  const org = (
    await callApi(server, owner, 'POST', '/api/organizations', { name: 'Moonlit Gardeners', slug: 'moonlit' })
  ).body!;
  const invited = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/invitations`, {
    email: INVITEE,
    role: 'member',
  });
  t.is(invited.status, 201);
  const link = await invitationLink(server, INVITEE);
  const invitationPath = new URL(link).pathname;

  const page = await phonePage(t);

  // What the browser itself complains about (a style refused by the CSP, a failed load) is a defect.
  const complaints: string[] = [];
  page.on('console', (message) => {
    if (['error', 'warning'].includes(message.type()) && !message.text().startsWith('Failed to load resource'))
      complaints.push(message.text());
  });
  page.on('requestfailed', (request) => complaints.push(`${request.url()} failed`));
  // A page answered 4xx on purpose (the used invitation's 410) is expected; its subresources are not.
  page.on('response', (response) => {
    const page = response.request().resourceType() === 'document';
    if (!page && !response.url().endsWith('/favicon.ico') && response.status() >= 400)
      complaints.push(`${response.url()} answered ${response.status()}`);
  });

  /** The page is titled as expected, fits the phone's width, and is kept as a screenshot. */
  const check = async (name: string, title: string) => {
    t.true(await page.getByRole('heading', { level: 1, name: title }).isVisible(), `${name}: heading "${title}"`);
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    t.true(width <= 390, `${name}: nothing sticks out sideways (content is ${width}px wide)`);
    await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  };

  await page.goto(link);
  t.true(await page.getByText('You are invited to join Moonlit Gardeners as a member.').isVisible());
  t.true(await page.getByText(`The invitation was sent to ${INVITEE}.`).isVisible());
  t.false(await page.getByRole('button', { name: 'Accept and join' }).isVisible(), 'nobody is signed in yet');
  await check('invitation', 'Join Moonlit Gardeners');
  // The same page in dark mode, to see that the palette holds up there too.
  await page.emulateMedia({ colorScheme: 'dark' });
  await check('invitation-dark', 'Join Moonlit Gardeners');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.getByRole('button', { name: `Sign in as ${INVITEE}` }).click();
  await page.waitForURL(/\/interaction\/[^/]+$/);
  t.is(await page.getByLabel('Email address').inputValue(), INVITEE, 'the address is filled in from login_hint');
  await check('invitation-login', 'Sign in');

  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.waitForURL(/\/interaction\/[^/]+\/code$/);
  await page.getByLabel('Sign-in code').fill(await latestCode(server.url, INVITEE));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === invitationPath);
  t.true(
    await page.getByRole('button', { name: 'Accept and join' }).isVisible(),
    'back on the invitation, signed in as the invitee',
  );
  await check('invitation-signed-in', 'Join Moonlit Gardeners');

  await page.getByRole('button', { name: 'Accept and join' }).click();
  await page.getByText('You are now a member of Moonlit Gardeners.').waitFor();
  await check('invitation-joined', 'Invitation accepted');

  // The link again, now used: it says so and leads to the account.
  t.is((await page.goto(link))?.status(), 410);
  await check('invitation-used', 'Invitation already accepted');
  await page.getByRole('link', { name: 'Go to your account' }).click();
  await page.waitForURL((url) => url.pathname === '/account');

  t.deepEqual(complaints, []);

  const token = await apiToken(server, INVITEE, ['account:read']);
  const me = await callApi(server, token, 'GET', '/api/me');
  t.is(me.body!.email, INVITEE);
  t.deepEqual(me.body!.memberships, [
    { id: org.id, slug: 'moonlit', name: 'Moonlit Gardeners', status: 'pending', role: 'member' },
  ]);
});

browserTest('an invitation for a long address to a long-named organization still fits a phone screen', async (t) => {
  const server = await startTestServer(t);
  // Real addresses and names can be long words with nowhere to break; the page must wrap them, not widen.
  const email = 'rowanunderhillofthemoonlitgardensandorchards@example.com';
  const name = 'Moonlitgardenersandnightbloomingflowerkeepers';
  const owner = await apiToken(server, 'owner@example.com', ['organizations:read', 'organizations:write']);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name, slug: 'long' })).body!;
  t.is((await callApi(server, owner, 'POST', `/api/organizations/${org.id}/invitations`, { email })).status, 201);

  const page = await phonePage(t);
  await page.goto(await invitationLink(server, email));
  t.true(await page.getByRole('button', { name: `Sign in as ${email}` }).isVisible());
  await page.screenshot({ path: `${SCREENSHOTS}invitation-long.png`, fullPage: true });
  const width = await page.evaluate<number>('document.documentElement.scrollWidth');
  t.true(width <= 390, `nothing sticks out sideways (content is ${width}px wide)`);
});
