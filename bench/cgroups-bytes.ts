// bench/cgroups-bytes: how big the snapshot's `cgroups` section is, and how many history
// series it makes, for a host with 10 and with 60 containers (plus systemd services and a user
// session, as manyCgroups mixes them), every container named by the Docker API (name, image,
// state, health, restart count). Bytes are JSON.stringify of the section as the collector
// returns it; per day at 1 Hz is that × 86,400 (raw JSON, before PostgreSQL's compression).
// Beside it, the same cgroups as full rows (what the section carried before its entries were
// made small: every field, nulls, path, container id, image, restart count).
//
//   npm run -s bench:cgroups-bytes
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flattenSeries } from '@livestat/contracts';
import { createCgroupsCollector } from '../apps/api/src/collectors/cgroups.js';
import type { ContainerNames } from '../apps/api/src/collectors/container-names.js';
import { manyCgroups, writeV2Host } from '../apps/api/test/cgroup-tree.js';

// The Docker API's answer for every container, as container-names.ts maps it.
const named: ContainerNames = {
  lookup: (containerId) => ({
    name: `app-${containerId.slice(0, 6)}-1`,
    image: `registry.example.com/team/app-${containerId.slice(0, 4)}:2026.12.1`,
    state: 'running',
    health: 'healthy',
    restartCount: 0,
  }),
  reason: () => null,
  refresh: async () => {},
  stop: () => {},
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'livestat-bench-cgroup-bytes-'));
console.log(
  '| containers | cgroups | in snapshot | full rows: bytes | entries: bytes | full rows: MB/day | entries: MB/day | series |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
try {
  for (const containers of [10, 60]) {
    // manyCgroups: five of every six are containers, the sixth a service.
    const roots = writeV2Host(
      path.join(dir, String(containers)),
      manyCgroups(Math.ceil((containers * 6) / 5)),
    );
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock }, { names: named });
    await collector.prime?.();
    clock = 1000;
    const section = await collector.collect();
    if (!section.available) throw new Error(section.error);
    const table = collector.table()!;
    const rowOf = (key: string) => table.groups.find((row) => row.id === key || row.name === key)!;
    const keys = Object.keys(section.groups);
    const full = { ...section, groups: Object.fromEntries(keys.map((key) => [key, rowOf(key)])) };
    const before = JSON.stringify(full).length;
    const after = JSON.stringify(section).length;
    const series = flattenSeries('cgroups', section).size;
    const count = table.groups.filter((row) => row.kind === 'container').length;
    const perDay = (bytes: number) => ((bytes * 86_400) / 1e6).toFixed(0);
    console.log(
      `| ${count} | ${table.total} | ${keys.length} | ${before} | ${after} | ${perDay(before)} | ` +
        `${perDay(after)} | ${series} |`,
    );
    await collector.stop?.();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
