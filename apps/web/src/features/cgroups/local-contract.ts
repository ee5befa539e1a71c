// Local copies of the agreed shapes (notes/contracts-processes-cgroups.md) until
// packages/contracts/src/pressure.ts and cgroups.ts land; deleted then.

export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  stallMsPerSec: number;
}
export type PressureResource = 'cpu' | 'memory' | 'io';
export interface PressureResourceMetrics {
  some: PressureLine;
  full: PressureLine | null;
}
export type PressureMetrics =
  | { available: false; error: string }
  | {
      available: true;
      cpu: PressureResourceMetrics;
      memory: PressureResourceMetrics;
      io: PressureResourceMetrics;
    };

export type CgroupLayout = 'v2' | 'v1' | 'hybrid';
export type CgroupKind = 'container' | 'service' | 'session' | 'machine' | 'slice' | 'other';
export type CgroupRuntime = 'docker' | 'podman' | 'containerd' | 'kubernetes' | 'systemd';

export interface CgroupRow {
  id: string;
  name: string;
  kind: CgroupKind;
  runtime: CgroupRuntime | null;
  containerId: string | null;
  image: string | null;
  state: string | null;
  health: string | null;
  restartCount: number | null;
  cpuPercent: number;
  throttledMsPerSec: number | null;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  memoryAnonBytes: number | null;
  memoryFileBytes: number | null;
  ioReadBytesPerSec: number | null;
  ioWriteBytesPerSec: number | null;
  ioReadOpsPerSec: number | null;
  ioWriteOpsPerSec: number | null;
  pids: number | null;
  pressure: { cpu: number | null; memory: number | null; io: number | null };
}

interface CgroupsSummary {
  layout: CgroupLayout;
  total: number;
  truncated: boolean;
  namesUnavailableReason: string | null;
}

export type CgroupsMetrics =
  | { available: false; error: string }
  | (CgroupsSummary & { available: true; groups: Record<string, CgroupRow> });

export interface CgroupsMessage extends CgroupsSummary {
  type: 'cgroups';
  host: string;
  timestamp: string;
  groups: CgroupRow[];
}
