import { NO_VALUE, formatDecimal, formatPercent, formatRate } from '../../../lib/format';
import { fig } from './panel-state';
import type { ChartView, CpuData, Figure } from './panel-state';

export function cpuFigures(cpu: CpuData | undefined): Figure[] {
  const load =
    cpu === undefined
      ? NO_VALUE
      : [cpu.load1, cpu.load5, cpu.load15].map((v) => formatDecimal(v)).join(' · ');
  return [
    fig('usagePercent', 'Total', formatPercent(cpu?.usagePercent)),
    fig('userPercent', 'User', formatPercent(cpu?.userPercent)),
    fig('systemPercent', 'System', formatPercent(cpu?.systemPercent)),
    fig('iowaitPercent', 'I/O wait', formatPercent(cpu?.iowaitPercent)),
    fig('stealPercent', 'Steal', formatPercent(cpu?.stealPercent)),
    {
      ...fig('loadAverage', 'Load 1 · 5 · 15', load, 'Load average over 1, 5 and 15 minutes'),
      wide: true,
    },
    fig('contextSwitchesPerSec', 'Ctx switches', formatRate(cpu?.contextSwitchesPerSec)),
  ];
}

/** One core's current usage, for the per-core bars. */
export interface CoreBar {
  id: number;
  label: string;
  percent: number;
  text: string;
}

export function coreBars(cpu: CpuData | undefined): CoreBar[] {
  if (cpu === undefined) return [];
  return [...cpu.cores]
    .sort((a, b) => a.id - b.id)
    .map((core) => ({
      id: core.id,
      label: `CPU ${core.id}`,
      percent: Math.min(100, Math.max(0, core.usagePercent)),
      text: formatPercent(core.usagePercent, 0),
    }));
}

/** CPU's charts: the split of total time, each core, and the load average. */
export function cpuViews(coreIds: readonly number[]): ChartView[] {
  return [
    {
      id: 'total',
      label: 'Total',
      unit: 'percent',
      yMax: 100,
      lines: [
        { path: 'cpu.usagePercent', label: 'Total' },
        { path: 'cpu.userPercent', label: 'User' },
        { path: 'cpu.systemPercent', label: 'System' },
        { path: 'cpu.iowaitPercent', label: 'I/O wait' },
      ],
    },
    {
      id: 'cores',
      label: 'Per core',
      unit: 'percent',
      yMax: 100,
      lines: [...coreIds]
        .sort((a, b) => a - b)
        .map((id) => ({ path: `cpu.cores.${id}.usagePercent`, label: `CPU ${id}` })),
    },
    {
      id: 'load',
      label: 'Load',
      unit: 'ratio',
      lines: [
        { path: 'cpu.load1', label: '1 min' },
        { path: 'cpu.load5', label: '5 min' },
        { path: 'cpu.load15', label: '15 min' },
      ],
    },
  ];
}
