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

for (const viewport of ['phone', 'desktop'] as const) {
  pageTest(
    `the environments page warns of a low balance and of idleness, and "Keep it running" keeps it (${viewport})`,
    async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-page-warn-'));
      const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
      const server = await startEnvironmentServer(
        {
          ...(await environmentStorage(t)),
          // 25 DUST pay the first hour at 13 and leave less than the next one.
          ENVIRONMENT_PRICES: 'free:13,starter:20,pro:40',
          ENVIRONMENT_IDLE_MINUTES: '30',
          ENVIRONMENT_IDLE_WARNING_MINUTES: '10',
        },
        { driver },
      );
      t.teardown(async () => {
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
      });
      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);
      await page.goto(`${server.url}/account/environments`);
      await signInByEmailCode(server, page, `warned-${viewport}@example.com`);
      await page.waitForURL((url) => url.pathname === '/account/environments');
      await page.getByLabel('Name').fill('Thin wallet');
      await page.getByRole('radio', { name: /Test box/ }).check();
      await page.getByRole('button', { name: 'Create environment' }).click();
      await page.waitForURL((url) => url.search === '?done=created');
      await waitForCard(page, server, 'Running');

      const lowBalance = page.getByRole('alert').filter({ hasText: 'DUST for less than an hour' });
      await reloadUntil(page, lowBalance, 'the low-balance banner');
      t.is(await page.locator('.dust-balance .balance').textContent(), '12');
      t.is(await page.getByRole('button', { name: 'Keep it running' }).count(), 0, 'no idle warning yet');

      // 21 minutes without activity: past the warning (30 - 10 minutes), before the stop.
      server.clock.advance(21 * 60);
      const keep = page.getByRole('button', { name: 'Keep it running' });
      await reloadUntil(page, keep, 'the idle warning');
      t.true(await page.getByRole('alert').filter({ hasText: 'will be stopped soon' }).isVisible());
      t.true(await page.getByText('Idle: it will be stopped soon.').isVisible());
      t.true(await lowBalance.isVisible(), 'both warnings at once');
      await checkPage(t, page, viewport, 'environments-warnings', 'Environments');

      await keep.click();
      await page.waitForURL((url) => url.search === '?done=kept');
      t.true(await page.getByRole('status').filter({ hasText: 'It keeps running.' }).isVisible());
      t.is(await keep.count(), 0, 'the warning is answered');
      t.is(await page.getByRole('alert').filter({ hasText: 'will be stopped soon' }).count(), 0);
      const row = await server.app.services.db
        .selectFrom('environments')
        .select(['state', 'idle_warned_at', 'last_activity_at'])
        .executeTakeFirstOrThrow();
      t.is(row.state, 'running');
      t.is(row.idle_warned_at, null);
      t.true((row.last_activity_at?.getTime() ?? 0) >= server.clock.now() - 60_000, 'activity is now');
      // Past the original stop time: answered, it keeps running.
      server.clock.advance(11 * 60);
      await server.app.environments.reconciler.tick();
      await page.reload();
      await page.locator('.environment-state', { hasText: 'Running' }).waitFor();
      t.deepEqual(complaints, []);
    },
  );
}

/** Reloads until `locator` shows (the reconciler works in the background). */
async function reloadUntil(page: Page, locator: ReturnType<Page['locator']>, what: string) {
  for (let i = 0; i < 240; i++) {
    if (await locator.count()) return;
    await page.waitForTimeout(250);
    await page.reload();
  }
  throw new Error(`the page never showed ${what}`);
}
