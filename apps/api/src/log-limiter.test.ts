import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { causeOf, createLogLimiter } from './log-limiter.js';
import { createLogger } from './logger.js';

interface Line {
  level: number;
  msg: string;
  suppressed?: number;
  n?: number;
}

function capture() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Line);
      callback();
    },
  });
  return { logger: createLogger({ level: 'info' }, stream), lines };
}

const ERROR = 50;

describe('createLogLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs a cause once per interval, then how many were held back, with the latest fields', () => {
    const { logger, lines } = capture();
    const limiter = createLogLimiter(logger, { intervalMs: 10_000 });
    for (let n = 1; n <= 50; n++) limiter.error('db down', { n }, 'request failed');
    expect(lines).toEqual([expect.objectContaining({ level: ERROR, msg: 'request failed', n: 1 })]);

    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      level: ERROR,
      msg: 'request failed (49 more like this in the last 10 s)',
      suppressed: 49,
      n: 50,
    });

    // Still failing: at most one line per interval.
    for (let n = 51; n <= 60; n++) limiter.error('db down', { n }, 'request failed');
    expect(lines).toHaveLength(2);
    vi.advanceTimersByTime(10_000);
    expect(lines[2]).toMatchObject({ suppressed: 10, n: 60 });
  });

  it('forgets a cause that stayed quiet for an interval, and logs its return at once', () => {
    const { logger, lines } = capture();
    const limiter = createLogLimiter(logger, { intervalMs: 10_000 });
    limiter.error('db down', {}, 'request failed');
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(1);
    limiter.error('db down', {}, 'request failed');
    expect(lines.map((line) => line.msg)).toEqual(['request failed', 'request failed']);
  });

  it('limits each cause on its own', () => {
    const { logger, lines } = capture();
    const limiter = createLogLimiter(logger, { intervalMs: 10_000 });
    for (let i = 0; i < 3; i++) {
      limiter.error('a', {}, 'resume failed');
      limiter.error('b', {}, 'request failed');
    }
    expect(lines.map((line) => line.msg)).toEqual(['resume failed', 'request failed']);
  });

  it('shares one budget among causes beyond the most it tracks', () => {
    const { logger, lines } = capture();
    const limiter = createLogLimiter(logger, { intervalMs: 10_000, maxCauses: 2 });
    for (let i = 0; i < 10; i++) limiter.error(`cause ${i}`, { n: i }, 'failed');
    expect(lines.map((line) => line.n)).toEqual([0, 1, 2]);
  });

  it('says what it still holds back when stopped, and sets no timer after', () => {
    const { logger, lines } = capture();
    const limiter = createLogLimiter(logger, { intervalMs: 10_000 });
    limiter.error('x', {}, 'failed');
    limiter.error('x', {}, 'failed');
    limiter.stop();
    expect(lines[1]).toMatchObject({ suppressed: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('causeOf', () => {
  it('tells errors apart by code, name and message, never by their stack or fields', () => {
    const refused = () =>
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(causeOf('request failed', refused())).toBe(causeOf('request failed', refused()));
    expect(causeOf('request failed', refused())).not.toBe(causeOf('resume failed', refused()));
    expect(causeOf('request failed', new TypeError('x is undefined'))).not.toBe(
      causeOf('request failed', new RangeError('x is undefined')),
    );
  });
});
