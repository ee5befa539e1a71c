import type { PerfMetrics } from '@livestat/contracts';
import { formatDecimal, formatPercent, formatRate } from '../../../lib/format';
import { fig } from './panel-state';
import type { ChartView, Figure, PerfData } from './panel-state';

/** What the Perf panel says instead of hardware counters, or null when they count. */
export function perfHardwareNotice(perf: PerfMetrics | undefined): string | null {
  if (perf === undefined) return null;
  const why = perf.available ? perf.hardwareUnavailableReason : perf.error;
  if (perf.available && perf.hardwareAvailable) return null;
  return why ? `Hardware performance counters unavailable — ${why}` : HARDWARE_UNAVAILABLE;
}

/** The Perf panel's notice when no reason was given. */
export const HARDWARE_UNAVAILABLE = 'Hardware performance counters unavailable';

const PERF_HARDWARE_FIGURES = (perf: PerfData | undefined): Figure[] => [
  fig('ipc', 'IPC', formatDecimal(perf?.ipc), 'Instructions per cycle'),
  fig('cyclesPerSec', 'Cycles', formatRate(perf?.cyclesPerSec)),
  fig('instructionsPerSec', 'Instructions', formatRate(perf?.instructionsPerSec)),
  fig('cacheMissesPerSec', 'Cache misses', formatRate(perf?.cacheMissesPerSec)),
  fig('cacheMissPercent', 'Cache miss ratio', formatPercent(perf?.cacheMissPercent)),
  fig('branchMissesPerSec', 'Branch misses', formatRate(perf?.branchMissesPerSec)),
];

/**
 * The Perf panel's figures: the hardware counters (left out when the PMU is missing, where the
 * notice says why) and the software events, which count on any machine.
 */
export function perfFigures(perf: PerfData | undefined): Figure[] {
  const hardware = perf === undefined || perf.hardwareAvailable ? PERF_HARDWARE_FIGURES(perf) : [];
  return [
    ...hardware,
    fig('contextSwitchesPerSec', 'Context switches', formatRate(perf?.contextSwitchesPerSec)),
    fig('cpuMigrationsPerSec', 'CPU migrations', formatRate(perf?.cpuMigrationsPerSec)),
    fig('pageFaultsPerSec', 'Page faults', formatRate(perf?.pageFaultsPerSec)),
  ];
}

const PERF_SOFTWARE_VIEW: ChartView = {
  id: 'software',
  label: 'Software',
  unit: 'rate',
  lines: [
    { path: 'perf.contextSwitchesPerSec', label: 'Context switches' },
    { path: 'perf.cpuMigrationsPerSec', label: 'CPU migrations' },
    { path: 'perf.pageFaultsPerSec', label: 'Page faults' },
  ],
};

/** Perf's charts: IPC and the hardware event rates when they count, the software events always. */
export function perfViews(hardware: boolean): ChartView[] {
  if (!hardware) return [PERF_SOFTWARE_VIEW];
  return [
    { id: 'ipc', label: 'IPC', unit: 'ratio', lines: [{ path: 'perf.ipc', label: 'IPC' }] },
    {
      id: 'cycles',
      label: 'Cycles',
      unit: 'rate',
      lines: [
        { path: 'perf.cyclesPerSec', label: 'Cycles' },
        { path: 'perf.instructionsPerSec', label: 'Instructions' },
      ],
    },
    {
      id: 'misses',
      label: 'Misses',
      unit: 'rate',
      lines: [
        { path: 'perf.cacheMissesPerSec', label: 'Cache misses' },
        { path: 'perf.branchMissesPerSec', label: 'Branch misses' },
      ],
    },
    PERF_SOFTWARE_VIEW,
  ];
}
