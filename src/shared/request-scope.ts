import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * The request a piece of work runs for, carried through async calls so that services, which never
 * see `ctx`, can stamp what they write (events) with the request's id. Work outside any request
 * (the dispatcher, the CLI) has none; each pass of the environment reconciler runs under an id of
 * its own (see reconciler.ts).
 */
const scope = new AsyncLocalStorage<{ requestId: string }>();

export function runInRequestScope<T>(requestId: string, work: () => T): T {
  return scope.run({ requestId }, work);
}

export function currentRequestId(): string | null {
  return scope.getStore()?.requestId ?? null;
}

const INCOMING_ID = /^[\w.-]{8,128}$/;

/** A request's id: the caller's X-Request-Id when it looks like one (a proxy's, a test's), else a fresh one. */
export function requestIdFrom(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
}
