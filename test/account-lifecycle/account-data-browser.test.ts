import { readFile } from 'node:fs/promises';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { startTestServer } from '../helpers/server.ts';
import { checkPage, VIEWPORTS, watchComplaints } from '../helpers/viewport-pages.ts';

for (const viewport of ['phone', 'desktop'] as const) {
  browserTest(`a person downloads their data and deletes their account in the browser (${viewport})`, async (t) => {
    const server = await startTestServer(t);
    const email = `bramble-${viewport}@example.com`;
    const page = await VIEWPORTS[viewport].open(t);
    const complaints = watchComplaints(page);

    await page.goto(`${server.url}/account`);
    await signInByEmailCode(server, page, email);
    await page.waitForURL((url) => url.pathname === '/account');
    await page.getByRole('link', { name: 'Your data' }).click();
    await page.waitForURL((url) => url.pathname === '/account/data');
    await checkPage(t, page, viewport, 'account-data', 'Your data');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download your data' }).click(),
    ]);
    t.regex(download.suggestedFilename(), /^fairyid-\d{4}-\d{2}-\d{2}\.json$/);
    const exported = JSON.parse(await readFile(await download.path(), 'utf8'));
    t.is(exported.identifiers.email, email);

    await page.getByLabel(/To confirm, type/).fill('delete my account');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your account is deleted' }).waitFor();
    await checkPage(t, page, viewport, 'account-deleted', 'Your account is deleted');
    t.is(
      (await server.app.services.db.selectFrom('accounts').select('id').where('email', '=', email).execute()).length,
      0,
    );
    await page.goto(`${server.url}/account`);
    t.regex(new URL(page.url()).pathname, /^\/interaction\//, 'signed out: the account page asks to sign in');
    t.deepEqual(complaints, []);
  });
}
