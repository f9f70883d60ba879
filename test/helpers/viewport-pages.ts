import { mkdir } from 'node:fs/promises';
import type { ExecutionContext } from 'ava';
import { chromium, type Page } from 'playwright-core';
import { checkAccessibility, watchAccessibility } from './accessibility.ts';
import { BROWSER_HUNG_MS, phonePage, SCREENSHOTS } from './browser.ts';

/** A desktop-sized page (1280x800) in Debian's Chromium, the wide counterpart of `phonePage`, checked by axe-core alike. */
export async function desktopPage(t: ExecutionContext): Promise<Page> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(BROWSER_HUNG_MS);
  const page = await context.newPage();
  watchAccessibility(t, page);
  return page;
}

export const VIEWPORTS = {
  phone: { open: phonePage, width: 390 },
  desktop: { open: desktopPage, width: 1280 },
} as const;
export type Viewport = keyof typeof VIEWPORTS;

/**
 * Collects what the browser itself complains about (a script or style refused by the CSP, a failed
 * subresource): any of it is a defect. Pages answered 4xx on purpose are expected; their
 * subresources are not.
 */
export function watchComplaints(page: Page): string[] {
  const complaints: string[] = [];
  page.on('console', (message) => {
    if (['error', 'warning'].includes(message.type()) && !message.text().startsWith('Failed to load resource'))
      complaints.push(message.text());
  });
  page.on('requestfailed', (request) => {
    const why = request.failure()?.errorText ?? 'unknown';
    // A script's own fetch that the browser cancelled (a reconnect superseding it, say) is not a defect;
    // every failed asset, and every fetch that failed for another reason, is.
    if (request.resourceType() === 'fetch' && why === 'net::ERR_ABORTED') return;
    complaints.push(`${request.url()} failed (${why})`);
  });
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document' && response.status() >= 400)
      complaints.push(`${response.url()} answered ${response.status()}`);
  });
  return complaints;
}

/**
 * The page has the expected heading, fits its viewport's width, passes axe-core in both themes (as
 * has every page before it), and is kept as `<name>-<viewport>.png`.
 */
export async function checkPage(t: ExecutionContext, page: Page, viewport: Viewport, name: string, title: string) {
  t.true(await page.getByRole('heading', { level: 1, name: title }).isVisible(), `${name}: heading "${title}"`);
  const width = await page.evaluate<number>('document.documentElement.scrollWidth');
  t.true(width <= VIEWPORTS[viewport].width, `${name}: nothing sticks out sideways (content is ${width}px wide)`);
  await checkAccessibility(t, page, name);
  // A full-page screenshot waits on the compositor: on a busy machine that is slow, not hung.
  await page.screenshot({ path: `${SCREENSHOTS}${name}-${viewport}.png`, fullPage: true, timeout: 120_000 });
}
