import type { ExpiredRowsReport } from './expired-rows.ts';
import type { LoadResult } from './load.ts';
import type { FlowResult, FlowStep } from './signin.ts';

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const whole = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
export const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** "median (min-max, n)" */
export function spread(values: number[], format: (value: number) => string = whole): string {
  if (values.length === 0) return '-';
  return `${format(median(values))} (${format(Math.min(...values))}-${format(Math.max(...values))}, ${values.length})`;
}

export type ScenarioRow = {
  scenario: string;
  fairy: number[];
  /** The baseline's req/s, paired with `fairy` by repetition. */
  reference: number[];
  /** Which server the scenario is compared with (the oidc-provider reference, the Koa hello world, one instance). */
  baseline?: string;
  /** Minimum FairyID/baseline ratio the issue asks for. */
  goal?: number;
  /** Server CPU use per run (100 = one core busy), when /proc is readable. */
  fairyCpu?: number[];
  referenceCpu?: number[];
  /** Responses that were not 2xx or failed the check, per server, over all repetitions. */
  fairyFailed: number;
  referenceFailed: number;
  note?: string;
};

/** The ratio of each repetition (FairyID / baseline), in repetition order. */
export function pairedRatios(row: Pick<ScenarioRow, 'fairy' | 'reference'>): number[] {
  return row.fairy.map((value, i) => value / (row.reference[i] ?? NaN)).filter(Number.isFinite);
}

/** With no baseline at all (--target, --no-reference) the baseline, ratio and goal columns are left out. */
export function scenarioTable(rows: ScenarioRow[], names: { a: string; withBaseline: boolean }): string {
  const { a, withBaseline } = names;
  const header = withBaseline
    ? [
        'scenario',
        `${a} req/s median (min-max, n)`,
        'baseline',
        'baseline req/s median (min-max, n)',
        `ratio median (per rep)`,
        'goal',
        'CPU %',
        'non-OK',
      ]
    : ['scenario', `${a} req/s median (min-max, n)`, 'CPU %', 'non-OK'];
  const body = rows.map((row) => {
    const ratios = pairedRatios(row);
    const ratio = ratios.length
      ? `${fixed(median(ratios), 2)} (${ratios.map((value) => fixed(value, 2)).join(' ')})`
      : '-';
    const goal =
      row.goal === undefined
        ? '-'
        : ratios.length
          ? `>=${row.goal.toFixed(1)} ${median(ratios) >= row.goal ? 'met' : 'MISSED'}`
          : `>=${row.goal.toFixed(1)}`;
    const failures = row.note ?? (withBaseline ? `${row.fairyFailed}/${row.referenceFailed}` : String(row.fairyFailed));
    const cpu = (values: number[] | undefined) => (values?.length ? fixed(median(values), 0) : '-');
    return withBaseline
      ? [
          row.scenario,
          spread(row.fairy),
          row.baseline ?? '-',
          spread(row.reference),
          ratio,
          goal,
          `${cpu(row.fairyCpu)}/${cpu(row.referenceCpu)}`,
          failures,
        ]
      : [row.scenario, spread(row.fairy), cpu(row.fairyCpu), failures];
  });
  return table([header, ...body]);
}

export function signInTable(byConcurrency: Map<number, (FlowResult & { serverCpuMsPerFlow?: number })[]>): string {
  const header = [
    'concurrent flows',
    'p50 ms',
    'p99 ms',
    'flows/s median (min-max, n)',
    'server CPU ms/flow median (min-max, n)',
    'flows',
    'failed',
  ];
  const body = [...byConcurrency].map(([concurrency, runs]) => {
    const times = runs.flatMap((run) => run.timesMs);
    const cpu = runs.flatMap((run) => (run.serverCpuMsPerFlow === undefined ? [] : [run.serverCpuMsPerFlow]));
    return [
      String(concurrency),
      fixed(percentile(times, 50), 1),
      fixed(percentile(times, 99), 1),
      spread(
        runs.map((run) => run.flowsPerSec),
        (value) => fixed(value, 1),
      ),
      cpu.length ? spread(cpu, (value) => fixed(value, 1)) : '-',
      String(times.length),
      String(runs.reduce((sum, run) => sum + run.failed, 0)),
    ];
  });
  return table([header, ...body]);
}

/** One sign-in's requests in order, with a total line: where the time of a flow goes. */
export function breakdownTable(steps: FlowStep[]): string {
  const header = ['#', 'request', 'status', 'headers ms', 'end ms'];
  const body = steps.map((step, index) => [
    String(index + 1),
    `${step.method} ${step.path}`,
    String(step.status),
    fixed(step.headersMs, 1),
    fixed(step.totalMs, 1),
  ]);
  const sum = (pick: (step: FlowStep) => number) =>
    fixed(
      steps.reduce((total, step) => total + pick(step), 0),
      1,
    );
  return table([header, ...body, ['', 'all requests', '', sum((step) => step.headersMs), sum((step) => step.totalMs)]]);
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), line(widths.map((width) => '-'.repeat(width))), ...rows.slice(1).map(line)].join('\n');
}

export const mebibytes = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

export type MemoryReport = Record<string, { rssKiB: number; peakKiB: number } | undefined>;

export function memoryLine(memory: MemoryReport): string {
  const parts = Object.entries(memory).map(([name, value]) =>
    value ? `${name} ${mebibytes(value.rssKiB)} (peak ${mebibytes(value.peakKiB)})` : `${name} n/a`,
  );
  return `resident memory after the run (VmRSS, peak VmHWM): ${parts.join('; ')}`;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** token_after_expired_rows: refresh req/s before and after, the insert, and the timed sweep. */
export function expiredRowsReport(report: ExpiredRowsReport, goal: number): string {
  const phase = (
    label: string,
    runs: LoadResult[],
    stats: { rows: number; expired: number; tableBytes: number; indexBytes: number },
  ) => [
    label,
    spread(runs.map((run) => run.reqPerSec)),
    fixed(median(runs.map((run) => run.latencyMs.p99)), 0),
    String(runs.reduce((sum, run) => sum + run.failed, 0)),
    `${whole(stats.rows)} (${whole(stats.expired)} expired)`,
    `${mib(stats.tableBytes)} + ${mib(stats.indexBytes)}`,
  ];
  const ratio = median(report.after.map((run) => run.reqPerSec)) / median(report.before.map((run) => run.reqPerSec));
  const lines = [
    table([
      [
        'refresh grant, FairyID',
        'req/s median (min-max, n)',
        'p99 ms (median)',
        'non-OK',
        'oidc_payloads rows',
        'table + indexes',
      ],
      phase('table as the run left it', report.before, report.tableBefore),
      phase(`+ ${whole(report.inserted)} expired rows`, report.after, report.tableAfter),
    ]),
    `ratio after/before (medians): ${fixed(ratio, 2)}; goal >= ${goal.toFixed(2)} (within ${Math.round((1 - goal) * 100)}%): ${ratio >= goal ? 'met' : 'MISSED'}`,
    `insert: ${whole(report.inserted)} rows in ${fixed(report.insertS, 1)} s (one INSERT ... SELECT generate_series), committed right after the server's sweep ` +
      `(${report.sweepSync.observed ? `seen ${fixed(report.sweepSync.waitedS, 1)} s later` : 'NOT seen'}); VACUUM (ANALYZE) ${fixed(report.vacuumS, 1)} s ` +
      `(autovacuum=${report.autovacuum}); CHECKPOINT before each phase (${report.checkpointS.map((s) => fixed(s, 1)).join(' s, ')} s); ` +
      `${whole(report.expiredAtEnd)} expired rows still there after the last run`,
  ];
  const sweep = report.sweep;
  if (sweep && 'error' in sweep) lines.push(`sweep: failed: ${sweep.error}`);
  else if (sweep) {
    lines.push(
      `one full sweep (sweepExpiredPayloads, FairyID stopped): ${whole(sweep.rows)} rows in ${fixed(sweep.seconds, 1)} s = ` +
        `${whole(sweep.rows / sweep.seconds)} rows/s, ${whole(sweep.statements)} DELETE statements of <= 500 rows (slowest ${fixed(sweep.slowestMs, 0)} ms)`,
    );
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
