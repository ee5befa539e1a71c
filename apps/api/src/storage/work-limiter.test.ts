import { describe, expect, it } from 'vitest';
import { QueryCancelledError } from './db.js';
import { createWorkLimiter, WorkLimitError } from './work-limiter.js';

/** A job that runs until `finish()` is called. */
function gate<T = string>(value: T) {
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let started = false;
  return {
    job: async () => {
      started = true;
      await finished;
      return value;
    },
    finish: () => finish(),
    started: () => started,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('createWorkLimiter', () => {
  it('runs two jobs of a user at once, queues two more in order and refuses the fifth', async () => {
    const limiter = createWorkLimiter({ maxConcurrent: 2, maxQueued: 2, retryAfterSeconds: 3 });
    const gates = [gate('a'), gate('b'), gate('c'), gate('d')];
    const runs = gates.map((g) => limiter.run('alice', g.job));
    await settle();
    expect(gates.map((g) => g.started())).toEqual([true, true, false, false]);
    expect(limiter.load('alice')).toEqual({ running: 2, waiting: 2 });

    const refused = await limiter.run('alice', async () => 'e').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkLimitError);
    expect(refused).toMatchObject({ code: 'busy', retryAfterSeconds: 3 });
    // Another user is not held up by alice's jobs.
    expect(await limiter.run('bob', async () => 'bob served')).toBe('bob served');

    gates[1]!.finish();
    await settle();
    expect(gates.map((g) => g.started())).toEqual([true, true, true, false]);
    gates[0]!.finish();
    gates[2]!.finish();
    await settle();
    expect(gates[3]!.started()).toBe(true);
    gates[3]!.finish();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c', 'd']);
    expect(limiter.load('alice')).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot when a job fails', async () => {
    const limiter = createWorkLimiter({ maxConcurrent: 1, maxQueued: 0 });
    await expect(limiter.run('u', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run('u', async () => 'next')).toBe('next');
  });

  it('takes an aborted waiter out of the queue without running it', async () => {
    const limiter = createWorkLimiter({ maxConcurrent: 1, maxQueued: 1 });
    const first = gate('first');
    const running = limiter.run('u', first.job);
    const controller = new AbortController();
    let ran = false;
    const waiting = limiter.run(
      'u',
      async () => {
        ran = true;
      },
      controller.signal,
    );
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(QueryCancelledError);
    expect(limiter.load('u')).toEqual({ running: 1, waiting: 0 });
    first.finish();
    expect(await running).toBe('first');
    expect(ran).toBe(false);
    expect(limiter.load('u')).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses bad limits', () => {
    expect(() => createWorkLimiter({ maxConcurrent: 0 })).toThrow(/maxConcurrent/);
    expect(() => createWorkLimiter({ maxQueued: -1 })).toThrow(/maxQueued/);
  });
});
