import { describe, expect, it } from 'vitest';
import { lineColor } from './chart-options';
import type { ChartSpec } from './chart-options';
import { TOOLTIP_MAX_ROWS, nearestIndex, tooltipAt } from './chart-tooltip';
import { escapeHtml } from '../../lib/chart-units';
import { NO_VALUE } from '../../lib/format';

const T0 = Date.UTC(2025, 2, 14, 9, 0, 0);
const PALETTE = ['#111111', '#222222', '#333333'];

describe('tooltip', () => {
  const spec: ChartSpec = {
    unit: 'byteRate',
    lines: [
      { path: 'network.rxBytesPerSec', label: 'Receive' },
      { path: 'network.txBytesPerSec', label: 'Send' },
    ],
  };
  /** An option whose Receive line has points at `rx` seconds and Send at `tx` (value = 1 KiB × s). */
  const optionWith = (rx: number[], tx: number[]) => ({
    series: [
      { id: 'network.rxBytesPerSec', data: rx.map((s) => [T0 + s * 1000, s * 1024]) },
      { id: 'network.txBytesPerSec', data: tx.map((s) => [T0 + s * 1000, s === 3 ? null : 0]) },
    ],
  });

  it('finds the nearest point in time order', () => {
    const points: [number, number][] = [0, 10, 20, 30].map((t) => [t, t]);
    expect(nearestIndex(points, -5)).toBe(0);
    expect(nearestIndex(points, 14)).toBe(1);
    expect(nearestIndex(points, 15)).toBe(1);
    expect(nearestIndex(points, 16)).toBe(2);
    expect(nearestIndex(points, 99)).toBe(3);
    expect(nearestIndex([], 5)).toBe(-1);
  });

  it('snaps to the nearest sample and lists each line in the unit, in its colour', () => {
    const tip = tooltipAt(spec, optionWith([0, 1, 2], [0, 1, 2]), T0 + 1300, PALETTE);
    expect(tip).toEqual({
      time: T0 + 1000,
      more: 0,
      rows: [
        {
          path: 'network.rxBytesPerSec',
          label: 'Receive',
          color: '#111111',
          text: '1.00 KiB/s',
          value: 1024,
        },
        { path: 'network.txBytesPerSec', label: 'Send', color: '#222222', text: '0 B/s', value: 0 },
      ],
    });
  });

  it('shows the placeholder for a line with no sample then, or a gap', () => {
    const tip = tooltipAt(spec, optionWith([0, 1, 2, 3], [0, 1, 3]), T0 + 2900, PALETTE)!;
    expect(tip.time).toBe(T0 + 3000);
    expect(tip.rows.map((r) => r.text)).toEqual(['3.00 KiB/s', NO_VALUE]);
    const missing = tooltipAt(spec, optionWith([0, 1, 2], [0]), T0 + 2000, PALETTE)!;
    expect(missing.rows.map((r) => r.text)).toEqual(['2.00 KiB/s', NO_VALUE]);
    expect(tooltipAt(spec, optionWith([], []), T0, PALETTE)).toBeNull();
  });

  it('keeps the colour of a line when another is hidden', () => {
    const option = { series: [{ id: 'network.txBytesPerSec', data: [[T0, 0]] }] };
    const tip = tooltipAt(spec, option, T0, PALETTE)!;
    expect(tip.rows).toEqual([
      expect.objectContaining({ label: 'Send', color: '#222222', text: '0 B/s' }),
    ]);
    expect(lineColor(PALETTE, 4)).toBe('#222222');
  });

  it('lists the highest values of a long list and counts the rest', () => {
    const cores = Array.from({ length: 20 }, (_, id) => ({
      path: `cpu.cores.${id}.usagePercent`,
      label: `CPU ${id}`,
    }));
    const option = { series: cores.map((c, id) => ({ id: c.path, data: [[T0, id * 5]] })) };
    const tip = tooltipAt({ unit: 'percent', lines: cores }, option, T0, PALETTE)!;
    expect(tip.rows).toHaveLength(TOOLTIP_MAX_ROWS);
    expect(tip.rows[0]).toMatchObject({ label: 'CPU 19', text: '95.0 %' });
    expect(tip.more).toBe(20 - TOOLTIP_MAX_ROWS);
  });

  it('escapes names for HTML, for the history view', () => {
    expect(escapeHtml(`<veth&1 a"b'c>`)).toBe('&lt;veth&amp;1 a&quot;b&#39;c&gt;');
  });
});
