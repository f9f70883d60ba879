import { appleSetUp } from '../helpers/apple-stand-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { browserApp } from '../helpers/browser-sign-in.ts';
import { startMicrosoftStandIn } from '../helpers/microsoft-stand-in.ts';
import { checkPage, VIEWPORTS, type Viewport, watchComplaints } from '../helpers/viewport-pages.ts';

// Chromium applies SameSite as browsers do: Apple's answer is a POST from another site (127.0.0.22),
// which carries none of FairyID's cookies, and only the GET FairyID redirects it to carries them.
for (const viewport of Object.keys(VIEWPORTS) as Viewport[]) {
  browserTest(
    `a person continues with Apple in a real browser, through its cross-site form post (${viewport})`,
    async (t) => {
      // Microsoft's button too, for the screenshot of every mark (it is not pressed).
      const microsoft = await startMicrosoftStandIn(t);
      const { server, apple } = await appleSetUp(t, {
        MICROSOFT_CLIENT_ID: 'b5a2c2f1-0000-4000-8000-fa1e1d000002',
        MICROSOFT_CLIENT_SECRET: 'unused-microsoft-secret',
        MICROSOFT_URL: microsoft.url,
      });
      apple.state.person = { sub: '001234.ffff.0001', email: 'pp11@privaterelay.appleid.com', firstName: 'Pia' };
      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);
      const app = await browserApp(server, page);
      const check = await app.start();
      for (const name of ['Acme SSO', 'Google', 'Microsoft', 'Apple']) {
        t.true(await page.getByRole('button', { name: `Continue with ${name}` }).isVisible(), name);
      }
      await checkPage(t, page, viewport, 'federation-login-apple', 'Sign in');
      await page.getByRole('button', { name: 'Continue with Apple' }).click();
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      await page.getByRole('button', { name: 'Allow' }).click();
      const tokens = await app.redeem(check);
      t.deepEqual(tokens.claims()?.amr, ['fed']);
      t.is(apple.state.tokenRequests, 1);
      t.deepEqual(complaints, []);
    },
  );
}
