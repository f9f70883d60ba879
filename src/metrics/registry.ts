import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * Every label a metric has, with every value it may take. A value outside its list is recorded as
 * `other`, so no id, address or string a client chose can ever become a time series of its own:
 * the number of series is fixed by these lists, whatever the traffic.
 */
export type LabelSets<L extends string> = Readonly<Record<L, readonly string[]>>;
export type LabelValues<L extends string> = Readonly<Record<L, string>>;

export const OTHER = 'other';

/** Names are ours (`fairyid_`), snake_case; counters end in `_total` (Prometheus naming conventions). */
const NAME = /^fairyid_[a-z][a-z0-9_]*$/;

export type BoundedCounter<L extends string> = { inc(labels: LabelValues<L>, by?: number): void };
export type BoundedGauge<L extends string> = { set(labels: LabelValues<L>, value: number): void };

export type CounterDefinition<L extends string> = { name: string; help: string; labels: LabelSets<L> };
export type GaugeDefinition<L extends string> = CounterDefinition<L> & {
  /** Read at every scrape (a queue's length, a pool's size); may be async. */
  collect?(set: (labels: LabelValues<L>, value: number) => void): void | Promise<void>;
};

/**
 * One Prometheus registry per running app (tests run several in one process), with the process
 * defaults (CPU, memory, event-loop lag, GC, handles) when `processDefaults` is on, and the way any
 * domain adds a counter or gauge of its own: `counter()` and `gauge()` take the label values up
 * front. Domains never import this module; services.ts wires their hooks to what it returns.
 */
export function createMetricsRegistry(options: { processDefaults: boolean }) {
  const registry = new Registry();
  if (options.processDefaults) collectDefaultMetrics({ register: registry });

  const checkName = (name: string, counter: boolean) => {
    if (!NAME.test(name) || counter !== name.endsWith('_total'))
      throw new Error(`metric name ${name} must be fairyid_snake_case${counter ? ' ending in _total' : ''}`);
  };

  /** Maps each value to itself when its label allows it, else to `other`; label order is the definition's. */
  function bound<L extends string>(labels: LabelSets<L>) {
    const names = Object.keys(labels) as L[];
    const allowed = new Map(names.map((name) => [name, new Set(labels[name])]));
    return (values: LabelValues<L>): Record<L, string> => {
      const bounded = {} as Record<L, string>;
      for (const name of names) {
        const value = values[name];
        bounded[name] = allowed.get(name)?.has(value) ? value : OTHER;
      }
      return bounded;
    };
  }

  return {
    registry,
    contentType: registry.contentType,

    counter<L extends string>(definition: CounterDefinition<L>): BoundedCounter<L> {
      checkName(definition.name, true);
      const labelNames = Object.keys(definition.labels);
      const metric = new Counter({ name: definition.name, help: definition.help, labelNames, registers: [registry] });
      const toLabels = bound(definition.labels);
      return {
        inc(labels, by = 1) {
          if (by > 0) metric.inc(toLabels(labels), by);
        },
      };
    },

    gauge<L extends string>(definition: GaugeDefinition<L>): BoundedGauge<L> {
      checkName(definition.name, false);
      const labelNames = Object.keys(definition.labels);
      const toLabels = bound(definition.labels);
      const { collect } = definition;
      const metric: Gauge<string> = new Gauge({
        name: definition.name,
        help: definition.help,
        labelNames,
        registers: [registry],
        ...(collect
          ? {
              async collect() {
                await collect((labels, value) => metric.set(toLabels(labels), value));
              },
            }
          : {}),
      });
      return { set: (labels, value) => metric.set(toLabels(labels), value) };
    },

    /** The exposition text (Prometheus text format 0.0.4). */
    render: () => registry.metrics(),
  };
}

export type MetricsRegistry = ReturnType<typeof createMetricsRegistry>;
