import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createShutdown } from './shutdown.js';

const logger = pino({ level: 'silent' });

describe('shutdown', () => {
  it('runs every step once, in order, and exits 0', async () => {
    const ran: string[] = [];
    const exits: number[] = [];
    let release = () => {};
    const slowFlush = new Promise<void>((resolve) => (release = resolve));
    const shutdown = createShutdown(
      logger,
      [
        ['stop sampling', async () => ran.push('stop sampling')],
        ['flush', async () => (ran.push('flush'), slowFlush)],
        ['close db', async () => ran.push('close db')],
      ],
      (code) => exits.push(code),
    );
    const first = shutdown('SIGTERM');
    // A second signal during the flush neither restarts nor cuts it short.
    const second = shutdown('SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['stop sampling', 'flush']);
    release();
    await Promise.all([first, second]);
    expect(ran).toEqual(['stop sampling', 'flush', 'close db']);
    expect(exits).toEqual([0]);
  });

  it('carries on past a failing step and exits 1', async () => {
    const ran: string[] = [];
    const exits: number[] = [];
    const shutdown = createShutdown(
      logger,
      [
        ['a', async () => ran.push('a')],
        ['b', async () => Promise.reject(new Error('db gone'))],
        ['c', async () => ran.push('c')],
      ],
      (code) => exits.push(code),
    );
    await shutdown('SIGTERM');
    expect(ran).toEqual(['a', 'c']);
    expect(exits).toEqual([1]);
  });

  it('abandons a step that hangs after its timeout, runs the rest, and exits 1', async () => {
    const ran: string[] = [];
    const exits: number[] = [];
    const shutdown = createShutdown(
      logger,
      [
        ['flush', async () => ran.push('flush')],
        // A database that cannot write never answers its close.
        ['close db', () => new Promise<never>(() => {}), { timeoutMs: 20 }],
        ['close bus', async () => ran.push('close bus')],
      ],
      (code) => exits.push(code),
    );
    await shutdown('SIGTERM');
    expect(ran).toEqual(['flush', 'close bus']);
    expect(exits).toEqual([1]);
  });

  it('exits 1 by its deadline whatever is still pending, and only once', async () => {
    const ran: string[] = [];
    const exits: number[] = [];
    let exitedOnce: () => void = () => {};
    const exitedPromise = new Promise<void>((resolve) => (exitedOnce = resolve));
    let finishSlow: () => void = () => {};
    const shutdown = createShutdown(
      logger,
      [
        ['slow', () => new Promise<void>((resolve) => (finishSlow = resolve))],
        ['after', async () => ran.push('after')],
      ],
      (code) => {
        exits.push(code);
        exitedOnce();
      },
      { stepTimeoutMs: 60_000, deadlineMs: 30 },
    );
    const done = shutdown('SIGTERM');
    await exitedPromise;
    expect(exits).toEqual([1]);
    // The step that outlived the deadline finishing later changes nothing.
    finishSlow();
    await done;
    expect(exits).toEqual([1]);
    expect(ran).toEqual([]);
  });
});
