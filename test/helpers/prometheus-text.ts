/**
 * A strict reader of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format), written for
 * the tests because no maintained parser is installed: every line must be a HELP, a TYPE, a comment
 * or a sample of the grammar; anything else throws with the line number. Beyond the grammar it
 * checks what Prometheus's own parser and promtool insist on: one TYPE per family, given before its
 * samples; a family's samples together; no series twice; a histogram's buckets cumulative and ending
 * in le="+Inf" equal to its _count, with a _sum; a counter never negative.
 */

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Family = { name: string; type: string; help: string | undefined; samples: Sample[] };

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
// A label value: any characters but a bare backslash, quote or newline; escapes are \\, \" and \n.
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?Inf|NaN)';
const SAMPLE = new RegExp(
  `^(${METRIC_NAME})(?:\\{((?:${LABEL_NAME}=${LABEL_VALUE})(?:,${LABEL_NAME}=${LABEL_VALUE})*,?)?\\})?` +
    ` (${VALUE})(?: (-?\\d+))?$`,
);
const LABEL = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, 'g');
const HELP = new RegExp(`^# HELP (${METRIC_NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
const TYPES_SUFFIXES: Record<string, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

const unescapeLabel = (quoted: string) =>
  quoted.slice(1, -1).replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));

const parseValue = (text: string) =>
  text.endsWith('Inf') ? (text.startsWith('-') ? -Infinity : Infinity) : text === 'NaN' ? Number.NaN : Number(text);

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const seriesSeen = new Set<string>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const lines = text.slice(0, -1).split('\n');
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const help = HELP.exec(line);
      const type = TYPE.exec(line);
      if (help) {
        if (helps.has(help[1]!)) throw new Error(`${where}: a second HELP for ${help[1]}`);
        helps.set(help[1]!, help[2]!);
        const family = families.get(help[1]!);
        if (family) family.help = help[2];
      } else if (type) {
        const name = type[1]!;
        if (families.has(name)) throw new Error(`${where}: a second TYPE for ${name}`);
        if (current) closed.add(current.name);
        current = { name, type: type[2]!, help: helps.get(name), samples: [] };
        families.set(name, current);
      } else if (/^# (HELP|TYPE)\b/.test(line)) {
        throw new Error(`${where}: a malformed HELP or TYPE line`);
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`${where}: not a sample line`);
    const name = match[1]!;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) {
      if (label[1]! in labels) throw new Error(`${where}: label ${label[1]} twice`);
      labels[label[1]!] = unescapeLabel(label[2]!);
    }
    const value = parseValue(match[3]!);
    const family = current && TYPES_SUFFIXES[current.type]!.some((suffix) => name === current!.name + suffix);
    if (!family || !current) throw new Error(`${where}: a sample outside its family's TYPE (or after it closed)`);
    if (closed.has(current.name)) throw new Error(`${where}: ${current.name} continues after another family`);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seriesSeen.has(series)) throw new Error(`${where}: the same series twice`);
    seriesSeen.add(series);
    if (current.type === 'counter' && !(value >= 0)) throw new Error(`${where}: a counter below zero`);
    current.samples.push({ name, labels, value });
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** Buckets per series (labels other than le) cumulative, ending in +Inf, which equals _count. */
function checkHistogram(family: Family) {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push([parseValue(le), sample.value]);
    } else if (sample.name.endsWith('_sum')) entry.sum = sample.value;
    else entry.count = sample.value;
  }
  for (const [key, entry] of series) {
    const where = `${family.name}${key}`;
    const bounds = entry.buckets.map(([bound]) => bound);
    if (bounds.at(-1) !== Infinity) throw new Error(`${where}: no le="+Inf" bucket last`);
    for (let i = 1; i < entry.buckets.length; i += 1) {
      const [bound, count] = entry.buckets[i]!;
      const [previousBound, previousCount] = entry.buckets[i - 1]!;
      if (!(bound > previousBound) || count < previousCount) throw new Error(`${where}: buckets not cumulative`);
    }
    if (entry.sum === undefined || entry.count === undefined) throw new Error(`${where}: no _sum or _count`);
    if (entry.count !== entry.buckets.at(-1)![1]) throw new Error(`${where}: _count is not the +Inf bucket`);
  }
}

/** The distinct label sets of a family's samples of `name` (a histogram's series count once, not per bucket). */
export function seriesOf(family: Family, name = family.name): Record<string, string>[] {
  const seen = new Map<string, Record<string, string>>();
  for (const sample of family.samples) {
    if (sample.name !== name && !(family.type === 'histogram' && sample.name === `${family.name}_count`)) continue;
    const { le: _, ...labels } = sample.labels;
    seen.set(JSON.stringify(Object.entries(labels).sort()), labels);
  }
  return [...seen.values()];
}

/** The value of the sample of `name` whose labels include `labels`, summed over the rest. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const familyName = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(name) ?? families.get(familyName);
  if (!family) return 0;
  return family.samples
    .filter((sample) => sample.name === name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);
}
