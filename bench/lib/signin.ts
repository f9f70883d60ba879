import { performance } from 'node:perf_hooks';
import diagnostics from 'node:diagnostics_channel';
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

export type FlowStep = { method: string; path: string; status: number; headersMs: number; totalMs: number };

/**
 * One complete sign-in, alone, with the time of each of its HTTP requests as undici reports them
 * (diagnostics_channel): from the request's creation to the response headers (the server's work
 * plus a loopback round trip) and to the end of the body. Paths lose their query strings, which
 * carry codes and state.
 */
export async function signInBreakdown(target: Target): Promise<FlowStep[]> {
  const started = new WeakMap<object, { at: number; step: FlowStep }>();
  const steps: FlowStep[] = [];
  const onCreate = (message: unknown) => {
    const { request } = message as { request: { method: string; path: string; origin: string } };
    const step = {
      method: request.method,
      path: request.path.split('?')[0] ?? '',
      status: 0,
      headersMs: 0,
      totalMs: 0,
    };
    started.set(request, { at: performance.now(), step });
    steps.push(step);
  };
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request: object; response: { statusCode: number } };
    const entry = started.get(request);
    if (!entry) return;
    entry.step.status = response.statusCode;
    entry.step.headersMs = performance.now() - entry.at;
  };
  const onTrailers = (message: unknown) => {
    const entry = started.get((message as { request: object }).request);
    if (entry) entry.step.totalMs = performance.now() - entry.at;
  };
  diagnostics.subscribe('undici:request:create', onCreate);
  diagnostics.subscribe('undici:request:headers', onHeaders);
  diagnostics.subscribe('undici:request:trailers', onTrailers);
  try {
    await target.signIn!(benchEmail('breakdown'));
  } finally {
    diagnostics.unsubscribe('undici:request:create', onCreate);
    diagnostics.unsubscribe('undici:request:headers', onHeaders);
    diagnostics.unsubscribe('undici:request:trailers', onTrailers);
  }
  return steps;
}
