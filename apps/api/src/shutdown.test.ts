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
    await Promise.resolve();
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
});
