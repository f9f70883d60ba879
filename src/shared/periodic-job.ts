/**
 * What calls a job back every so often: real timers in the server, a hand-turned one in tests (the
 * timer side of the injected clock), so no test waits for an interval to pass.
 */
export type Ticker = { every(ms: number, callback: () => void): () => void };

/** Node's timers, unref'd: a job never keeps the process alive on its own. */
export const systemTicker: Ticker = {
  every(ms, callback) {
    const timer = setInterval(callback, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/**
 * Background work that runs a pass every `intervalMs` and whenever asked, never two passes at once:
 * a request during a pass runs one more right after it, so nothing asked for is missed. `stop()`
 * lets the pass under way finish (the pass checks `stopping` between batches) and starts no other.
 */
export function createPeriodicJob(options: {
  intervalMs: number;
  pass: () => Promise<void>;
  /** A failed pass is reported here; the next one runs as usual. */
  onError(error: unknown): void;
  ticker?: Ticker | undefined;
}) {
  let cancel: (() => void) | undefined;
  let current: Promise<void> | undefined;
  let again = false;
  let stopping = false;

  const settled = async () => {
    while (current) await current;
  };

  function run(): void {
    if (stopping) return;
    if (current) {
      again = true;
      return;
    }
    current = options
      .pass()
      .catch(options.onError)
      .finally(() => {
        current = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  }

  return {
    get stopping() {
      return stopping;
    },
    start() {
      cancel ??= (options.ticker ?? systemTicker).every(options.intervalMs, run);
      run();
    },
    /** A pass soon, rather than at the next interval. */
    wake() {
      setImmediate(run);
    },
    /** For tests and operators: one full pass now, resolved once it and any pass before it are done. */
    async tick() {
      await settled();
      run();
      await settled();
    },
    async stop() {
      stopping = true;
      cancel?.();
      cancel = undefined;
      await settled();
    },
  };
}

export type PeriodicJob = ReturnType<typeof createPeriodicJob>;
