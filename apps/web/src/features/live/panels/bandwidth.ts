import type { ChartLine } from '../chart-options';
import { formatByteRate, formatRate } from '../../../lib/format';
import { fig } from './panel-state';
import type { BandwidthData, ChartView, Figure } from './panel-state';

export function bandwidthFigures(bw: BandwidthData | undefined): Figure[] {
  const minor =
    bw === undefined ? undefined : Math.max(0, bw.pageFaultsPerSec - bw.majorFaultsPerSec);
  const figures = [
    fig('pageInBytesPerSec', 'Page in', formatByteRate(bw?.pageInBytesPerSec)),
    fig('pageOutBytesPerSec', 'Page out', formatByteRate(bw?.pageOutBytesPerSec)),
    fig('swapInPagesPerSec', 'Swap in', formatRate(bw?.swapInPagesPerSec, 'pages')),
    fig('swapOutPagesPerSec', 'Swap out', formatRate(bw?.swapOutPagesPerSec, 'pages')),
    fig('minorFaultsPerSec', 'Minor faults', formatRate(minor)),
    fig('majorFaultsPerSec', 'Major faults', formatRate(bw?.majorFaultsPerSec)),
  ];
  const dram = bw?.dram;
  if (dram) {
    const source = dram.source === 'resctrl' ? 'resctrl (mbm_total_bytes)' : 'perf uncore_imc';
    figures.push(
      fig('dramTotalBytesPerSec', 'DRAM', formatByteRate(dram.totalBytesPerSec), source),
      fig('dramReadBytesPerSec', 'DRAM read', formatByteRate(dram.readBytesPerSec)),
      fig('dramWriteBytesPerSec', 'DRAM write', formatByteRate(dram.writeBytesPerSec)),
    );
  }
  return figures;
}

/** Bandwidth's charts; DRAM joins when the machine measures it. */
export function bandwidthViews(dram: boolean): ChartView[] {
  const views: ChartView[] = [
    {
      id: 'paging',
      label: 'Paging',
      unit: 'byteRate',
      lines: [
        { path: 'bandwidth.pageInBytesPerSec', label: 'Page in' },
        { path: 'bandwidth.pageOutBytesPerSec', label: 'Page out' },
      ],
    },
    {
      id: 'swap',
      label: 'Swap',
      unit: 'rate',
      lines: [
        { path: 'bandwidth.swapInPagesPerSec', label: 'Swap in (pages)' },
        { path: 'bandwidth.swapOutPagesPerSec', label: 'Swap out (pages)' },
      ],
    },
    {
      id: 'faults',
      label: 'Faults',
      unit: 'rate',
      lines: [
        { path: 'bandwidth.pageFaultsPerSec', label: 'All faults' },
        { path: 'bandwidth.majorFaultsPerSec', label: 'Major faults' },
      ],
    },
  ];
  if (dram) {
    const lines: ChartLine[] = [
      { path: 'bandwidth.dram.totalBytesPerSec', label: 'DRAM total' },
      { path: 'bandwidth.dram.readBytesPerSec', label: 'DRAM read' },
      { path: 'bandwidth.dram.writeBytesPerSec', label: 'DRAM write' },
    ];
    views.push({ id: 'dram', label: 'DRAM', unit: 'byteRate', lines });
  }
  return views;
}

/** Where the DRAM figure comes from, or why there is none. */
export function dramNote(bw: BandwidthData | undefined): string | null {
  if (bw === undefined) return null;
  if (bw.dram) {
    return bw.dram.source === 'resctrl'
      ? 'DRAM bandwidth from resctrl (mbm_total_bytes)'
      : 'DRAM bandwidth from perf uncore_imc CAS counts';
  }
  return `DRAM bandwidth unavailable${bw.dramUnavailableReason ? ` — ${bw.dramUnavailableReason}` : ''}`;
}
