import type { PressureMetrics, PressureResource } from '@livestat/contracts';
import { formatDecimal } from '../../../lib/format';
import type { ChartView } from './panel-state';

/** What a panel shows of its resource's pressure: a line of figures, or a note saying why not. */
export type PressureView =
  { kind: 'line'; text: string; title: string } | { kind: 'note'; text: string; title: string };

const WAITING_FOR: Record<PressureResource, string> = {
  cpu: 'a CPU',
  memory: 'memory (reclaim, swap-in, refaults)',
  io: 'I/O',
};

/** The one sentence a pressure line's tooltip says, for this resource. */
export function pressureMeaning(resource: PressureResource): string {
  return (
    `Pressure is the share of time tasks were stalled waiting for ${WAITING_FOR[resource]}: ` +
    `"some" when at least one task waited, "full" when every non-idle task did at once, ` +
    `averaged by the kernel over the last 10 s / 60 s — a shortage load average blurs.`
  );
}

/** `avg10 / avg60` of one PSI line, in %: `1.20 / 0.85 %`. */
const pair = (line: { avg10: number; avg60: number }) =>
  `${formatDecimal(line.avg10)} / ${formatDecimal(line.avg60)} %`;

/**
 * The pressure line of the panel of `resource`: `some 1.20 / 0.85 % · full 0.00 / 0.00 %`
 * (`full` only where the kernel reports it); a note when the host measured none, or when its
 * snapshot has no `pressure` section at all (an agent from before PSI, or the collector left out).
 */
export function pressureView(
  pressure: PressureMetrics | undefined,
  resource: PressureResource,
): PressureView {
  if (pressure === undefined) {
    return {
      kind: 'note',
      text: 'Pressure not reported by this host',
      title: "This host's agent sends no pressure (PSI) section.",
    };
  }
  if (!pressure.available) {
    return {
      kind: 'note',
      text: `Pressure unavailable — ${pressure.error}`,
      title: pressure.error,
    };
  }
  const { some, full } = pressure[resource];
  const text = full === null ? `some ${pair(some)}` : `some ${pair(some)} · full ${pair(full)}`;
  return { kind: 'line', text, title: pressureMeaning(resource) };
}

const RESOURCE_LABELS: Record<PressureResource, string> = {
  cpu: 'CPU pressure',
  memory: 'Memory pressure',
  io: 'I/O pressure',
};

/** A chart of each resource's pressure: some and full avg10, in %. */
export const PRESSURE_VIEWS: readonly ChartView[] = (['cpu', 'memory', 'io'] as const).map(
  (resource) => ({
    id: resource,
    label: RESOURCE_LABELS[resource],
    unit: 'percent',
    lines: [
      { path: `pressure.${resource}.some.avg10`, label: 'some' },
      { path: `pressure.${resource}.full.avg10`, label: 'full' },
    ],
  }),
);
