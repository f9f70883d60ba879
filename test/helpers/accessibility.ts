import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';

// axe-core's own build, evaluated through the DevTools protocol (page.evaluate of a string), which the
// pages' CSP does not govern; a <script> tag with this content would be an inline script, which their
// CSP (script-src 'self') rightly refuses.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// axe-core finishes each rule on a setTimeout. A test that stopped the page's clock (page.clock) would
// stop it too, so it gets the browser's own timers, which Playwright's clock keeps aside as `builtins`.
const AXE_INSTALL = `(() => {
  const timers = globalThis.__pwClock?.builtins ?? globalThis;
  (function (setTimeout, clearTimeout) {
${AXE_SOURCE}
  }).call(globalThis, timers.setTimeout.bind(globalThis), timers.clearTimeout.bind(globalThis));
})()`;

type Theme = 'light' | 'dark';
type Audit = {
  findings: string[];
  queue: Promise<void>;
  theme: Theme;
  ours: boolean;
  // The page's own emulateMedia: the wrapped one waits for the queue a check runs in.
  emulate: Page['emulateMedia'];
};
const audits = new WeakMap<Page, Audit>();

// The page went away under the check (the test navigated or ended): that state is left behind, and
// the next one gets its own check.
const GONE =
  /Execution context was destroyed|Target page, context or browser has been closed|frame was detached|Cannot find context|navigat/i;

/**
 * axe-core over the page as it is now; each violation as "rule: targets (help)". Undefined when a new
 * document replaced the one axe-core was put into.
 */
async function runAxe(page: Page): Promise<{ url: string; violations: string[] } | undefined> {
  if (!(await page.evaluate('!!globalThis.axe'))) await page.evaluate(AXE_INSTALL);
  return page.evaluate(async () => {
    type AxeViolation = { id: string; help: string; nodes: { target: string[] }[] };
    // The page's globals; this project's TypeScript has no DOM library.
    const scope = globalThis as unknown as {
      axe?: { run(context: unknown, options: object): Promise<{ violations: AxeViolation[] }> };
      document: unknown;
      location: { href: string };
    };
    if (!scope.axe) return undefined;
    const { violations } = await scope.axe.run(scope.document, { resultTypes: ['violations'] });
    return {
      url: scope.location.href,
      violations: violations.map(
        (rule) => `${rule.id}: ${rule.nodes.map((node) => node.target.join(' ')).join(', ')} (${rule.help})`,
      ),
    };
  });
}

/** Both themes of the current page state, the one the test chose first; the test's theme is put back. */
async function auditBothThemes(page: Page, audit: Audit) {
  const { emulate } = audit;
  const first = audit.theme;
  const second: Theme = first === 'light' ? 'dark' : 'light';
  let where = page.url();
  try {
    for (const theme of [first, second]) {
      if (theme !== first) await emulate({ colorScheme: theme });
      const result = await runAxe(page);
      if (!result) return;
      where = result.url;
      for (const violation of result.violations) audit.findings.push(`${where} (${theme}): ${violation}`);
    }
  } catch (error) {
    if (!GONE.test(String(error))) audit.findings.push(`${where}: axe-core did not run (${error})`);
  } finally {
    await emulate({ colorScheme: first }).catch(() => undefined);
  }
}

/**
 * Runs axe-core over every FairyID page the browser loads, in the light and the dark theme, and
 * fails the test on any violation (rule ids and targets). Our pages are told apart from stand-ins
 * and relying parties by FairyID's Content-Security-Policy. The test's own theme switches and
 * screenshots wait for a running check, so a check never changes what a screenshot shows.
 */
export function watchAccessibility(t: ExecutionContext, page: Page) {
  const emulate = page.emulateMedia.bind(page);
  const audit: Audit = { findings: [], queue: Promise.resolve(), theme: 'light', ours: false, emulate };
  audits.set(page, audit);
  const screenshot = page.screenshot.bind(page);
  page.emulateMedia = async (options) => {
    await audit.queue;
    if (options?.colorScheme === 'light' || options?.colorScheme === 'dark') audit.theme = options.colorScheme;
    return emulate(options);
  };
  page.screenshot = async (options) => {
    await audit.queue;
    return screenshot(options);
  };
  page.on('response', (response) => {
    if (!response.request().isNavigationRequest() || response.frame() !== page.mainFrame()) return;
    audit.ours = (response.headers()['content-security-policy'] ?? '').startsWith("default-src 'none'");
  });
  page.on('load', () => {
    if (!audit.ours) return;
    audit.queue = audit.queue.then(() => auditBothThemes(page, audit));
  });
  t.teardown(async () => {
    await audit.queue;
    if (audit.findings.length) throw new Error(`axe-core found violations:\n${audit.findings.join('\n')}`);
  });
}

/**
 * Checks the page's current state now (for states a script or a click made without loading a new
 * document) and returns what axe-core found on every page seen so far; those are then reported.
 */
export async function accessibilityFindings(page: Page): Promise<string[]> {
  const audit = audits.get(page);
  if (!audit) throw new Error('accessibility checks need a page from phonePage or desktopPage');
  if (audit.ours) audit.queue = audit.queue.then(() => auditBothThemes(page, audit));
  await audit.queue;
  return audit.findings.splice(0);
}

/** Asserts that the page's current state, and every page seen before it, has no axe-core violation. */
export async function checkAccessibility(t: ExecutionContext, page: Page, name = page.url()) {
  t.deepEqual(await accessibilityFindings(page), [], `${name}: axe-core finds no violation`);
}
