import { formatBytes, formatDuration, formatPercent, NO_VALUE } from '../../lib/format';
import type { ProcessesTopResponse, ProcessSort, ProcessUsage } from '@livestat/contracts';

/** The tabs of "Top processes in this range", in order. */
export const TOP_TABS: readonly { by: ProcessSort; label: string }[] = [
  { by: 'cpu', label: 'CPU' },
  { by: 'memory', label: 'Memory' },
  { by: 'io', label: 'I/O' },
];

/** How many processes the side panel asks for. */
export const TOP_LIMIT = 10;

/** One process of the list as shown: its ranking figure first, the others after. */
export interface TopEntry {
  /** pid and first sighting: the same pid reused later is another process. */
  key: string;
  pid: number;
  name: string;
  user: string;
  /** The command line for the tooltip; the name in brackets when the tier kept none. */
  command: string;
  /** The figure it is ranked by: `42.0 % avg · 1 min 03 s CPU`, `1.20 GiB peak`, `350 MiB`. */
  measure: string;
  /** The other two, smaller. */
  detail: string;
}

function cpuText(process: ProcessUsage): string {
  const seconds =
    process.cpuSeconds < 60
      ? `${process.cpuSeconds.toFixed(1)} s`
      : formatDuration(process.cpuSeconds);
  return `${formatPercent(process.avgCpuPercent)} avg · ${seconds} CPU`;
}

const memoryText = (process: ProcessUsage) => `${formatBytes(process.peakRssBytes)} peak`;
const ioText = (process: ProcessUsage) =>
  process.ioBytes === null ? `I/O ${NO_VALUE}` : `${formatBytes(process.ioBytes)} I/O`;

/** The list of an answer, each process with the figure it was ranked `by` first. */
export function topEntries(response: Pick<ProcessesTopResponse, 'by' | 'processes'>): TopEntry[] {
  const texts = { cpu: cpuText, memory: memoryText, io: ioText };
  const others = (['cpu', 'memory', 'io'] as const).filter((by) => by !== response.by);
  return response.processes.map((process) => ({
    key: `${process.pid}@${process.firstSeen}`,
    pid: process.pid,
    name: process.name,
    user: process.user,
    command: process.command === '' ? `[${process.name}]` : process.command,
    measure: texts[response.by](process),
    detail: others.map((by) => texts[by](process)).join(' · '),
  }));
}

/** The range in words for the panel's heading: `09:12:03 – 09:14:10`, the date when not today. */
export function rangeText(range: { from: number; to: number }, now = Date.now()): string {
  const day = (ms: number) => new Date(ms).toDateString();
  const time = (ms: number) =>
    day(ms) === day(now)
      ? new Date(ms).toLocaleTimeString()
      : new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  return `${time(range.from)} – ${time(range.to)}`;
}
