import { createDomainMetrics } from './domain-metrics.ts';
import { createMetricsRegistry } from './registry.ts';

/**
 * The app's metrics: the registry (which any domain's gauge or counter joins through `counter()` and
 * `gauge()`) and the business counters fed by domain hooks. The process defaults (CPU, memory,
 * event-loop lag, GC) are collected only when /metrics is served somewhere.
 */
export function createMetrics(options: { served: boolean }) {
  const registry = createMetricsRegistry({ processDefaults: options.served });
  return { registry, domain: createDomainMetrics(registry), served: options.served };
}

export type Metrics = ReturnType<typeof createMetrics>;
