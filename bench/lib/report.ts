import type { FlowResult } from './signin.ts';

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

const whole = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** "median (min-max, n)" */
export function spread(values: number[], format: (value: number) => string = whole): string {
  if (values.length === 0) return '-';
  return `${format(median(values))} (${format(Math.min(...values))}-${format(Math.max(...values))}, ${values.length})`;
}

export type ScenarioRow = {
  scenario: string;
  fairy: number[];
  reference: number[];
  /** Responses that were not 2xx or failed the check, per server, over all repetitions. */
  fairyFailed: number;
  referenceFailed: number;
  note?: string;
};

/** With one server (--target, --no-reference) the reference and ratio columns are left out. */
export function scenarioTable(rows: ScenarioRow[], names: { a: string; b?: string | undefined }): string {
  const { a, b } = names;
  const header = b
    ? ['scenario', `${a} req/s median (min-max, n)`, `${b} req/s median (min-max, n)`, `ratio ${a}/${b} median (per rep)`, 'non-OK']
    : ['scenario', `${a} req/s median (min-max, n)`, 'non-OK'];
  const body = rows.map((row) => {
    const ratios = row.fairy.map((value, i) => value / (row.reference[i] ?? NaN)).filter(Number.isFinite);
    const ratio = ratios.length ? `${fixed(median(ratios), 2)} (${ratios.map((value) => fixed(value, 2)).join(' ')})` : '-';
    const failures = row.note ?? (b ? `${row.fairyFailed}/${row.referenceFailed}` : String(row.fairyFailed));
    return b ? [row.scenario, spread(row.fairy), spread(row.reference), ratio, failures] : [row.scenario, spread(row.fairy), failures];
  });
  return table([header, ...body]);
}

export function signInTable(byConcurrency: Map<number, FlowResult[]>): string {
  const header = ['concurrent flows', 'p50 ms', 'p99 ms', 'flows/s median (min-max, n)', 'flows', 'failed'];
  const body = [...byConcurrency].map(([concurrency, runs]) => {
    const times = runs.flatMap((run) => run.timesMs);
    return [
      String(concurrency),
      fixed(percentile(times, 50), 1),
      fixed(percentile(times, 99), 1),
      spread(runs.map((run) => run.flowsPerSec), (value) => fixed(value, 1)),
      String(times.length),
      String(runs.reduce((sum, run) => sum + run.failed, 0)),
    ];
  });
  return table([header, ...body]);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
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
