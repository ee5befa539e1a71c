import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { CgroupKind, CgroupRuntime } from '@livestat/contracts';
import { unescapeUnit } from './cgroup-parse.js';

/** A cgroup worth showing, as its path tells: what it is and, for containers, its id. */
export interface CgroupIdentity {
  /** Path relative to the hierarchy root, `/`-separated. */
  id: string;
  /** Unit name, or the 12-character short id of a container until the API names it. */
  name: string;
  kind: CgroupKind;
  runtime: CgroupRuntime | null;
  containerId: string | null;
}

/** What to do with one directory of the tree. */
interface Verdict {
  show: Omit<CgroupIdentity, 'id'> | null;
  descend: boolean;
}

const SCOPE_CONTAINER = /^(docker|libpod|cri-containerd|crio|containerd)-([0-9a-f]{64})\.scope$/;
const PLAIN_CONTAINER = /^(?:(libpod|docker)-)?([0-9a-f]{64})$/;
const UNIT_SUFFIX = /\.(service|scope|slice|mount|socket|swap|target|device|path|timer)$/;

// Parents that a container runtime creates with the cgroupfs driver: walked, never shown.
const RUNTIME_PARENTS = new Set(['docker', 'kubepods', 'libpod_parent', 'machine', 'lxc']);

function container(id: string, runtime: CgroupRuntime): Verdict {
  return {
    show: { name: id.slice(0, 12), kind: 'container', runtime, containerId: id },
    descend: false,
  };
}

function runtimeOf(prefix: string | undefined, parents: string): CgroupRuntime {
  if (parents.includes('kubepods')) return 'kubernetes';
  if (prefix === 'docker' || (prefix === undefined && /(^|\/)docker(\/|$)/.test(parents)))
    return 'docker';
  if (prefix === 'libpod' || parents.includes('libpod')) return 'podman';
  return 'containerd';
}

/**
 * Decides, from its path alone, whether a cgroup is worth showing and whether to look below
 * it: containers (docker, podman, containerd, kubepods), `system.slice` services, user slices
 * (sessions), `machine.slice` VMs, and unknown top-level groups as `other`.
 */
export function classifyCgroup(relativePath: string): Verdict {
  const parts = relativePath.split('/');
  const name = parts[parts.length - 1]!;
  const parents = parts.slice(0, -1).join('/');
  const depth = parts.length;

  const scoped = SCOPE_CONTAINER.exec(name);
  if (scoped) return container(scoped[2]!, runtimeOf(scoped[1], parents));
  const plain = PLAIN_CONTAINER.exec(name);
  if (plain) return container(plain[2]!, runtimeOf(plain[1], parents));

  if (name.endsWith('.service')) {
    // A user's service manager: rootless containers live below it.
    if (/^user@\d+\.service$/.test(name)) return { show: null, descend: true };
    const system = parents === 'system.slice' || depth === 1;
    return {
      show: system
        ? { name: unescapeUnit(name), kind: 'service', runtime: 'systemd', containerId: null }
        : null,
      descend: false,
    };
  }
  if (/^user-\d+\.slice$/.test(name)) {
    return {
      show: { name: unescapeUnit(name), kind: 'session', runtime: 'systemd', containerId: null },
      descend: true,
    };
  }
  if (name.startsWith('machine-') && name.endsWith('.scope')) {
    return {
      show: { name: unescapeUnit(name), kind: 'machine', runtime: 'systemd', containerId: null },
      descend: false,
    };
  }
  if (name.endsWith('.slice')) return { show: null, descend: true };
  if (UNIT_SUFFIX.test(name)) return { show: null, descend: false };
  if (depth === 1 && !RUNTIME_PARENTS.has(name) && !name.startsWith('kubepods')) {
    return { show: { name, kind: 'other', runtime: null, containerId: null }, descend: true };
  }
  return { show: null, descend: true };
}

/** How deep the walk looks: kubepods containers sit at depth 3–4, rootless ones at 6–7. */
const MAX_DEPTH = 8;

/** The result of one walk of the trees. */
export interface Discovery {
  groups: CgroupIdentity[];
  /** True when `max` cut the walk. */
  truncated: boolean;
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    // A cgroup removed while the walk reads it is normal.
    return [];
  }
}

/**
 * Walks the hierarchies at `roots` (one on v2, one per controller on v1, whose trees may
 * differ) and returns the cgroups worth showing, each once, at most `max` of them.
 */
export function discoverCgroups(roots: readonly string[], max: number): Discovery {
  const seen = new Map<string, CgroupIdentity>();
  const visited = new Set<string>();
  let truncated = false;
  const visit = (root: string, relative: string, depth: number): void => {
    for (const child of subdirectories(path.join(root, relative))) {
      const id = relative === '' ? child : `${relative}/${child}`;
      const verdict = classifyCgroup(id);
      if (verdict.show !== null && !seen.has(id)) {
        if (seen.size >= max) {
          truncated = true;
          return;
        }
        seen.set(id, { id, ...verdict.show });
      }
      if (verdict.descend && depth < MAX_DEPTH && !visited.has(id)) {
        visited.add(id);
        visit(root, id, depth + 1);
      }
      if (truncated) return;
    }
  };
  for (const root of roots) {
    visited.clear();
    visit(root, '', 1);
    if (truncated) break;
  }
  return { groups: [...seen.values()], truncated };
}
