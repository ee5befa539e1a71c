import { formatCount } from '../../../lib/format';
import type {
  BandwidthMetrics,
  CpuMetrics,
  DiskMetrics,
  MemoryMetrics,
  NetworkMetrics,
  PerfMetrics,
} from '@livestat/contracts';
import type { ChartSpec } from '../chart-options';

/** A collector's payload when it measured: the `available: true` side of its union. */
export type Available<T> = Extract<T, { available: true }>;
export type CpuData = Available<CpuMetrics>;
export type MemoryData = Available<MemoryMetrics>;
export type NetworkData = Available<NetworkMetrics>;
export type DiskData = Available<DiskMetrics>;
export type PerfData = Available<PerfMetrics>;
export type BandwidthData = Available<BandwidthMetrics>;

/** One headline figure of a panel: `key` is its `data-value` hook, `text` what it shows. */
export interface Figure {
  key: string;
  label: string;
  text: string;
  /** A longer explanation, for a tooltip. */
  title?: string;
  /** Takes two columns (a figure of several numbers). */
  wide?: boolean;
}

/** A chart a panel can show; a panel with several offers a picker. */
export interface ChartView extends ChartSpec {
  id: string;
  label: string;
}

/** A panel's payload split three ways: nothing yet, the collector's error, or its data. */
export type PanelState<T> =
  { kind: 'waiting' } | { kind: 'unavailable'; error: string } | { kind: 'ok'; data: T };

/** Which of the three a collector's payload (or its absence, before the first snapshot) is. */
export function panelState<T extends { available: boolean }>(
  payload: T | undefined,
): PanelState<Extract<T, { available: true }>> {
  if (payload === undefined) return { kind: 'waiting' };
  if (!payload.available) {
    const error = (payload as unknown as { error?: unknown }).error;
    return { kind: 'unavailable', error: typeof error === 'string' ? error : 'unavailable' };
  }
  return { kind: 'ok', data: payload as Extract<T, { available: true }> };
}

/** What a panel says when its collector could not measure: `Disk unavailable — <why>`. */
export function unavailableText(title: string, error: string): string {
  return `${title} unavailable — ${error}`;
}

/** The data of a collector that measured, else undefined (its figures then show `—`). */
export function availableData<T extends { available: boolean }>(
  payload: T | undefined,
): Extract<T, { available: true }> | undefined {
  const state = panelState(payload);
  return state.kind === 'ok' ? state.data : undefined;
}

/** The view `id` names, or the first one when it is gone (hardware counters went away). */
export function pickView<V extends { id: string }>(views: readonly V[], id: string): V | undefined {
  return views.find((view) => view.id === id) ?? views[0];
}

/** Two counts as one figure: `12 · 3`. */
export const pair = (a: number, b: number) => `${formatCount(a)} · ${formatCount(b)}`;

/** A figure, its `title` only when there is one. */
export const fig = (key: string, label: string, text: string, title?: string): Figure =>
  title === undefined ? { key, label, text } : { key, label, text, title };
