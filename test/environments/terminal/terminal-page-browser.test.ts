import { existsSync } from 'node:fs';
import avaTest, { type ExecutionContext } from 'ava';
import { SCREENSHOTS } from '../../helpers/browser.ts';
import { signInByEmailCode } from '../../helpers/browser-sign-in.ts';
import { VIEWPORTS, type Viewport, watchComplaints } from '../../helpers/viewport-pages.ts';
import { runningEnvironment, startTerminalServer } from '../../helpers/terminal-environment.ts';

const asRoot = process.getuid?.() === 0;
// Debian's chromium, and root for the local machines' own users; serial, one machine at a time.
const test = asRoot && existsSync('/usr/bin/chromium') ? avaTest.serial : avaTest.skip;

/** Runs in the page, which has getComputedStyle (these tests are typed without the DOM). */
const computedStyle = (element: unknown, property: string) =>
  (globalThis as unknown as { getComputedStyle(element: unknown): Record<string, string> }).getComputedStyle(element)[
    property
  ];

async function useTerminal(t: ExecutionContext, viewport: Viewport) {
  const { server } = await startTerminalServer(t);
  const email = `browser-${viewport}@example.com`;
  const environment = await runningEnvironment(server, email);
  const page = await VIEWPORTS[viewport].open(t);
  const complaints = watchComplaints(page);
  await page.goto(`${server.url}/account/environments/${environment.id}/terminal`);
  await signInByEmailCode(server, page, email);
  await page.waitForURL(/\/terminal$/);
  const csp = (await page.reload())?.headers()['content-security-policy'] ?? '';
  t.regex(csp, /style-src 'self' 'nonce-[A-Za-z0-9+/=]{24}'/, 'styles need this response\u2019s nonce');
  t.notRegex(csp, /unsafe-inline/);
  await page.locator('#terminal-status', { hasText: 'connected' }).waitFor();

  await page.locator('.xterm').click();
  await page.keyboard.type('echo "browser-$((6*7))"');
  await page.keyboard.press('Enter');
  const rows = page.locator('.xterm-rows');
  await rows.filter({ hasText: 'browser-42' }).waitFor();
  // xterm's own <style> elements apply under the nonce: their cell layout, and the palette colour
  // tmux turns this 24-bit red into (xterm-fg-196).
  await page.keyboard.type("printf '\\e[38;2;255;0;0mtrue-%s\\e[0m\\n' red");
  await page.keyboard.press('Enter');
  const red = rows.locator('span', { hasText: 'true-red' });
  await red.waitFor();
  t.is(await red.evaluate(computedStyle, 'color'), 'rgb(255, 0, 0)');
  t.is(await red.evaluate(computedStyle, 'display'), 'inline-block');
  // What xterm does for 24-bit colour that reaches it (a tmux with truecolor on): a style attribute
  // set from script, which the page sends through the CSSOM, so it applies without a CSP refusal.
  t.is(
    await page.evaluate(`(() => {
      const span = document.createElement('span');
      span.setAttribute('style', 'color: rgb(1, 2, 3)');
      document.body.append(span);
      const color = getComputedStyle(span).color;
      span.remove();
      return color;
    })()`),
    'rgb(1, 2, 3)',
  );
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
