import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import Koa from 'koa';
import { assetRoutes } from '../../src/http/assets.routes.ts';

/** The stylesheet as the pages get it, from the assets route. */
async function servedStylesheet(t: ExecutionContext) {
  const app = new Koa().use(assetRoutes());
  const server = app.listen(0, '127.0.0.60');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const response = await fetch(`http://127.0.0.60:${(server.address() as AddressInfo).port}/assets/fairyid.css`);
  t.is(response.status, 200);
  return response.text();
}

/** The custom properties of a `:root { ... }` block. */
function customProperties(block: string): Record<string, string> {
  return Object.fromEntries(
    [...block.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map(([, name, value]) => [name, (value ?? '').trim()]),
  );
}

/** The light theme's properties, and the dark theme's (the light ones with the dark block's on top). */
function themes(css: string) {
  const light = customProperties(/^:root\s*\{([^}]*)\}/m.exec(css)?.[1] ?? '');
  const darkBlock = /@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}/.exec(css)?.[1] ?? '';
  return { light, dark: { ...light, ...customProperties(darkBlock) } };
}

/** WCAG 2 relative luminance of a #rrggbb colour. */
function luminance(hex: string) {
  const channels = [1, 3, 5].map((at) => Number.parseInt(hex.slice(at, at + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG 2 contrast ratio. */
function contrast(one: string, other: string) {
  const [lighter, darker] = [luminance(one), luminance(other)].sort((a, b) => b - a);
  return (lighter! + 0.05) / (darker! + 0.05);
}

test('the WCAG contrast ratio matches known pairs', (t) => {
  t.is(contrast('#000000', '#ffffff').toFixed(2), '21.00');
  t.is(contrast('#ffffff', '#ffffff').toFixed(2), '1.00');
  // The figures the issue reported for the old border and focus ring on white.
  t.is(contrast('#d9d4e6', '#ffffff').toFixed(2), '1.45');
  t.is(contrast('#f0a500', '#ffffff').toFixed(2), '2.08');
});

test('input borders and the focus ring keep 3:1 against the card and the page, in light and dark, as the stylesheet says', async (t) => {
  const css = await servedStylesheet(t);
  for (const [theme, colours] of Object.entries(themes(css))) {
    for (const edge of ['--control-border', '--focus']) {
      for (const ground of ['--card', '--bg']) {
        const [fore, back] = [colours[edge], colours[ground]];
        t.regex(fore ?? '', /^#[0-9a-f]{6}$/, `${theme} ${edge} is a #rrggbb colour`);
        t.regex(back ?? '', /^#[0-9a-f]{6}$/, `${theme} ${ground} is a #rrggbb colour`);
        const ratio = contrast(fore!, back!);
        t.true(ratio >= 3, `${theme}: ${edge} ${fore} on ${ground} ${back} is ${ratio.toFixed(2)}:1`);
        // The comment at the top of the stylesheet states each ratio, on the line of the edge's colour.
        const line = css.split('\n').find((text) => new RegExp(`${edge}\\s+${fore}:`).test(text)) ?? '';
        const said = new RegExp(`([\\d.]+):1 on ${ground}\\b`).exec(line)?.[1];
        t.is(
          said,
          ratio.toFixed(2),
          `the stylesheet's comment gives ${edge} on ${ground} (${theme}) as ${ratio.toFixed(2)}:1`,
        );
      }
    }
  }
  // The properties are what draws the edges: inputs and secondary buttons, and the focus ring.
  t.regex(css, /input\[type="url"\],\s*textarea\s*\{[^}]*border: 1px solid var\(--control-border\)/);
  t.regex(css, /\.button\s*\{[^}]*border: 1px solid var\(--control-border\)/);
  t.regex(css, /:focus-visible\s*\{[^}]*outline: 3px solid var\(--focus\)/);
  t.regex(css, /input,\s*button,\s*select,\s*textarea\s*\{\s*font: inherit;/, 'controls take the page font');
  t.regex(css, /:root\s*\{[^}]*accent-color: var\(--accent\)/, 'radio buttons and checkboxes in the brand colour');
});
