import { NO_VALUE, formatBytes, formatMaybeBytes, formatPercent } from '../../../lib/format';
import { fig } from './panel-state';
import type { ChartView, Figure, MemoryData } from './panel-state';

export function memoryFigures(memory: MemoryData | undefined): Figure[] {
  const swap =
    memory === undefined
      ? NO_VALUE
      : memory.swapTotalBytes === 0
        ? 'none'
        : `${formatBytes(memory.swapUsedBytes)} / ${formatBytes(memory.swapTotalBytes)}`;
  return [
    fig('usedPercent', 'Usage', formatPercent(memory?.usedPercent), 'Share not available'),
    fig('usedBytes', 'Used', formatMaybeBytes(memory?.usedBytes)),
    fig('availableBytes', 'Available', formatMaybeBytes(memory?.availableBytes)),
    fig('cachedBytes', 'Cached', formatMaybeBytes(memory?.cachedBytes)),
    fig('buffersBytes', 'Buffers', formatMaybeBytes(memory?.buffersBytes)),
    fig('freeBytes', 'Free', formatMaybeBytes(memory?.freeBytes)),
    fig('totalBytes', 'Total', formatMaybeBytes(memory?.totalBytes)),
    fig('swap', 'Swap used', swap),
  ];
}

export const MEMORY_VIEWS: readonly ChartView[] = [
  {
    id: 'usage',
    label: 'Memory',
    unit: 'bytes',
    lines: [
      { path: 'memory.usedBytes', label: 'Used', stack: 'memory' },
      { path: 'memory.buffersBytes', label: 'Buffers', stack: 'memory' },
      { path: 'memory.cachedBytes', label: 'Cached', stack: 'memory' },
      { path: 'memory.freeBytes', label: 'Free', stack: 'memory' },
    ],
  },
  {
    id: 'swap',
    label: 'Swap',
    unit: 'bytes',
    lines: [{ path: 'memory.swapUsedBytes', label: 'Swap used' }],
  },
];
