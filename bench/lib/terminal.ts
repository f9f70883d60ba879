// The terminal figures of `npm run bench` (issue 14): keystroke echo through the bridge, reconnect
// time with the bytes recovered, resident memory per open terminal session, and how many terminals
// one instance carries at 40 KB/s each. FairyID runs in this process with the `local` driver (a
// real sshd and tmux on this computer), and the clients are the tests' protocol client, so memory
// and CPU include the client side: they are upper bounds for the bridge alone.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLocalDriver } from '../../src/environments/local.driver.ts';
import { findSshd } from '../../src/environments/local-machine.ts';
import { openTerminal } from '../../test/helpers/terminal-client.ts';
import { percentile } from './report.ts';

export type TerminalReport = {
  echoMs: { p50: number; p95: number; samples: number };
  reconnect: { p50Ms: number; p95Ms: number; rounds: number; bytesRecovered: number; bytesLost: number };
  rssPerSessionKiB: number;
  allocatedPerSessionKiB: number;
  at40KBps: { carried: number; steps: { terminals: number; medianKBps: number; cpuPercent: number }[] };
};

type Log = (line: string) => void;
const wait = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until<T>(check: () => T | undefined | false, limitMs = 60_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('terminal bench: hung');
    await wait(2);
  }
}

/** Why the terminal phase cannot run here, or undefined when it can. */
export async function terminalUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (the local driver gives each machine its own user)';
  return findSshd().then(
    () => undefined,
    () => 'needs OpenSSH sshd (openssh-server)',
  );
}

export async function runTerminalBench(root: string, log: Log): Promise<TerminalReport> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-bench-terminal-'));
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let app: App | undefined;
  try {
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : { DATA_DIR: 'memory://' }),
      ISSUER: url,
      TEMPLATES_DIR: resolve(root, 'test/environments/templates'),
      ENVIRONMENT_RECONCILE_MS: '50',
      TERMINALS_PER_ENVIRONMENT: '1000',
      TERMINALS_PER_PERSON: '1000',
    });
    app = await createApp(config, undefined, { environmentDriver: driver });
    const running = app;
    server.on('request', running.koa.callback());
    server.on('upgrade', (req, socket, head) => void running.upgrade(req, socket, head));

    const { account } = await running.services.accounts.signInWithVerifiedEmail(`bench-${Date.now()}@example.com`);
    await running.services.ledger.grantSignup(account.id);
    const actor = { accountId: account.id, clientId: 'bench', origin: { ip: null, userAgent: null } };
    const created = await running.environments.service.create(
      actor,
      { name: 'bench', template: 'test-box' },
      { scope: 'bench', key: String(Date.now()) },
    );
    const id = created.environment.id;
    log('terminal: waiting for the local environment to run');
    for (let state = ''; state !== 'running'; await wait(100)) {
      state = (await running.environments.service.get(account.id, id)).state;
      if (state === 'error') throw new Error('the bench environment failed to start');
    }
    const open = async (tmux: string, options: Parameters<typeof openTerminal>[1] = {}) => {
      const ticket = await running.terminals.issueTicket({
        environmentId: id,
        accountId: account.id,
        clientId: 'bench',
        tmux,
      });
      const client = await openTerminal(ticket.url, options);
      await client.hello();
      return client;
    };

    // 1. Resident memory per open session (first, before other phases leave garbage behind): 50 more sessions, each with a connected viewer, measured
    // after a full collection on both sides so that garbage does not count.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await wait(500);
    gc();
    const rssBefore = process.memoryUsage().rss;
    const externalBefore = process.memoryUsage().external;
    const many = [];
    for (let i = 0; i < 50; i += 1) many.push(await open(`memory-${i}`));
    await wait(1000);
    gc();
    const rssPerSessionKiB = Math.round((process.memoryUsage().rss - rssBefore) / 50 / 1024);
    const external = process.memoryUsage().external;
    for (const client of many) client.ws.close();
    // Each ring is allocated up front (external memory) but only occupies pages as output fills it.
    const allocatedPerSessionKiB = Math.round((external - externalBefore) / 50 / 1024);
    log(`terminal: ${rssPerSessionKiB} KiB resident per open session (${allocatedPerSessionKiB} KiB allocated)`);

    // 2. Keystroke echo: one character typed, the time until the echo's bytes arrive.
    const echo = await open('echo');
    await quiet(() => echo.offset);
    const echoMs: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const before = echo.offset;
      const started = performance.now();
      echo.type('a');
      await until(() => echo.offset > before);
      echoMs.push(performance.now() - started);
      await quiet(() => echo.offset, 5);
    }
    echo.type('\u0015');
    log(`terminal: echo p50 ${percentile(echoMs, 50).toFixed(2)} ms, p95 ${percentile(echoMs, 95).toFixed(2)} ms`);

    // 3. Reconnect during output: time from the cut to `hello`, the bytes caught up, and any lost
    // (against a viewer that stays connected).
    const watcher = await open('reconnect');
    const watcherStart = (watcher.controls.find((message) => message.type === 'hello')?.from ?? 0) as number;
    const reconnectMs: number[] = [];
    let recovered = 0;
    let lost = 0;
    let typist = await open('reconnect');
    for (let round = 1; round <= 10; round += 1) {
      const start = typist.offset;
      typist.type('seq 1 20000\r');
      await until(() => typist.offset > start + 5_000);
      typist.ws.terminate();
      await typist.closedPromise;
      const cutAt = typist.offset;
      const hello = typist.controls.find((message) => message.type === 'hello');
      const started = performance.now();
      const resumed = await open('reconnect', {
        session: hello?.session,
        offset: cutAt,
        inputStream: typist.inputStream,
      });
      reconnectMs.push(performance.now() - started);
      const again = resumed.controls.find((message) => message.type === 'hello');
      recovered += (again?.offset ?? cutAt) - cutAt;
      // tmux sends only the cells that changed, so the marker need not arrive as one string: the
      // round is over when the output has been still for a while.
      await quiet(() => resumed.offset, 500);
      await until(() => watcher.offset >= resumed.offset);
      const reference = watcher.bytes().subarray(cutAt - watcherStart, resumed.offset - watcherStart);
      if (!resumed.bytes().equals(reference)) lost += Math.abs(reference.length - resumed.bytes().length) || 1;
      typist = resumed;
    }
    log(
      `terminal: reconnect p95 ${percentile(reconnectMs, 95).toFixed(0)} ms, ${recovered} bytes recovered, ${lost} lost`,
    );
    for (const client of [echo, watcher, typist]) client.ws.close();

    // 4. Terminals at 40 KB/s each: ten 4000-byte lines a second per terminal. One terminal alone
    // gives the rate the generator reaches through tmux; more terminals per step until the median
    // falls below 90% of that or this process uses a whole core.
    const steps: TerminalReport['at40KBps']['steps'] = [];
    let carried = 0;
    let alone = 0;
    for (const count of [1, 10, 20, 40, 80]) {
      const clients = [];
      for (let i = 0; i < count; i += 1) {
        const client = await open(`rate-${count}-${i}`, { cols: 200, rows: 50 });
        // One fork per line (sleep): the line itself is a shell variable.
        client.type(
          'stty -echo; s=$(head -c 3999 /dev/zero | tr \'\\0\' x); while :; do echo "$s"; sleep 0.098; done\r',
        );
        clients.push(client);
      }
      await wait(2000);
      const from = clients.map((client) => client.offset);
      const cpu = process.cpuUsage();
      const started = performance.now();
      await wait(5000);
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const rates = clients.map((client, i) => (client.offset - (from[i] ?? 0)) / 1000 / seconds);
      const medianKBps = percentile(rates, 50);
      const cpuPercent = ((used.user + used.system) / 1e6 / seconds) * 100;
      steps.push({ terminals: count, medianKBps: Math.round(medianKBps), cpuPercent: Math.round(cpuPercent) });
      log(
        `terminal: ${count} terminals at 40 KB/s: median ${medianKBps.toFixed(1)} KB/s delivered, CPU ${cpuPercent.toFixed(0)}%`,
      );
      for (const client of clients) client.ws.close();
      if (count === 1) alone = medianKBps;
      if (medianKBps < alone * 0.9 || cpuPercent > 90) break;
      carried = count;
    }
    return {
      echoMs: { p50: percentile(echoMs, 50), p95: percentile(echoMs, 95), samples: echoMs.length },
      reconnect: {
        p50Ms: percentile(reconnectMs, 50),
        p95Ms: percentile(reconnectMs, 95),
        rounds: reconnectMs.length,
        bytesRecovered: recovered,
        bytesLost: lost,
      },
      rssPerSessionKiB,
      allocatedPerSessionKiB,
      at40KBps: { carried, steps },
    };
  } finally {
    await app?.terminals.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await app?.close();
    await driver.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Waits until `offset()` has not moved for `ms` (the prompt has been drawn, the echo has settled). */
async function quiet(offset: () => number, ms = 200) {
  let last = offset();
  let since = Date.now();
  while (Date.now() - since < ms) {
    await wait(Math.min(ms, 20));
    if (offset() !== last) {
      last = offset();
      since = Date.now();
    }
  }
}

export function terminalReportText(report: TerminalReport): string {
  const { echoMs, reconnect, at40KBps } = report;
  return [
    'terminal (FairyID in the bench process, local driver: sshd and tmux on this computer)',
    `  keystroke echo through the bridge: p50 ${echoMs.p50.toFixed(2)} ms, p95 ${echoMs.p95.toFixed(2)} ms (${echoMs.samples} keystrokes)`,
    `  reconnect during output: p50 ${reconnect.p50Ms.toFixed(0)} ms, p95 ${reconnect.p95Ms.toFixed(0)} ms over ${reconnect.rounds} cuts ` +
      `(goal p95 <= 2000 ms: ${reconnect.p95Ms <= 2000 ? 'met' : 'MISSED'}); ${reconnect.bytesRecovered} bytes recovered, ` +
      `${reconnect.bytesLost} lost (goal 0: ${reconnect.bytesLost === 0 ? 'met' : 'MISSED'})`,
    `  memory per open session (bridge and client together): ${report.rssPerSessionKiB} KiB resident, ` +
      `${report.allocatedPerSessionKiB} KiB allocated (the 2 MiB ring occupies pages only as output fills it)`,
    `  terminals at 40 KB/s each (within 90% of one terminal alone): ${at40KBps.carried} carried (${at40KBps.steps
      .map((step) => `${step.terminals}: ${step.medianKBps} KB/s median, CPU ${step.cpuPercent}%`)
      .join('; ')})`,
  ].join('\n');
}
