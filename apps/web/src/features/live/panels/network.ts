import { formatByteRate, formatRate } from '../../../lib/format';
import { fig, pair } from './panel-state';
import type { ChartView, Figure, NetworkData } from './panel-state';

export function networkFigures(network: NetworkData | undefined): Figure[] {
  const sum = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : a + b);
  return [
    fig('rxBytesPerSec', 'Receive', formatByteRate(network?.rxBytesPerSec)),
    fig('txBytesPerSec', 'Send', formatByteRate(network?.txBytesPerSec)),
    fig('rxPacketsPerSec', 'Rx packets', formatRate(network?.rxPacketsPerSec)),
    fig('txPacketsPerSec', 'Tx packets', formatRate(network?.txPacketsPerSec)),
    fig(
      'errorsPerSec',
      'Errors',
      formatRate(sum(network?.rxErrorsPerSec, network?.txErrorsPerSec)),
      'Receive + transmit errors',
    ),
    fig(
      'dropsPerSec',
      'Drops',
      formatRate(sum(network?.rxDropsPerSec, network?.txDropsPerSec)),
      'Receive + transmit drops',
    ),
  ];
}

/** One interface in the per-interface table. */
export interface InterfaceRow {
  name: string;
  kind: 'physical' | 'virtual' | 'loopback';
  rx: string;
  tx: string;
  /** Packets per second in · out: `42.0 · 31.0`. */
  packets: string;
  /** Errors · drops per second, both directions: `0 · 0`. */
  errorsDrops: string;
}

/** Two per-second figures in one table cell, its header saying `/s`. */

const KIND_ORDER = { physical: 0, virtual: 1, loopback: 2 } as const;

/** Every interface, physical ones first (those the totals count), then by name. */
export function interfaceRows(network: NetworkData | undefined): InterfaceRow[] {
  if (network === undefined) return [];
  return Object.entries(network.interfaces)
    .map(([name, i]): InterfaceRow => ({
      name,
      kind: i.loopback ? 'loopback' : i.virtual ? 'virtual' : 'physical',
      rx: formatByteRate(i.rxBytesPerSec),
      tx: formatByteRate(i.txBytesPerSec),
      packets: pair(i.rxPacketsPerSec, i.txPacketsPerSec),
      errorsDrops: pair(i.rxErrorsPerSec + i.txErrorsPerSec, i.rxDropsPerSec + i.txDropsPerSec),
    }))
    .sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.name.localeCompare(b.name));
}

/** Network's charts, of the totals (`iface` null) or of one interface. */
export function networkViews(iface: string | null): ChartView[] {
  const p = iface === null ? 'network.' : `network.interfaces.${iface}.`;
  return [
    {
      id: 'bytes',
      label: 'Bytes',
      unit: 'byteRate',
      lines: [
        { path: `${p}rxBytesPerSec`, label: 'Receive' },
        { path: `${p}txBytesPerSec`, label: 'Send' },
      ],
    },
    {
      id: 'packets',
      label: 'Packets',
      unit: 'rate',
      lines: [
        { path: `${p}rxPacketsPerSec`, label: 'Rx packets' },
        { path: `${p}txPacketsPerSec`, label: 'Tx packets' },
      ],
    },
    {
      id: 'errors',
      label: 'Errors',
      unit: 'rate',
      lines: [
        { path: `${p}rxErrorsPerSec`, label: 'Rx errors' },
        { path: `${p}txErrorsPerSec`, label: 'Tx errors' },
        { path: `${p}rxDropsPerSec`, label: 'Rx drops' },
        { path: `${p}txDropsPerSec`, label: 'Tx drops' },
      ],
    },
  ];
}
