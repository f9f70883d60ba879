import type { Logger } from 'pino';
import type { ProviderTokenService } from './provider-token.service.ts';

/** How often each instance looks for tokens due; the work itself is leased row by row. */
const INTERVAL_MS = 30_000;

/**
 * The background refresh of provider tokens, on every instance: each pass leases the rows due
 * (FOR UPDATE SKIP LOCKED, then a lease in the row), so a token is refreshed by one instance only,
 * and an instance that dies mid-refresh leaves a lease that runs out. Time is the service's clock.
 */
export function createProviderTokenRefresher(deps: {
  service: ProviderTokenService;
  log: Logger;
  intervalMs?: number;
}) {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let closed = false;

  const pass = async () => {
    const counts = await deps.service.refreshDue();
    if (counts.fresh || counts.reconsent || counts.failed) deps.log.info(counts, 'provider tokens refreshed');
  };

  function run() {
    if (closed || current) return;
    current = pass()
      .catch((error: unknown) => deps.log.error({ err: error }, 'provider token refresh pass failed'))
      .finally(() => {
        current = undefined;
      });
  }

  return {
    /** One full pass now (after any pass under way), resolved when it is done: for tests and operators. */
    async tick() {
      while (current) await current;
      run();
      while (current) await current;
    },
    start() {
      timer = setInterval(run, deps.intervalMs ?? INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      closed = true;
      if (timer) clearInterval(timer);
      while (current) await current;
    },
  };
}

export type ProviderTokenRefresher = ReturnType<typeof createProviderTokenRefresher>;
