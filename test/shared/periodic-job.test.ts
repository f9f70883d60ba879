import test from 'ava';
import { createPeriodicJob, type Ticker } from '../../src/shared/periodic-job.ts';

/** A ticker the test turns by hand: `turn()` is one interval passing. */
function handTicker() {
  const callbacks = new Set<() => void>();
  const ticker: Ticker = {
    every(_ms, callback) {
      callbacks.add(callback);
      return () => callbacks.delete(callback);
    },
  };
  return {
    ticker,
    turn: () => {
      for (const callback of callbacks) callback();
    },
    get scheduled() {
      return callbacks.size;
    },
  };
}

/** A pass the test finishes by hand, counting how many started and how many ran at once. */
function heldPasses() {
  const waiting: (() => void)[] = [];
  let started = 0;
  let running = 0;
  let mostAtOnce = 0;
  return {
    pass: () =>
      new Promise<void>((resolve) => {
        started += 1;
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        waiting.push(() => {
          running -= 1;
          resolve();
        });
      }),
    finishOne: () => waiting.shift()?.(),
    get started() {
      return started;
    },
    get mostAtOnce() {
      return mostAtOnce;
    },
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a pass runs at start and at each interval, never two at once, and a request during a pass runs one more after it', async (t) => {
  const clock = handTicker();
  const passes = heldPasses();
  const job = createPeriodicJob({ intervalMs: 1000, pass: passes.pass, onError: t.fail, ticker: clock.ticker });
  job.start();
  t.is(passes.started, 1, 'the first pass does not wait for the interval');
  clock.turn();
  clock.turn();
  await settle();
  t.is(passes.started, 1, 'intervals during a pass start nothing beside it');
  passes.finishOne();
  await settle();
  t.is(passes.started, 2, 'the intervals that came during the pass run one more after it');
  passes.finishOne();
  await settle();
  t.is(passes.started, 2);
  t.is(passes.mostAtOnce, 1);
  clock.turn();
  t.is(passes.started, 3);
  passes.finishOne();
  await job.stop();
});

test('stop waits for the pass under way, cancels the interval and starts nothing more', async (t) => {
  const clock = handTicker();
  const passes = heldPasses();
  const job = createPeriodicJob({ intervalMs: 1000, pass: passes.pass, onError: t.fail, ticker: clock.ticker });
  job.start();
  let stopped = false;
  const stopping = job.stop().then(() => {
    stopped = true;
  });
  await settle();
  t.true(job.stopping, 'a pass can see that it should end early');
  t.false(stopped, 'stop waits for the pass under way');
  t.is(clock.scheduled, 0, 'the interval is cancelled at once');
  passes.finishOne();
  await stopping;
  job.wake();
  await job.tick();
  await settle();
  t.is(passes.started, 1, 'nothing runs after stop');
});

test('a failed pass is reported and the next one runs as usual; tick resolves once its pass is done', async (t) => {
  const clock = handTicker();
  const errors: unknown[] = [];
  let calls = 0;
  const job = createPeriodicJob({
    intervalMs: 1000,
    pass: async () => {
      calls += 1;
      if (calls === 1) throw new Error('the database went away');
    },
    onError: (error) => errors.push(error),
    ticker: clock.ticker,
  });
  await job.tick();
  t.is(calls, 1);
  t.is((errors[0] as Error | undefined)?.message, 'the database went away');
  await job.tick();
  t.is(calls, 2);
  t.is(errors.length, 1);
  await job.stop();
});
