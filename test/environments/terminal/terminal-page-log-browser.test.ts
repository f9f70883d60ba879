import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avaTest from 'ava';
import { accessibilityFindings } from '../../helpers/accessibility.ts';
import { callApi } from '../../helpers/api.ts';
import { SCREENSHOTS } from '../../helpers/browser.ts';
import { signInByEmailCode } from '../../helpers/browser-sign-in.ts';
import { waitForState } from '../../helpers/environments.ts';
import { runningEnvironment, startTerminalServer } from '../../helpers/terminal-environment.ts';
import { VIEWPORTS, watchComplaints } from '../../helpers/viewport-pages.ts';

// Debian's chromium, and root for the local machines' own users.
const test = process.getuid?.() === 0 && existsSync('/usr/bin/chromium') ? avaTest.serial : avaTest.skip;

test('the terminal page of an environment that is not running shows the machine’s boot output in its log, in the page’s language', async (t) => {
  const templates = await mkdtemp(join(tmpdir(), 'fairyid-log-templates-'));
  t.teardown(() => rm(templates, { recursive: true, force: true }));
  await writeFile(
    join(templates, 'test-box.yaml'),
    JSON.stringify({
      name: 'Test box',
      description: 'Prints while it boots.',
      image: 'debian-12-x64',
      default_tier: 'free',
      user_data: { runcmd: ['echo "compiling the world"', 'echo "all done: $((6*7))"'] },
    }),
  );
  const { server } = await startTerminalServer(t, { env: { TEMPLATES_DIR: templates } });
  const email = 'log-page@example.com';
  const environment = await runningEnvironment(server, email);
  t.is((await callApi(server, environment.token, 'POST', `/api/environments/${environment.id}/stop`)).status, 202);
  await waitForState(server, environment.token, environment.id, 'stopped');

  const page = await VIEWPORTS.phone.open(t);
  const complaints = watchComplaints(page);
  await page.goto(`${server.url}/account/environments/${environment.id}/terminal`);
  await signInByEmailCode(server, page, email);
  await page.waitForURL(/\/terminal$/);
  const log = page.locator('#terminal-log');
  await log.filter({ hasText: 'Stopped' }).waitFor();
  const text = await log.innerText();
  t.regex(text, /^compiling the world\nall done: 42$/m, 'the output lines as the machine printed them');
  t.regex(text, /^\d\d:\d\d:\d\d Ready: /m, 'the trail’s steps with their time');
  t.true(text.indexOf('compiling the world') < text.indexOf('Stopped'));
  // The log as the page first shows it, empty until its stream's first line: axe-core's checks on
  // load may not meet that moment, so it is put back and checked here.
  await page.evaluate("document.getElementById('terminal-log').textContent = ''");
  t.deepEqual(await accessibilityFindings(page), [], 'the shown, still empty log passes axe-core');
  // The page asks for a ticket, is told the environment is not running (409), and waits: that is all.
  t.deepEqual(
    complaints.filter((complaint) => !/\/terminal\/ticket answered 409$/.test(complaint)),
    [],
    'no CSP refusals or failed assets',
  );

  // A browser that asks for French reads FairyID's steps in French; the machine's output stays as printed.
  const french = await VIEWPORTS.desktop.open(t);
  await french.context().setExtraHTTPHeaders({ 'accept-language': 'fr-FR,fr;q=0.9' });
  const frenchComplaints = watchComplaints(french);
  await french.goto(`${server.url}/account/environments/${environment.id}/terminal`);
  await signInByEmailCode(server, french, email);
  await french.waitForURL(/\/terminal$/);
  t.is(await french.getAttribute('html', 'lang'), 'fr');
  const frenchLog = french.getByLabel('Journal de mise en place');
  await frenchLog.filter({ hasText: 'Arrêté\u202f: machine supprimée' }).waitFor();
  const lines = (await frenchLog.innerText()).split('\n');
  t.true(
    lines.some((line) => /^\d\d:\d\d:\d\d Demandé à partir du modèle Test box, taille \w+, région \S+$/.test(line)),
  );
  t.true(lines.some((line) => /^\d\d:\d\d:\d\d Machine demandée au fournisseur$/.test(line)));
  t.true(lines.some((line) => /^\d\d:\d\d:\d\d Prêt\u202f: la machine a signalé la fin de cloud-init$/.test(line)));
  t.true(lines.some((line) => /^\d\d:\d\d:\d\d Arrêt demandé$/.test(line)));
  t.true(lines.includes('compiling the world') && lines.includes('all done: 42'), 'the machine’s lines as printed');
  const steps = lines.filter((line) => /^\d\d:\d\d:\d\d /.test(line));
  t.false(
    steps.some((line) => /Ready|Stopped|Requested|requested/.test(line)),
    `no English step is left: ${steps.join(' | ')}`,
  );
  await french.screenshot({ path: `${SCREENSHOTS}terminal-log-fr-desktop.png`, fullPage: true });
  t.deepEqual(
    frenchComplaints.filter((complaint) => !/\/terminal\/ticket answered 409$/.test(complaint)),
    [],
  );
});
