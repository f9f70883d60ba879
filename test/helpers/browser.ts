import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { chromium, type Page } from 'playwright-core';
import { watchAccessibility } from './accessibility.ts';

export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

/**
 * Browser tests need Debian's chromium (`apt-get install chromium`); .ci/run installs it and fails
 * if it cannot, so there they always run. On a machine without it they are reported as skipped.
 */
export const browserTest = existsSync(CHROMIUM) ? test : test.skip;

/**
 * How long a browser action or navigation may take before the test calls it hung. Playwright's own
 * 30 s is merely slow on a 2-core machine running the suite beside several browsers: a click once
 * waited that long for a renderer busy laying out the long API reference.
 */
export const BROWSER_HUNG_MS = 120_000;

/**
 * A phone-sized page in Debian's Chromium, driven by playwright-core (no browser download), closed
 * when the test ends. Screenshots go to test-output/screenshots/. Every FairyID page it loads is
 * checked with axe-core in both themes (./accessibility.ts).
 */
export async function phonePage(t: ExecutionContext): Promise<Page> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  context.setDefaultTimeout(BROWSER_HUNG_MS);
  const page = await context.newPage();
  watchAccessibility(t, page);
  return page;
}
