import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avaTest from 'ava';
import { createLocalDriver } from '../../../src/environments/local.driver.ts';
import { signInByEmailCode } from '../../helpers/browser-sign-in.ts';
import { environmentStorage, startEnvironmentServer } from '../../helpers/environments.ts';
import { until } from '../../helpers/machines.ts';
import { startTcpProxy } from '../../helpers/tcp-proxy.ts';
import { runningEnvironment } from '../../helpers/terminal-environment.ts';
import { VIEWPORTS, watchComplaints } from '../../helpers/viewport-pages.ts';

const asRoot = process.getuid?.() === 0;
// Debian's chromium, and root for the local machines' own users.
const test = asRoot && existsSync('/usr/bin/chromium') ? avaTest.serial : avaTest.skip;

type Socket = { sent: (string | Buffer)[]; received: (string | Buffer)[] };
const controls = (frames: (string | Buffer)[]) =>
  frames.filter((frame): frame is string => typeof frame === 'string').map((frame) => JSON.parse(frame));
const outputFrames = (frames: (string | Buffer)[]) =>
  frames
    .filter((frame): frame is Buffer => typeof frame !== 'string')
    .map((frame) => ({ offset: Number(frame.readBigUInt64BE(0)), data: frame.subarray(8) }));

test('the terminal page reconnects by itself after its connection drops and loses no output', async (t) => {
  // The browser reaches FairyID through a relay the test can cut, as a phone's network drops.
  const proxy = await startTcpProxy(t);
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-terminal-reconnect-'));
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const direct = await startEnvironmentServer(
    { ...(await environmentStorage(t)), TERMINAL_CHECK_MS: '100' },
    { driver },
    { issuer: proxy.url },
  );
  t.teardown(async () => {
    await direct.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  proxy.forwardTo(Number(new URL(direct.url).port));
  const server = { ...direct, url: proxy.url };
  const email = 'commuter@example.com';
  const environment = await runningEnvironment(server, email);

  const page = await VIEWPORTS.phone.open(t);
  const complaints = watchComplaints(page);
  const sockets: Socket[] = [];
  page.on('websocket', (ws) => {
    const socket: Socket = { sent: [], received: [] };
    sockets.push(socket);
    ws.on('framesent', (frame) => socket.sent.push(frame.payload));
    ws.on('framereceived', (frame) => socket.received.push(frame.payload));
  });
  await page.goto(`${server.url}/account/environments/${environment.id}/terminal`);
  await signInByEmailCode(server, page, email);
  await page.waitForURL(/\/terminal$/);
  const status = page.locator('#terminal-status');
  await status.filter({ hasText: 'connected' }).waitFor();

  // Numbers printed over a few seconds, compact enough to stay on the screen whole.
  await page.locator('.xterm').click();
  await page.keyboard.type('for i in $(seq 1 200); do printf "%d," $i; sleep 0.01; done; echo "END-$((40+2))"');
  await page.keyboard.press('Enter');
  await until(
    () =>
      outputFrames(sockets[0]?.received ?? []).some((frame) => frame.data.toString('latin1').includes('60,')) ||
      undefined,
    'the numbers to start arriving',
  );
  t.is(proxy.cutWebSockets(), 1, 'the connection drops mid-output');

  await until(() => (sockets.length >= 2 ? true : undefined), 'a new connection');
  await status.filter({ hasText: 'connected' }).waitFor();
  const rows = page.locator('.xterm-rows');
  await rows.filter({ hasText: 'END-42' }).waitFor();

  const first = sockets[0]!;
  const second = sockets[1]!;
  const [hello] = controls(first.received).filter((message) => message.type === 'hello');
  const lastFrame = outputFrames(first.received).at(-1)!;
  const seen = lastFrame.offset + lastFrame.data.length;
  const [resume] = controls(second.sent);
  t.like(resume, { type: 'resume', session: hello.session, offset: seen }, 'it resumes where its output stopped');
  const [again] = controls(second.received).filter((message) => message.type === 'hello');
  t.like(again, { session: hello.session, from: seen }, 'the server has every byte after it');
  t.deepEqual(
    controls(second.received).filter((message) => message.type === 'redraw'),
    [],
    'no redraw: the missing bytes themselves',
  );
  t.is(outputFrames(second.received)[0]?.offset, seen, 'output continues at the very next byte');
  const screen = (await rows.innerText()).replace(/\s+/g, '');
  const numbers = Array.from({ length: 200 }, (_, i) => `${i + 1},`).join('');
  t.true(screen.includes(`${numbers}END-42`), 'the screen shows every number once, in order');
  t.deepEqual(complaints, []);
});
