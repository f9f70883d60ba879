import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avaTest from 'ava';
import { callApi } from '../../helpers/api.ts';
import { signInByEmailCode } from '../../helpers/browser-sign-in.ts';
import { waitForState } from '../../helpers/environments.ts';
import { runningEnvironment, startTerminalServer } from '../../helpers/terminal-environment.ts';
import { VIEWPORTS, watchComplaints } from '../../helpers/viewport-pages.ts';

// Debian's chromium, and root for the local machines' own users.
const test = process.getuid?.() === 0 && existsSync('/usr/bin/chromium') ? avaTest.serial : avaTest.skip;

test('the terminal page of an environment that is not running shows the machine’s boot output in its log', async (t) => {
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
  // The page asks for a ticket, is told the environment is not running (409), and waits: that is all.
  t.deepEqual(
    complaints.filter((complaint) => !/\/terminal\/ticket answered 409$/.test(complaint)),
    [],
    'no CSP refusals or failed assets',
  );
});
