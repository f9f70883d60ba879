import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Router from '@koa/router';

type Asset = { body: Buffer; etag: string; type: string };

function asset(file: string | URL, type: string): Asset {
  const body = readFileSync(file);
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`, type };
}

// The SimpleWebAuthn browser bundle, as published (its UMD build defines `SimpleWebAuthnBrowser`).
const simpleWebAuthnBrowser = join(
  dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
  '../dist/bundle/index.umd.min.js',
);

// xterm.js and its fit add-on for the terminal page, as published (UMD builds: `Terminal`, `FitAddon`).
const fromPackage = (name: string, file: string) => join(dirname(createRequire(import.meta.url).resolve(name)), file);

const ASSETS: Record<string, Asset> = {
  '/assets/xterm.js': asset(fromPackage('@xterm/xterm', 'xterm.js'), 'text/javascript'),
  '/assets/xterm.css': asset(fromPackage('@xterm/xterm', '../css/xterm.css'), 'text/css'),
  '/assets/xterm-addon-fit.js': asset(fromPackage('@xterm/addon-fit', 'addon-fit.js'), 'text/javascript'),
  '/assets/terminal.js': asset(new URL('../../views/assets/terminal.js', import.meta.url), 'text/javascript'),
  '/assets/fairyid.css': asset(new URL('../../views/assets/fairyid.css', import.meta.url), 'text/css'),
  '/assets/account-nav.js': asset(new URL('../../views/assets/account-nav.js', import.meta.url), 'text/javascript'),
  '/assets/countdown.js': asset(new URL('../../views/assets/countdown.js', import.meta.url), 'text/javascript'),
  '/assets/passkeys.js': asset(new URL('../../views/assets/passkeys.js', import.meta.url), 'text/javascript'),
  '/assets/passkey-capable.js': asset(
    new URL('../../views/assets/passkey-capable.js', import.meta.url),
    'text/javascript',
  ),
  '/assets/backup-codes.js': asset(new URL('../../views/assets/backup-codes.js', import.meta.url), 'text/javascript'),
  '/assets/simplewebauthn-browser.js': asset(simpleWebAuthnBrowser, 'text/javascript'),
};

/** The stylesheet and the few scripts the pages use; served by us so the pages depend on no CDN. */
export function assetRoutes() {
  const router = new Router();
  for (const [path, { body, etag, type }] of Object.entries(ASSETS)) {
    router.get(path, (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.etag = etag;
      ctx.type = type;
      ctx.status = 200;
      if (ctx.fresh) {
        ctx.status = 304;
        return;
      }
      ctx.body = body;
    });
  }
  return router.routes();
}
