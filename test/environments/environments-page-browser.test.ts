import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Page } from 'playwright-core';
import { createLocalDriver } from '../../src/environments/local.driver.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { environmentStorage, startEnvironmentServer } from '../helpers/environments.ts';
import type { TestServer } from '../helpers/server.ts';
import { checkPage, VIEWPORTS, watchComplaints } from '../helpers/viewport-pages.ts';

// Local machines need root for their own user and /home; the page itself is what is tested here.
const asRoot = process.getuid?.() === 0;
// One viewport after the other: each runs real machines, and a busy CI machine should not run four at once.
const pageTest = asRoot && browserTest === test ? test.serial : test.skip;

/** Reloads until the environment's card shows `label` (the reconciler works in the background). */
async function waitForCard(page: Page, server: TestServer, label: string) {
  for (let i = 0; i < 240; i++) {
    if (await page.locator('.environment-state', { hasText: label }).count()) return;
    await page.waitForTimeout(250);
    await page.reload();
  }
  const trail = await server.app.services.db
    .selectFrom('environment_events')
    .select(['kind', 'message'])
    .orderBy('created_at')
    .execute();
  throw new Error(
    `the environment never showed "${label}"; trail: ${trail.map((row) => `${row.kind} ${row.message}`).join(' | ')}`,
  );
}

for (const viewport of ['phone', 'desktop'] as const) {
  pageTest(`the environments page creates, stops, starts and deletes an environment (${viewport})`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-page-env-'));
    const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
    const server = await startEnvironmentServer(await environmentStorage(t), { driver });
    t.teardown(async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    const page = await VIEWPORTS[viewport].open(t);
    const complaints = watchComplaints(page);

    await page.goto(`${server.url}/account/environments`);
    await signInByEmailCode(server, page, `pages-${viewport}@example.com`);
    await page.waitForURL((url) => url.pathname === '/account/environments');
    t.true(await page.getByText('None yet. Create one below.').isVisible());
    t.is(await page.locator('.dust-balance .balance').textContent(), '25');
    await checkPage(t, page, viewport, 'environments-empty', 'Environments');

    await page.getByLabel('Name').fill('Pocket box');
    await page.getByRole('radio', { name: /Test box/ }).check();
    await page.getByLabel('Size').selectOption('free');
    await page.getByRole('button', { name: 'Create environment' }).click();
    await page.waitForURL((url) => url.search === '?done=created');
    t.true(await page.getByRole('status').filter({ hasText: 'being set up' }).isVisible());
    await waitForCard(page, server, 'Running');
    t.true(await page.getByText('1 DUST per started hour').isVisible());
    t.true(await page.locator('.environment-ssh').isVisible(), 'the ssh command is shown');
    t.true(await page.getByText(/ready in \d+ s/).isVisible(), 'the start\u2019s timings are shown');
    await checkPage(t, page, viewport, 'environments-running', 'Environments');

    await page.getByRole('button', { name: 'Stop Pocket box' }).click();
    await page.waitForURL((url) => url.search === '?done=stopped');
    await waitForCard(page, server, 'Stopped');
    await checkPage(t, page, viewport, 'environments-stopped', 'Environments');
    await page.getByRole('button', { name: 'Start Pocket box' }).click();
    await page.waitForURL((url) => url.search === '?done=started');
    await waitForCard(page, server, 'Running');

    await page.getByRole('link', { name: 'Delete Pocket box' }).click();
    await page.waitForURL((url) => url.pathname.endsWith('/delete'));
    await checkPage(t, page, viewport, 'environments-delete', 'Delete environment');
    t.true(await page.getByText('every file under /home is lost').isVisible());
    await page.getByRole('button', { name: 'Delete Pocket box and its files' }).click();
    await page.waitForURL((url) => url.search === '?done=deleted');
    for (let i = 0; i < 240 && (await page.locator('.environment').count()) > 0; i++) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    t.is(await page.locator('.environment').count(), 0, 'gone from the list once deleted');
    t.deepEqual(complaints, []);
  });
}
