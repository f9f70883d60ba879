import { performance } from 'node:perf_hooks';
import { benchEmail, type Target } from './target.ts';

export type FlowResult = {
  concurrency: number;
  flows: number;
  failed: number;
  elapsedS: number;
  flowsPerSec: number;
  /** Wall time of every completed flow, ms. */
  timesMs: number[];
  firstFailure?: string;
};

/**
 * Complete passwordless sign-ins (authorize -> email -> code from /dev/outbox -> code -> consent ->
 * code exchange), `concurrency` at a time, each worker starting a new flow until `duration` seconds
 * have passed; flows in flight then finish and are counted. Every flow is a new person with a fresh
 * cookie jar, so consent is asked each time.
 *
 * The time per flow is wall time on loopback as seen by this process: the server's time plus
 * loopback round trips and this process's own work (HTML parsing, cookie jar) for its ~10 requests.
 */
export async function runSignInFlows(target: Target, concurrency: number, duration: number): Promise<FlowResult> {
  const signIn = target.signIn!;
  const timesMs: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  const start = performance.now();
  const deadline = start + duration * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const began = performance.now();
      try {
        await signIn(benchEmail('flow'));
        timesMs.push(performance.now() - began);
      } catch (error) {
        failed += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = (performance.now() - start) / 1000;
  return {
    concurrency,
    flows: timesMs.length,
    failed,
    elapsedS,
    flowsPerSec: timesMs.length / elapsedS,
    timesMs,
    ...(firstFailure ? { firstFailure } : {}),
  };
}
