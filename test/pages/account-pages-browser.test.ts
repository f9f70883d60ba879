import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { latestCode } from '../helpers/outbox.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';
import { checkPage, VIEWPORTS, watchComplaints } from '../helpers/viewport-pages.ts';

const PICTURE = 'https://pictures.example/wren.svg';
// Stands for the picture host the person links to: the test machine reaches no other site.
const PICTURE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#f3c6a5"/>
<circle cx="32" cy="26" r="12" fill="#6b3fd4"/><rect x="14" y="42" width="36" height="22" rx="11" fill="#6b3fd4"/></svg>`;

/** An app signed in to as `email` with a refresh token, so that the apps page has something to show. */
async function connectApp(server: TestServer, email: string, name: string) {
  const { clientId, clientSecret } = await registerClient(server.app, { name });
  await codeFlowWithOfflineAccess(server.url, await discover(server.url, clientId, clientSecret), email);
}

for (const viewport of ['phone', 'desktop'] as const) {
  browserTest(
    `the account pages let a person edit their profile, change their email and phone, disconnect an app and read their activity (${viewport})`,
    async (t) => {
      const server = await startTestServer(t);
      const email = `wren-${viewport}@example.com`;
      const newEmail = `wren-${viewport}@new.example`;
      const phone = viewport === 'phone' ? '+14155552671' : '+447400123456';
      await connectApp(server, email, 'Pixie Notes');
      await connectApp(server, email, 'Moonlight Calendar');

      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);
      await page.route('https://pictures.example/**', (route) =>
        route.fulfill({ status: 200, contentType: 'image/svg+xml', body: PICTURE_SVG }),
      );

      await page.goto(`${server.url}/account`);
      await signInByEmailCode(server, page, email);
      await page.waitForURL((url) => url.pathname === '/account');
      await page.getByLabel('Name').fill('Wren Featherlight');
      await page.getByLabel('Picture address').fill(PICTURE);
      await page.getByRole('button', { name: 'Save profile' }).click();
      await page.waitForURL((url) => url.search === '?saved=profile');
      t.true(await page.getByRole('status').filter({ hasText: 'Your profile is saved.' }).isVisible());
      const picture = page.getByRole('img', { name: 'Your profile picture' });
      t.true(await picture.isVisible());
      t.true(
        (await picture.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0,
        'the picture loads under the page’s CSP',
      );
      await checkPage(t, page, viewport, 'account-overview', 'Your account');

      await page.getByRole('link', { name: 'Change your email' }).click();
      await page.waitForURL((url) => url.pathname === '/account/email');
      await checkPage(t, page, viewport, 'account-email', 'Change your email');
      await page.getByLabel('New email address').fill(newEmail);
      await page.getByRole('button', { name: 'Send a code' }).click();
      await page.waitForURL((url) => url.pathname === '/account/email/confirm');
      await checkPage(t, page, viewport, 'account-email-confirm', 'Check your email');
      await page.getByLabel('Confirmation code').fill(await latestCode(server.url, newEmail));
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.waitForURL((url) => url.search === '?changed=email');
      t.true(
        await page
          .getByRole('status')
          .filter({ hasText: `You now sign in with ${newEmail}.` })
          .isVisible(),
      );

      await page.getByRole('link', { name: 'Add a phone number' }).click();
      await page.waitForURL((url) => url.pathname === '/account/phone');
      await page.getByLabel('New phone number').fill('+1 (415) 555');
      await page.getByRole('button', { name: 'Send a code' }).click();
      t.true(await page.getByRole('alert').filter({ hasText: 'That phone number is not valid.' }).isVisible());
      await checkPage(t, page, viewport, 'account-phone-invalid', 'Add a phone number');
      await page.getByLabel('New phone number').fill(phone);
      await page.getByRole('button', { name: 'Send a code' }).click();
      await page.waitForURL((url) => url.pathname === '/account/phone/confirm');
      await checkPage(t, page, viewport, 'account-phone-confirm', 'Check your phone');
      await page.getByLabel('Confirmation code').fill(await latestCode(server.url, phone));
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.waitForURL((url) => url.search === '?changed=phone');
      await checkPage(t, page, viewport, 'account-overview-changed', 'Your account');

      await page
        .getByRole('navigation', { name: 'Your account' })
        .getByRole('link', { name: 'Connected apps' })
        .click();
      await page.waitForURL((url) => url.pathname === '/account/apps');
      t.is(await page.locator('li.app').count(), 2);
      await checkPage(t, page, viewport, 'account-apps', 'Connected apps');
      await page.getByRole('button', { name: 'Disconnect Pixie Notes' }).click();
      await page.getByRole('heading', { level: 1, name: 'Disconnect this app?' }).waitFor();
      await checkPage(t, page, viewport, 'account-apps-confirm', 'Disconnect this app?');
      await page.emulateMedia({ colorScheme: 'dark' });
      await checkPage(t, page, viewport, 'account-apps-confirm-dark', 'Disconnect this app?');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.getByRole('link', { name: 'Cancel, keep it' }).click();
      await page.waitForURL((url) => url.pathname === '/account/apps' && url.search === '');
      t.is(await page.locator('li.app').count(), 2, 'cancelling keeps the app');
      await page.getByRole('button', { name: 'Disconnect Pixie Notes' }).click();
      await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
      await page.waitForURL((url) => url.search === '?disconnected=1');
      t.true(await page.getByRole('status').filter({ hasText: 'The app is disconnected.' }).isVisible());
      await page.getByRole('button', { name: 'Disconnect Moonlight Calendar' }).click();
      await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
      // The same address again: wait for what the new page says instead.
      await page.getByText('No apps are connected to your account.').waitFor();
      await checkPage(t, page, viewport, 'account-apps-none', 'Connected apps');

      await page.getByRole('navigation', { name: 'Your account' }).getByRole('link', { name: 'Activity' }).click();
      await page.waitForURL((url) => url.pathname === '/account/activity');
      const events = page.locator('li.activity-event');
      t.true(
        await events.filter({ hasText: 'App disconnected' }).filter({ hasText: 'App: Moonlight Calendar' }).isVisible(),
      );
      t.true(
        await events
          .filter({ hasText: 'Email address changed' })
          .filter({ hasText: 'to w***@new.example' })
          .isVisible(),
      );
      t.true(await events.filter({ hasText: 'Phone number changed' }).first().isVisible());
      await checkPage(t, page, viewport, 'account-activity', 'Activity');

      t.deepEqual(complaints, []);
    },
  );
}
