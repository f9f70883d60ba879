// npm run bench -- [--reps N] [--duration S] [--connections C] [--target URL] ...   (see bench/README.md)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runExpiredRows, type ExpiredRowsReport } from './lib/expired-rows.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { parseOptions, USAGE, type Options } from './lib/options.ts';
import { describeTokens } from './lib/preflight.ts';
import {
  expiredRowsReport,
  median,
  memoryLine,
  percentile,
  scenarioTable,
  signInTable,
  breakdownTable,
  type MemoryReport,
  type ScenarioRow,
} from './lib/report.ts';
import { SCENARIOS, SCENARIO_NAMES, type Prepared, type Scenario } from './lib/scenarios.ts';
import { Cleanups } from './lib/servers.ts';
import { cpuSeconds } from './lib/processes.ts';
import { externalTarget, startLocalTargets } from './lib/setup.ts';
import { runSignInFlows, signInBreakdown, type FlowResult, type FlowStep } from './lib/signin.ts';
import type { Target } from './lib/target.ts';
import { runTerminalBench, type TerminalReport, terminalReportText, terminalUnavailable } from './lib/terminal.ts';

/** How long each server's idle CPU is sampled, before the repetitions. */
const IDLE_SAMPLE_MS = 5_000;

const ROOT = resolve(import.meta.dirname, '..');
const SIGN_IN_CONCURRENCY = [1, 8];
/** --instances: what the scale-out check measures unless --only says otherwise. */
const INSTANCE_SCENARIOS = ['client_credentials', 'refresh'];
/** token_after_expired_rows: the refresh grant may slow down by at most 10%. */
const EXPIRED_ROWS_GOAL = 0.9;

const log = (line: string) => process.stderr.write(`${line}\n`);

const options = parseOptions(process.argv.slice(2));
if (!options) {
  console.log(USAGE);
  process.exit(0);
}
for (const name of options.only ?? []) {
  if (!SCENARIO_NAMES.includes(name))
    throw new Error(`unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(', ')})`);
}

if (options.instances > 1 && !(process.env.DATABASE_URL && process.env.REDIS_URL)) {
  console.error(
    `--instances ${options.instances} needs DATABASE_URL and REDIS_URL: the instances share state only through Postgres and Redis ` +
      '(the embedded database admits one process, and in-process memory is per process).',
  );
  process.exit(2);
}

const cleanups = new Cleanups();
process.once('SIGINT', () => {
  log('\ninterrupted; cleaning up');
  void cleanups.run().finally(() => process.exit(130));
});
try {
  await main(options);
} finally {
  await cleanups.run();
}

/** serverCpuPercent: CPU time of the target's server process(es) over the run's wall time (100 = one core). */
type Run = {
  rep: number;
  scenario: string;
  target: string;
  serverCpuPercent?: number;
  serverCpuUsPerRequest?: number;
} & LoadResult;
/** serverCpuMsPerFlow: the server's CPU time over the run, net of its idle CPU, per completed flow. */
type Flows = { rep: number; target: string; serverCpuMsPerFlow?: number } & FlowResult;

async function main(options: Options) {
  const startedAt = new Date();
  if (options.only?.size === 1 && options.only.has('terminal')) return terminalOnly(startedAt);
  const selected = options.only ?? (options.instances > 1 ? new Set(INSTANCE_SCENARIOS) : undefined);
  const wants = (name: string) => !selected || selected.has(name);
  const scenarios = SCENARIOS.filter((scenario) => wants(scenario.name));
  const setup = options.target
    ? await externalTarget(options, log)
    : await startLocalTargets(options, ROOT, cleanups, log);
  const { targets } = setup;
  const primary = targets[0]!;
  // The complete sign-in and the expired-rows phase are about one FairyID, not the scale-out check.
  const single = options.instances === 1;
  // Every FairyID build that can sign in (FairyID-B too, with BENCH_COMPARE_ROOT); the first one's
  // flows are checked against the goals and timed request by request.
  const signInTargets = single && wants('signin') ? targets.filter((target) => target.signIn) : [];
  const signInTarget = signInTargets[0];
  const expiredRowsWanted = single && !options.target && wants('token_after_expired_rows');

  const tokenShapes: Record<string, string> = {};
  for (const target of targets.filter((candidate) => candidate.kind !== 'hello')) {
    tokenShapes[target.name] = await describeTokens(target);
    log(`${target.name} issues: ${tokenShapes[target.name]}`);
  }
  const prepared = new Map<Target, Prepared>(
    targets.map((target) => [target, { target, accessTokens: [], refreshTokens: [] }]),
  );
  const load = { connections: options.connections };

  if (options.warmup > 0) {
    log(`\nwarm-up: ${options.warmup}s per scenario and server (not recorded)`);
    for (const scenario of scenarios) {
      for (const target of targets.filter((candidate) => !scenario.unavailable(candidate))) {
        await prepareFor(prepared.get(target)!, scenario, options.connections);
        await runLoad(scenario.spec(prepared.get(target)!), { ...load, duration: options.warmup, ...spreadOf(target) });
      }
    }
    for (const target of signInTargets) await runSignInFlows(target, 1, options.warmup);
  }

  // What each server burns with no request in flight (timers, the sweeper, the metrics): taken off
  // the CPU per request below, which otherwise inflates at the low rates of a busy machine.
  const idleCpu = new Map<Target, number>();
  for (const target of targets) {
    const idle = cpuMeter(target);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
    const used = idle();
    if (used) idleCpu.set(target, used.seconds / used.elapsedS);
  }
  // A run's server CPU seconds net of what the server burns idle (undefined where /proc is not readable).
  const netCpuSeconds = (target: Target, used: ReturnType<ReturnType<typeof cpuMeter>>) =>
    used && Math.max(0, used.seconds - (idleCpu.get(target) ?? 0) * used.elapsedS);
  log(
    `\nidle server CPU: ${[...idleCpu].map(([target, perSecond]) => `${target.name} ${(perSecond * 100).toFixed(1)}%`).join(', ')}`,
  );
  log(
    `\n${options.reps} repetitions x ${options.duration}s per scenario and server, ${options.connections} connections`,
  );
  const runs: Run[] = [];
  const flows: Flows[] = [];
  for (let rep = 1; rep <= options.reps; rep += 1) {
    // Interleaved: every scenario on every server within a repetition, alternating which server goes
    // first, so drift (other load on the machine, a growing database) touches both alike.
    const order = rep % 2 ? targets : [...targets].reverse();
    for (const scenario of scenarios) {
      for (const target of order.filter((candidate) => !scenario.unavailable(candidate))) {
        const state = prepared.get(target)!;
        await prepareFor(state, scenario, options.connections);
        const cpu = cpuMeter(target);
        const result = await runLoad(scenario.spec(state), {
          ...load,
          duration: options.duration,
          ...spreadOf(target),
        });
        const used = cpu();
        const serverCpuPercent = used?.percent;
        // CPU time per served request: steadier than req/s on a busy machine, where the servers wait
        // for a core (the server's CPU time over the run, divided by the responses counted as OK).
        // Net of the server's idle CPU.
        const net = netCpuSeconds(target, used);
        const serverCpuUsPerRequest = net === undefined || !result.ok ? undefined : (net * 1e6) / result.ok;
        runs.push({
          rep,
          scenario: scenario.name,
          target: target.name,
          ...result,
          ...(serverCpuPercent === undefined ? {} : { serverCpuPercent }),
          ...(serverCpuUsPerRequest === undefined ? {} : { serverCpuUsPerRequest }),
        });
        const failures = result.failed ? `  non-OK ${result.failed}, first: ${result.firstFailure}` : '';
        const cpuText =
          serverCpuPercent === undefined
            ? ''
            : `  server CPU ${serverCpuPercent.toFixed(0)}%` +
              (serverCpuUsPerRequest === undefined ? '' : ` = ${serverCpuUsPerRequest.toFixed(0)} µs/req`);
        log(
          `[rep ${rep}] ${scenario.name.padEnd(18)} ${target.name.padEnd(10)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${result.latencyMs.p99} ms${cpuText}${failures}`,
        );
      }
    }
    for (const concurrency of SIGN_IN_CONCURRENCY) {
      for (const target of order.filter((candidate) => signInTargets.includes(candidate))) {
        const cpu = cpuMeter(target);
        const result = await runSignInFlows(target, concurrency, options.duration);
        const net = netCpuSeconds(target, cpu());
        const serverCpuMsPerFlow = net === undefined || !result.flows ? undefined : (net * 1e3) / result.flows;
        flows.push({
          rep,
          target: target.name,
          ...result,
          ...(serverCpuMsPerFlow === undefined ? {} : { serverCpuMsPerFlow }),
        });
        const failures = result.failed ? `  failed ${result.failed}, first: ${result.firstFailure}` : '';
        const cpuText = serverCpuMsPerFlow === undefined ? '' : `  server CPU ${serverCpuMsPerFlow.toFixed(1)} ms/flow`;
        log(
          `[rep ${rep}] ${`signin x${concurrency}`.padEnd(18)} ${target.name.padEnd(10)} ${result.flowsPerSec.toFixed(1).padStart(6)} flows/s${cpuText}${failures}`,
        );
      }
    }
  }
  // One more flow, alone, timed request by request: where a sign-in's time goes.
  const breakdown: FlowStep[] | undefined = signInTarget ? await signInBreakdown(signInTarget) : undefined;
  // Read before the expired-rows phase, which stops FairyID.
  const memory: MemoryReport = Object.fromEntries(setup.processes.map((server) => [server.name, server.memory()]));

  let expiredRows: ExpiredRowsReport | { skipped: string } | undefined;
  if (expiredRowsWanted) {
    // A failure here must not cost the results of the repetitions.
    expiredRows = await expiredRowsPhase(
      setup.storage?.env.DATABASE_URL,
      primary,
      prepared.get(primary)!,
      options,
    ).catch((error: unknown) => ({ skipped: `failed: ${error instanceof Error ? error.message : String(error)}` }));
  }

  // The terminal runs its own FairyID in this process (a local sshd per environment), after the rest.
  let terminal: TerminalReport | { skipped: string } | undefined;
  if (single && !options.target && wants('terminal')) {
    const unavailable = await terminalUnavailable();
    terminal = unavailable
      ? { skipped: unavailable }
      : await runTerminalBench(ROOT, log).catch((error: unknown) => ({
          skipped: `failed: ${error instanceof Error ? error.message : String(error)}`,
        }));
  }

  const rows = scenarios.map((scenario) => summarize(scenario, runs, primary, targets));
  const withBaseline = targets.length > 1;
  console.log(`\n${scenarioTable(rows, { a: primary.name, withBaseline })}`);
  console.log(
    `(req/s: 2xx responses that passed the scenario's check, per second; CPU %: median CPU use of the server process(es) during ` +
      `the runs, ${primary.name}/baseline, 100 = one core; non-OK: the other responses, over all repetitions)`,
  );
  if (withBaseline && single) {
    console.log(
      '(baselines: reference = bare oidc-provider with the same protocol configuration; koa-hello = bare Koa "hello world")',
    );
  }
  if (expiredRows && 'skipped' in expiredRows)
    console.log(`\ntoken_after_expired_rows: skipped (${expiredRows.skipped})`);
  else if (expiredRows) console.log(`\ntoken_after_expired_rows\n${expiredRowsReport(expiredRows, EXPIRED_ROWS_GOAL)}`);
  for (const target of signInTargets) {
    const mine = flows.filter((flow) => flow.target === target.name);
    console.log(
      `\ncomplete passwordless sign-in, ${target.name} (wall time per flow on loopback, approximating server time)`,
    );
    console.log(
      signInTable(new Map(SIGN_IN_CONCURRENCY.map((c) => [c, mine.filter((flow) => flow.concurrency === c)]))),
    );
    if (target === signInTarget) console.log(signInGoals(mine));
  }
  if (signInTarget) {
    if (breakdown)
      console.log(
        `\none sign-in, request by request (ms to the response headers / to its end)\n${breakdownTable(breakdown)}`,
      );
  }
  if (terminal && 'skipped' in terminal) console.log(`\nterminal: skipped (${terminal.skipped})`);
  else if (terminal) console.log(`\n${terminalReportText(terminal)}`);
  if (Object.keys(memory).length) console.log(`\n${memoryLine(memory)}`);
  const [fairyMemory, referenceMemory] = [memory.FairyID, memory.reference];
  if (fairyMemory && referenceMemory) {
    const ratio = fairyMemory.rssKiB / referenceMemory.rssKiB;
    // Without DATABASE_URL the embedded PGlite lives inside FairyID's process and its memory.
    const embedded = process.env.DATABASE_URL
      ? ''
      : " (embedded PGlite is part of FairyID's memory: not comparable; use DATABASE_URL)";
    console.log(
      `FairyID/reference VmRSS ${ratio.toFixed(2)}x (goal <= 1.2x: ${ratio <= 1.2 ? 'met' : 'MISSED'}); ` +
        `peak ${(fairyMemory.peakKiB / referenceMemory.peakKiB).toFixed(2)}x${embedded}`,
    );
  }
  console.log(`environment: ${setup.description}`);

  const file = join(ROOT, 'bench/results', `${startedAt.toISOString().replaceAll(':', '-')}.json`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const raw = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    // Client secrets stay out of the file.
    options: { ...options, only: options.only && [...options.only], machineClient: undefined, webClient: undefined },
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadavgAtEnd: loadavg(),
      ...setup.environment,
      tokenShapes,
    },
    summary: rows,
    runs,
    signIn: flows,
    signInBreakdown: breakdown,
    memory,
    expiredRows,
    terminal,
  };
  writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`);
  console.log(`raw results: ${file}`);
}

/** `--only terminal`: the terminal phase alone, without starting the HTTP targets. */
async function terminalOnly(startedAt: Date) {
  const unavailable = await terminalUnavailable();
  if (unavailable) return console.log(`terminal: skipped (${unavailable})`);
  const terminal = await runTerminalBench(ROOT, log);
  console.log(`\n${terminalReportText(terminal)}`);
  const file = join(ROOT, 'bench/results', `${startedAt.toISOString().replaceAll(':', '-')}-terminal.json`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), terminal }, null, 2)}\n`);
  console.log(`raw results: ${file}`);
}

/** The issue's goals for the complete sign-in: p50 <= 30 ms and p99 < 200 ms at 1 flow, >= 100 flows/s at 8. */
function signInGoals(flows: Flows[]): string {
  const at = (concurrency: number) => flows.filter((flow) => flow.concurrency === concurrency);
  const single = at(1).flatMap((flow) => flow.timesMs);
  const p50 = percentile(single, 50);
  const p99 = percentile(single, 99);
  const rate = median(at(8).map((flow) => flow.flowsPerSec));
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  return (
    `goals: 1 flow p50 <= 30 ms: ${verdict(p50 <= 30)}; 1 flow p99 < 200 ms: ${verdict(p99 < 200)}; ` +
    `8 flows >= 100 flows/s: ${verdict(rate >= 100)}`
  );
}

/** FairyID (the first target) against the scenario's baseline: the first other target that can run it. */
function summarize(scenario: Scenario, runs: Run[], primary: Target, targets: Target[]): ScenarioRow {
  const of = (target: Target | undefined) =>
    runs.filter((run) => run.scenario === scenario.name && run.target === target?.name);
  const baseline = targets.find((target) => target !== primary && !scenario.unavailable(target));
  const primaryReason = scenario.unavailable(primary);
  const baselineReason =
    targets.length > 1 && !baseline
      ? targets
          .filter((target) => target !== primary)
          .map((target) => `${target.name}: ${scenario.unavailable(target)}`)
          .join('; ')
      : undefined;
  const skipped = [primaryReason && `${primary.name}: ${primaryReason}`, baselineReason].filter(Boolean);
  return {
    scenario: scenario.name,
    fairy: of(primary).map((run) => run.reqPerSec),
    reference: of(baseline).map((run) => run.reqPerSec),
    ...(baseline ? { baseline: baseline.name } : {}),
    ...(scenario.goal !== undefined && primary.kind === 'fairy' && baseline && baseline.kind !== 'fairy'
      ? { goal: scenario.goal }
      : {}),
    fairyCpu: of(primary).flatMap((run) => (run.serverCpuPercent === undefined ? [] : [run.serverCpuPercent])),
    referenceCpu: of(baseline).flatMap((run) => (run.serverCpuPercent === undefined ? [] : [run.serverCpuPercent])),
    fairyFailed: of(primary).reduce((sum, run) => sum + run.failed, 0),
    referenceFailed: of(baseline).reduce((sum, run) => sum + run.failed, 0),
    ...(skipped.length ? { note: `skipped (${skipped.join('; ')})` } : {}),
  };
}

/** Starts measuring the CPU time of the target's server processes; the returned function stops it. */
function cpuMeter(target: Target): () => { percent: number; seconds: number; elapsedS: number } | undefined {
  const servers = target.servers ?? (target.process ? [target.process] : []);
  const read = () => {
    const values = servers.map((server) => cpuSeconds(server.pid));
    return values.length && values.every((value) => value !== undefined)
      ? values.reduce((sum, value) => sum! + value!, 0)!
      : undefined;
  };
  const startCpu = read();
  const started = performance.now();
  return () => {
    const endCpu = read();
    if (startCpu === undefined || endCpu === undefined) return undefined;
    const seconds = endCpu - startCpu;
    const elapsedS = (performance.now() - started) / 1000;
    return { percent: (seconds / elapsedS) * 100, seconds, elapsedS };
  };
}

function spreadOf(target: Target) {
  return target.origins && target.origins.length > 1 ? { spread: { base: target.url, origins: target.origins } } : {};
}

/** token_after_expired_rows (see bench/lib/expired-rows.ts): FairyID on Postgres only. */
async function expiredRowsPhase(databaseUrl: string | undefined, fairy: Target, state: Prepared, options: Options) {
  if (!databaseUrl) {
    const skipped =
      'needs DATABASE_URL: the expired rows go into a real Postgres table (embedded PGlite is not what deployments run)';
    log(`\ntoken_after_expired_rows skipped: ${skipped}`);
    return { skipped };
  }
  const refresh = SCENARIOS.find((scenario) => scenario.name === 'refresh')!;
  if (refresh.unavailable(fairy)) return { skipped: refresh.unavailable(fairy)! };
  return runExpiredRows({
    databaseUrl,
    reps: options.reps,
    duration: options.duration,
    refreshRun: async () => {
      await prepareFor(state, refresh, options.connections);
      return runLoad(refresh.spec(state), { connections: options.connections, duration: options.duration });
    },
    stopFairyId: async () => {
      if (fairy.process) await fairy.process.stop();
    },
    log,
  });
}

/**
 * Makes the tokens a scenario needs before its timed run: access tokens once, and the refresh queue
 * refilled (a chain is lost whenever a run stops with its request in flight). A target whose tokens
 * do not survive other scenarios' load (`volatileTokens`) gets all of them fresh before every run.
 */
async function prepareFor(state: Prepared, scenario: Scenario, connections: number) {
  const { target } = state;
  await scenario.prepare?.(state);
  const need = scenario.tokensNeeded?.(connections);
  if (!need || !target.mintTokens) return;
  if (target.volatileTokens) {
    state.accessTokens = [];
    state.refreshTokens = [];
  }
  const began = Date.now();
  const access = need.access - state.accessTokens.length;
  if (access > 0) state.accessTokens.push(...(await target.mintTokens(access)).map((pair) => pair.access_token));
  const refresh = need.refresh - state.refreshTokens.length;
  if (refresh > 0) state.refreshTokens.push(...(await target.mintTokens(refresh)).map((pair) => pair.refresh_token));
  if (!target.volatileTokens && (access > 0 || refresh > 0)) {
    const made = [access > 0 ? `${access} access` : '', refresh > 0 ? `${refresh} refresh` : '']
      .filter(Boolean)
      .join(' + ');
    log(`${target.name}: ${made} tokens prepared in ${((Date.now() - began) / 1000).toFixed(1)}s (untimed)`);
  }
}
