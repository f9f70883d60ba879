import { browserTest } from '../helpers/browser.ts';
import { browserApp } from '../helpers/browser-sign-in.ts';
import { federationSetUp } from '../helpers/federation.ts';
import { checkPage, VIEWPORTS, type Viewport, watchComplaints } from '../helpers/viewport-pages.ts';

for (const viewport of Object.keys(VIEWPORTS) as Viewport[]) {
  browserTest(`a person continues with an upstream provider in a real browser (${viewport})`, async (t) => {
    const { server, acme } = await federationSetUp(t);
    acme.state.person = { sub: 'acme-ivy', email: 'ivy@acme.example', email_verified: true, name: 'Ivy' };
    const page = await VIEWPORTS[viewport].open(t);
    const complaints = watchComplaints(page);
    // The development callback page stands for the app, so the browser has somewhere to arrive.
    const { start, redeem } = await browserApp(server, page);

    const check = await start();
    t.true(await page.getByRole('button', { name: 'Continue with Google' }).isVisible());
    await checkPage(t, page, viewport, 'federation-login', 'Sign in');
    await page.getByRole('button', { name: 'Continue with Acme SSO' }).click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await checkPage(t, page, viewport, 'federation-consent', 'Allow access?');
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await redeem(check);
    t.deepEqual(tokens.claims()?.amr, ['fed']);

    // The same session opens the account pages, where the linked provider is listed.
    await page.goto(`${server.url}/account/providers`);
    await page.getByRole('heading', { name: 'Sign-in providers' }).waitFor();
    t.true(await page.getByText('Ivy · ivy@acme.example').isVisible());
    await checkPage(t, page, viewport, 'federation-account-providers', 'Sign-in providers');

    // Unlinking asks first. Acme is Ivy's only way in until she has a phone number (set here: the
    // phone pages are tested elsewhere), so it is refused at once without one.
    await page.getByRole('button', { name: 'Unlink Acme SSO' }).click();
    await page.getByRole('alert').filter({ hasText: 'This is the only way you sign in' }).waitFor();
    await server.app.services.db
      .updateTable('accounts')
      .set({ phone_number: '+14155552673', phone_number_verified: true })
      .where('id', '=', tokens.claims()!.sub)
      .execute();
    await page.getByRole('button', { name: 'Unlink Acme SSO' }).click();
    await page.getByRole('heading', { level: 1, name: 'Unlink this account?' }).waitFor();
    t.true(await page.getByText('Acme SSO · ivy@acme.example will no longer sign you in to FairyID.').isVisible());
    await checkPage(t, page, viewport, 'federation-unlink-confirm', 'Unlink this account?');
    await page.emulateMedia({ colorScheme: 'dark' });
    await checkPage(t, page, viewport, 'federation-unlink-confirm-dark', 'Unlink this account?');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('link', { name: 'Cancel, keep it linked' }).click();
    await page.waitForURL((url) => url.pathname === '/account/providers' && url.search === '');
    t.true(await page.getByText('Ivy · ivy@acme.example').isVisible(), 'cancelling keeps the link');
    await page.getByRole('button', { name: 'Unlink Acme SSO' }).click();
    await page.getByRole('button', { name: 'Unlink', exact: true }).click();
    await page.waitForURL((url) => url.search === '?done=unlinked');
    t.true(await page.getByRole('status').filter({ hasText: 'Unlinked.' }).isVisible());
    t.true(await page.getByText('No sign-in provider is linked to your account.').isVisible());

    // A person who declines at the provider reads why, and can sign in another way.
    await page.context().clearCookies();
    acme.state.deny = { error: 'access_denied', error_description: 'The person said no.' };
    await start();
    await page.getByRole('button', { name: 'Continue with Acme SSO' }).click();
    await page.getByRole('heading', { name: 'Not signed in' }).waitFor();
    t.true(await page.getByText('You did not allow signing in with Acme SSO').isVisible());
    await checkPage(t, page, viewport, 'federation-declined', 'Not signed in');
    await page.getByRole('link', { name: 'Sign in another way' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    t.deepEqual(complaints, []);
  });
}
