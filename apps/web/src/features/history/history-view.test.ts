import { HISTORY_DEFAULT_POINTS, HISTORY_MAX_POINTS } from '@livestat/contracts';
import type { HistoryResponse } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import {
  HISTORY_PRESETS,
  MIN_HISTORY_POINTS,
  MIN_ZOOM_SPAN_MS,
  formatBucket,
  fromLocalInput,
  hasData,
  isZoomed,
  parseCustomRange,
  pointsFor,
  presetRange,
  sameRange,
  toLocalInput,
  zoomFromEvent,
  zoomPercent,
  zoomedRange,
} from './history-view';

const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe('presets', () => {
  it('offers 1 h, 6 h, 24 h and 7 d, each ending now', () => {
    expect(HISTORY_PRESETS.map((p) => p.id)).toEqual(['1h', '6h', '24h', '7d']);
    expect(presetRange('1h', NOW)).toEqual({ from: NOW - HOUR, to: NOW });
    expect(presetRange('6h', NOW)).toEqual({ from: NOW - 6 * HOUR, to: NOW });
    expect(presetRange('24h', NOW)).toEqual({ from: NOW - 24 * HOUR, to: NOW });
    expect(presetRange('7d', NOW)).toEqual({ from: NOW - 7 * 24 * HOUR, to: NOW });
  });
});

describe('datetime-local values', () => {
  it('writes and reads local time to the minute', () => {
    const local = new Date(2025, 2, 4, 5, 6).getTime();
    expect(toLocalInput(local)).toBe('2025-03-04T05:06');
    expect(fromLocalInput('2025-03-04T05:06')).toBe(local);
    // Seconds are dropped when written; read back, the minute is what the input showed.
    expect(fromLocalInput(toLocalInput(local + 42_000))).toBe(local);
  });

  it('reads seconds and fractions a browser may add', () => {
    expect(fromLocalInput('2025-03-04T05:06:07')).toBe(new Date(2025, 2, 4, 5, 6, 7).getTime());
    expect(fromLocalInput('2025-03-04T05:06:07.5')).toBe(
      new Date(2025, 2, 4, 5, 6, 7, 500).getTime(),
    );
  });

  it('refuses text that is not a date, and dates that do not exist', () => {
    expect(fromLocalInput('')).toBeNaN();
    expect(fromLocalInput('yesterday')).toBeNaN();
    expect(fromLocalInput('2025-03-04')).toBeNaN();
    expect(fromLocalInput('2025-02-30T10:00')).toBeNaN();
    expect(fromLocalInput('2025-13-01T10:00')).toBeNaN();
    expect(fromLocalInput('2025-03-04T24:00')).toBeNaN();
    expect(fromLocalInput('2025-03-04T10:60')).toBeNaN();
  });
});

describe('parseCustomRange', () => {
  const now = new Date(2025, 5, 1, 12, 0).getTime();

  it('accepts a start before the end', () => {
    expect(parseCustomRange('2025-06-01T09:00', '2025-06-01T10:30', now)).toEqual({
      ok: true,
      range: {
        from: new Date(2025, 5, 1, 9, 0).getTime(),
        to: new Date(2025, 5, 1, 10, 30).getTime(),
      },
    });
  });

  it('accepts an end in the future (the chart shows up to now)', () => {
    const result = parseCustomRange('2025-06-01T11:00', '2025-06-01T13:00', now);
    expect(result.ok).toBe(true);
  });

  it('says why a range is refused', () => {
    expect(parseCustomRange('', '2025-06-01T10:00', now)).toEqual({
      ok: false,
      error: 'Enter both a start and an end time.',
    });
    expect(parseCustomRange('2025-02-30T10:00', '2025-06-01T10:00', now)).toEqual({
      ok: false,
      error: 'The start is not a valid date and time.',
    });
    expect(parseCustomRange('2025-06-01T10:00', 'soon', now)).toEqual({
      ok: false,
      error: 'The end is not a valid date and time.',
    });
    expect(parseCustomRange('2025-06-01T10:00', '2025-06-01T10:00', now)).toEqual({
      ok: false,
      error: 'The start must be before the end.',
    });
    expect(parseCustomRange('2025-06-01T11:00', '2025-06-01T09:00', now)).toEqual({
      ok: false,
      error: 'The start must be before the end.',
    });
    expect(parseCustomRange('2025-06-01T12:30', '2025-06-01T13:00', now)).toEqual({
      ok: false,
      error: 'The range starts in the future: nothing to show.',
    });
  });
});

describe('pointsFor', () => {
  it('asks for about one bucket per pixel, within the API limit', () => {
    expect(pointsFor(812.4)).toBe(812);
    expect(pointsFor(10)).toBe(MIN_HISTORY_POINTS);
    expect(pointsFor(100_000)).toBe(HISTORY_MAX_POINTS);
  });

  it("uses the API's default when the width is unknown", () => {
    expect(pointsFor(0)).toBe(HISTORY_DEFAULT_POINTS);
    expect(pointsFor(Number.NaN)).toBe(HISTORY_DEFAULT_POINTS);
  });
});

describe('zoom', () => {
  const base = { from: NOW - HOUR, to: NOW };

  it('maps a window of the base range to the range it shows', () => {
    expect(zoomedRange(base, { start: 25, end: 50 })).toEqual({
      from: NOW - 0.75 * HOUR,
      to: NOW - 0.5 * HOUR,
    });
    // Either order, clamped to the base.
    expect(zoomedRange(base, { start: 50, end: -10 })).toEqual({
      from: NOW - HOUR,
      to: NOW - 0.5 * HOUR,
    });
  });

  it('is the base range itself when the window is all of it', () => {
    expect(zoomedRange(base, { start: 0, end: 100 })).toEqual(base);
    expect(isZoomed(base, zoomedRange(base, { start: 0, end: 100 }))).toBe(false);
    expect(isZoomed(base, zoomedRange(base, { start: 0, end: 99 }))).toBe(true);
  });

  it('never zooms narrower than the minimum span, staying inside the base', () => {
    const middle = zoomedRange(base, { start: 50, end: 50.001 });
    expect(middle.to - middle.from).toBe(MIN_ZOOM_SPAN_MS);
    const edge = zoomedRange(base, { start: 100, end: 100 });
    expect(edge).toEqual({ from: NOW - MIN_ZOOM_SPAN_MS, to: NOW });
    const short = { from: NOW - 10_000, to: NOW };
    expect(zoomedRange(short, { start: 40, end: 41 })).toEqual(short);
  });

  it('gives back the window of a zoomed range', () => {
    const window = zoomPercent(base, { from: NOW - 0.75 * HOUR, to: NOW - 0.5 * HOUR });
    expect(window.start).toBeCloseTo(25, 9);
    expect(window.end).toBeCloseTo(50, 9);
    expect(zoomPercent(base, base)).toEqual({ start: 0, end: 100 });
  });

  it('reads the window of slider and inside-zoom events', () => {
    expect(zoomFromEvent({ type: 'datazoom', start: 10, end: 20 })).toEqual({ start: 10, end: 20 });
    expect(
      zoomFromEvent({ type: 'datazoom', batch: [{ dataZoomId: 'x', start: 30, end: 40 }] }),
    ).toEqual({ start: 30, end: 40 });
    expect(zoomFromEvent({ type: 'datazoom', startValue: 1, endValue: 2 })).toBeNull();
    expect(zoomFromEvent(null)).toBeNull();
    expect(zoomFromEvent({ start: Number.NaN, end: 3 })).toBeNull();
  });

  it('compares ranges to the millisecond', () => {
    expect(sameRange({ from: 1, to: 2 }, { from: 1, to: 2 })).toBe(true);
    expect(sameRange({ from: 1, to: 2 }, { from: 1, to: 3 })).toBe(false);
    expect(sameRange(undefined, { from: 1, to: 2 })).toBe(false);
  });
});

describe('formatBucket', () => {
  it('names a bucket width in its largest unit', () => {
    expect(formatBucket(500)).toBe('500 ms');
    expect(formatBucket(10_000)).toBe('10 s');
    expect(formatBucket(300_000)).toBe('5 min');
    expect(formatBucket(5_400_000)).toBe('1.5 h');
    expect(formatBucket(7 * 24 * HOUR)).toBe('7 d');
  });
});

const t0 = NOW - HOUR;
const response: HistoryResponse = {
  host: 'vm-web-01',
  from: t0,
  to: NOW,
  bucketMs: 60_000,
  tier: '1m',
  series: {
    'network.rxBytesPerSec': [
      [t0, 2048, 1024, 4096],
      [t0 + 60_000, null, null, null],
      [t0 + 120_000, 512, 256, 1024],
    ],
    'network.txBytesPerSec': [
      [t0, null, null, null],
      [t0 + 60_000, null, null, null],
      [t0 + 120_000, null, null, null],
    ],
  },
};

describe('hasData', () => {
  it('is true when any bucket of the series holds a value', () => {
    expect(hasData(response, ['network.rxBytesPerSec'])).toBe(true);
    expect(hasData(response, ['network.txBytesPerSec'])).toBe(false);
    expect(hasData(response, ['network.txBytesPerSec', 'network.rxBytesPerSec'])).toBe(true);
    expect(hasData(response, ['cpu.usagePercent'])).toBe(false);
  });
});
