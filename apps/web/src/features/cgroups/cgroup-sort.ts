import type { CgroupRow } from '@livestat/contracts';

/** The columns the table sorts by. */
export const CGROUP_SORT_KEYS = [
  'name',
  'kind',
  'cpu',
  'memory',
  'io',
  'pressure',
  'health',
  'pids',
] as const;
export type CgroupSortKey = (typeof CGROUP_SORT_KEYS)[number];

/** A column and a direction. */
export interface CgroupSort {
  key: CgroupSortKey;
  descending: boolean;
}

/** What the table opens with: the busiest first. */
export const DEFAULT_CGROUP_SORT: CgroupSort = { key: 'cpu', descending: true };

const TEXT_KEYS: ReadonlySet<CgroupSortKey> = new Set(['name', 'kind', 'health']);

/** A sum of the values present; null when none is. */
function sumOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0);
}

/** The value a row is sorted on by `key`: null where the host does not measure it. */
export function sortValue(row: CgroupRow, key: CgroupSortKey): string | number | null {
  switch (key) {
    case 'name':
      return row.name;
    case 'kind':
      return `${row.kind} ${row.runtime ?? ''}`.trim();
    case 'cpu':
      return row.cpuPercent;
    case 'memory':
      return row.memoryBytes;
    case 'io':
      return sumOrNull([row.ioReadBytesPerSec, row.ioWriteBytesPerSec]);
    case 'pressure': {
      // The worst of the three: the resource the cgroup waits on most.
      const values = [row.pressure.cpu, row.pressure.memory, row.pressure.io].filter(
        (value): value is number => value !== null,
      );
      return values.length === 0 ? null : Math.max(...values);
    }
    case 'health':
      return row.health ?? row.state;
    case 'pids':
      return row.pids;
  }
}

/**
 * The rows ordered by `sort`. A row without the value (v1 has no pressure, a service has no
 * health) goes last whichever the direction, so flipping it never floods the top with dashes;
 * ties go by name, so the order holds still from tick to tick.
 */
export function sortCgroups(rows: readonly CgroupRow[], sort: CgroupSort): CgroupRow[] {
  const sign = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = sortValue(a, sort.key);
    const y = sortValue(b, sort.key);
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else if (x !== y) {
      const order =
        typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      if (order !== 0) return sign * order;
    }
    return a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  });
}

/**
 * The sort after a click on column `key`: the same column flips; another starts biggest first
 * for numbers and A→Z for text.
 */
export function nextSort(current: CgroupSort, key: CgroupSortKey): CgroupSort {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: !TEXT_KEYS.has(key) };
}
