import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessibilityFindings } from '../helpers/accessibility.ts';
import { browserTest, phonePage } from '../helpers/browser.ts';

// The pages' policy, so the check treats this page as one of ours; a stand-in without it is not checked.
const OUR_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'";
const PAGE =
  '<!doctype html><html><head><title>t</title></head><body><main><h1>t</h1><img src="/x.png"></main></body></html>';

browserTest(
  'the browser helpers run axe-core on every page of ours they load, in both themes, under its CSP, with the page clock stopped',
  async (t) => {
    const server = createServer((req, res) => {
      const ours = req.url !== '/stand-in';
      res.writeHead(200, { 'content-type': 'text/html', ...(ours ? { 'content-security-policy': OUR_POLICY } : {}) });
      res.end(PAGE);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.60', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const origin = `http://127.0.0.60:${(server.address() as AddressInfo).port}`;
    const page = await phonePage(t);
    // A test that stopped the page's clock (as the countdown test does) still gets its check.
    const start = Date.now();
    await page.clock.install({ time: start });
    // An hour ahead: a clock cannot be paused in its past, and a busy machine may take a moment here.
    await page.clock.pauseAt(start + 3_600_000);

    await page.goto(`${origin}/stand-in`);
    t.deepEqual(await accessibilityFindings(page), [], 'a page without our policy is not ours to check');

    await page.goto(`${origin}/ours`);
    const found = await accessibilityFindings(page);
    for (const theme of ['light', 'dark'])
      t.true(
        found.some((finding) => finding.startsWith(`${origin}/ours (${theme}): image-alt: img`)),
        `the image without alt text is reported in the ${theme} theme, with its rule and target`,
      );
    await page.goto(`${origin}/stand-in`);
    t.deepEqual(await accessibilityFindings(page), [], 'each finding is reported once');
  },
);
