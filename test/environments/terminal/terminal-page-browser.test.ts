import { existsSync } from 'node:fs';
import avaTest, { type ExecutionContext } from 'ava';
import { SCREENSHOTS } from '../../helpers/browser.ts';
import { signInByEmailCode } from '../../helpers/browser-sign-in.ts';
import { VIEWPORTS, type Viewport, watchComplaints } from '../../helpers/viewport-pages.ts';
import { runningEnvironment, startTerminalServer } from '../../helpers/terminal-environment.ts';

const asRoot = process.getuid?.() === 0;
// Debian's chromium, and root for the local machines' own users; serial, one machine at a time.
const test = asRoot && existsSync('/usr/bin/chromium') ? avaTest.serial : avaTest.skip;

async function useTerminal(t: ExecutionContext, viewport: Viewport) {
  const { server } = await startTerminalServer(t);
  const email = `browser-${viewport}@example.com`;
  const environment = await runningEnvironment(server, email);
  const page = await VIEWPORTS[viewport].open(t);
  const complaints = watchComplaints(page);
  await page.goto(`${server.url}/account/environments/${environment.id}/terminal`);
  await signInByEmailCode(server, page, email);
  await page.waitForURL(/\/terminal$/);
  await page.locator('#terminal-status', { hasText: 'connected' }).waitFor();

  await page.locator('.xterm').click();
  await page.keyboard.type('echo "browser-$((6*7))"');
  await page.keyboard.press('Enter');
  const rows = page.locator('.xterm-rows');
  await rows.filter({ hasText: 'browser-42' }).waitFor();
  // The extra keys type what a phone keyboard lacks: `~` here.
  await page.keyboard.type('cd ');
  await page.getByRole('button', { name: '~', exact: true }).click();
  await page.keyboard.type(' && echo "at:$PWD:"');
  await page.keyboard.press('Enter');
  await rows.filter({ hasText: 'at:/home/devpocket:' }).waitFor();

  const width = await page.evaluate<number>('document.documentElement.scrollWidth');
  t.true(width <= VIEWPORTS[viewport].width, `nothing sticks out sideways (${width}px)`);
  const keys = await page.locator('.terminal-keys').boundingBox();
  const height = page.viewportSize()?.height ?? 0;
  t.true(keys !== null && keys.y + keys.height <= height + 1, 'the extra keys are on screen');
  await page.screenshot({ path: `${SCREENSHOTS}terminal-${viewport}.png` });
  t.deepEqual(complaints, [], 'no CSP refusals or failed assets');
}

test('the terminal page on a phone: sign in, type a command, see its output, use an extra key', (t) =>
  useTerminal(t, 'phone'));

test('the terminal page on a desktop: sign in, type a command, see its output, use an extra key', (t) =>
  useTerminal(t, 'desktop'));
