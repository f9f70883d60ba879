import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request a piece of work runs for, carried through async calls so that services, which never
 * see `ctx`, can stamp what they write (events) with the request's id. Work outside any request
 * (the reconciler, the dispatcher, the CLI) has none.
 */
const scope = new AsyncLocalStorage<{ requestId: string }>();

export function runInRequestScope<T>(requestId: string, work: () => T): T {
  return scope.run({ requestId }, work);
}

export function currentRequestId(): string | null {
  return scope.getStore()?.requestId ?? null;
}
