// npm run bench -- [--reps N] [--duration S] [--connections C] [--target URL] ...   (see bench/README.md)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runLoad, type LoadResult } from './lib/load.ts';
import { parseOptions, USAGE, type Options } from './lib/options.ts';
import { describeTokens } from './lib/preflight.ts';
import { memoryLine, scenarioTable, signInTable, type MemoryReport, type ScenarioRow } from './lib/report.ts';
import { SCENARIOS, SCENARIO_NAMES, type Prepared, type Scenario } from './lib/scenarios.ts';
import { Cleanups } from './lib/servers.ts';
import { externalTarget, startLocalTargets } from './lib/setup.ts';
import { runSignInFlows, type FlowResult } from './lib/signin.ts';
import type { Target } from './lib/target.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SIGN_IN_CONCURRENCY = [1, 8];

const log = (line: string) => process.stderr.write(`${line}\n`);

const options = parseOptions(process.argv.slice(2));
if (!options) {
  console.log(USAGE);
  process.exit(0);
}
for (const name of options.only ?? []) {
  if (!SCENARIO_NAMES.includes(name)) throw new Error(`unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(', ')})`);
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

type Run = { rep: number; scenario: string; target: string } & LoadResult;
type Flows = { rep: number } & FlowResult;

async function main(options: Options) {
  const startedAt = new Date();
  const scenarios = SCENARIOS.filter((scenario) => !options.only || options.only.has(scenario.name));
  const setup = options.target ? await externalTarget(options, log) : await startLocalTargets(options, ROOT, cleanups, log);
  const { targets } = setup;
  const signInTarget = !options.only || options.only.has('signin') ? targets.find((target) => target.signIn) : undefined;

  const tokenShapes: Record<string, string> = {};
  for (const target of targets) {
    tokenShapes[target.name] = await describeTokens(target);
    log(`${target.name} issues: ${tokenShapes[target.name]}`);
  }
  const prepared = new Map<Target, Prepared>(targets.map((target) => [target, { target, accessTokens: [], refreshTokens: [] }]));
  const load = { connections: options.connections };

  if (options.warmup > 0) {
    log(`\nwarm-up: ${options.warmup}s per scenario and server (not recorded)`);
    for (const scenario of scenarios) {
      for (const target of targets.filter((candidate) => !scenario.unavailable(candidate))) {
        await prepareFor(prepared.get(target)!, scenario, options.connections);
        await runLoad(scenario.spec(prepared.get(target)!), { ...load, duration: options.warmup });
      }
    }
    if (signInTarget) await runSignInFlows(signInTarget, 1, options.warmup);
  }

  log(`\n${options.reps} repetitions x ${options.duration}s per scenario and server, ${options.connections} connections`);
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
        const result = await runLoad(scenario.spec(state), { ...load, duration: options.duration });
        runs.push({ rep, scenario: scenario.name, target: target.name, ...result });
        const failures = result.failed ? `  non-OK ${result.failed}, first: ${result.firstFailure}` : '';
        log(`[rep ${rep}] ${scenario.name.padEnd(18)} ${target.name.padEnd(9)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${result.latencyMs.p99} ms${failures}`);
      }
    }
    for (const concurrency of signInTarget ? SIGN_IN_CONCURRENCY : []) {
      const result = await runSignInFlows(signInTarget!, concurrency, options.duration);
      flows.push({ rep, ...result });
      const failures = result.failed ? `  failed ${result.failed}, first: ${result.firstFailure}` : '';
      log(`[rep ${rep}] ${`signin x${concurrency}`.padEnd(18)} ${signInTarget!.name.padEnd(9)} ${result.flowsPerSec.toFixed(1).padStart(6)} flows/s${failures}`);
    }
  }
  const memory: MemoryReport = Object.fromEntries(
    targets.flatMap((target) => (target.process ? [[target.name, target.process.memory()]] : [])),
  );

  const [a, b] = targets;
  const rows = scenarios.map((scenario) => summarize(scenario, runs, a!, b));
  console.log(`\n${scenarioTable(rows, { a: a!.name, b: b?.name })}`);
  console.log(`(req/s: 2xx responses that passed the scenario's check, per second; non-OK: the other responses, over all repetitions)`);
  if (signInTarget) {
    console.log(`\ncomplete passwordless sign-in, ${signInTarget.name} only (wall time per flow on loopback, approximating server time)`);
    console.log(signInTable(new Map(SIGN_IN_CONCURRENCY.map((c) => [c, flows.filter((flow) => flow.concurrency === c)]))));
  }
  if (Object.keys(memory).length) console.log(`\n${memoryLine(memory)}`);
  console.log(`environment: ${setup.description}`);

  const file = join(ROOT, 'bench/results', `${startedAt.toISOString().replaceAll(':', '-')}.json`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const raw = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    // Client secrets stay out of the file.
    options: { ...options, only: options.only && [...options.only], machineClient: undefined, webClient: undefined },
    environment: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgAtEnd: loadavg(), ...setup.environment, tokenShapes },
    summary: rows,
    runs,
    signIn: flows,
    memory,
  };
  writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`);
  console.log(`raw results: ${file}`);
}

function summarize(scenario: Scenario, runs: Run[], a: Target, b: Target | undefined): ScenarioRow {
  const of = (target: Target | undefined) => runs.filter((run) => run.scenario === scenario.name && run.target === target?.name);
  const skipped = [a, b].flatMap((target) => {
    const reason = target && scenario.unavailable(target);
    return reason ? [`${target.name}: ${reason}`] : [];
  });
  return {
    scenario: scenario.name,
    fairy: of(a).map((run) => run.reqPerSec),
    reference: of(b).map((run) => run.reqPerSec),
    fairyFailed: of(a).reduce((sum, run) => sum + run.failed, 0),
    referenceFailed: of(b).reduce((sum, run) => sum + run.failed, 0),
    ...(skipped.length ? { note: `skipped (${skipped.join('; ')})` } : {}),
  };
}

/**
 * Makes the tokens a scenario needs before its timed run: access tokens once, and the refresh queue
 * refilled (a chain is lost whenever a run stops with its request in flight). A target whose tokens
 * do not survive other scenarios' load (`volatileTokens`) gets all of them fresh before every run.
 */
async function prepareFor(state: Prepared, scenario: Scenario, connections: number) {
  const { target } = state;
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
    const made = [access > 0 ? `${access} access` : '', refresh > 0 ? `${refresh} refresh` : ''].filter(Boolean).join(' + ');
    log(`${target.name}: ${made} tokens prepared in ${((Date.now() - began) / 1000).toFixed(1)}s (untimed)`);
  }
}
