import type { CgroupLayout } from '@livestat/contracts';

/** What the collector searches the hierarchy for, in words. */
export const KINDS_SEARCHED =
  'Docker, Podman, containerd and Kubernetes containers, systemd services (system.slice), ' +
  'user sessions and virtual machines';

const LAYOUTS: Record<CgroupLayout, string> = {
  v2: 'the unified cgroup v2 hierarchy',
  v1: 'the cgroup v1 hierarchies',
  hybrid:
    'the cgroup v1 controllers of a hybrid layout (a v2 mount with no controllers beside them)',
};

/** What an empty table says: where the collector looked, and for what. */
export function emptyText(layout: CgroupLayout): string {
  return `No containers or services found. Looked in ${LAYOUTS[layout]} for ${KINDS_SEARCHED}.`;
}

/** The notes under the table: names missing (no Docker API), the walk cut short. */
export function cgroupNotes(section: {
  truncated: boolean;
  namesUnavailableReason: string | null;
}): string[] {
  const notes: string[] = [];
  if (section.namesUnavailableReason !== null) {
    notes.push(
      `Container names, images and health unavailable — ${section.namesUnavailableReason}`,
    );
  }
  if (section.truncated) {
    notes.push('More cgroups than CGROUPS_MAX: the walk stopped there, so some are not measured.');
  }
  return notes;
}

/** How a health or state reads at a glance. */
export function healthTone(text: string | null): 'ok' | 'warn' | 'bad' | null {
  if (text === null) return null;
  if (text === 'healthy' || text === 'running') return 'ok';
  if (text === 'starting' || text === 'restarting' || text === 'paused') return 'warn';
  if (text === 'unhealthy' || text === 'exited' || text === 'dead') return 'bad';
  return null;
}
