import type { ProcessesMetrics, Snapshot } from '@livestat/contracts';
import { fig, panelState, unavailableText } from '../live/panels/panel-state';
import type { Figure, PanelState } from '../live/panels/panel-state';
import { formatWhole } from './process-table';

/** The `processes` section when it measured. */
export type ProcessesData = Extract<ProcessesMetrics, { available: true }>;

/** What an agent that predates the processes collector sends: no section at all. */
export const OLDER_AGENT = "this host's agent does not collect processes (an older version)";

/**
 * The panel's state from the host's snapshot: waiting before the first one, unavailable when
 * the collector could not read (its error) or the agent sends no `processes` section at all.
 */
export function processesState(snapshot: Snapshot | undefined): PanelState<ProcessesData> {
  if (snapshot === undefined) return { kind: 'waiting' };
  if (snapshot.processes === undefined) return { kind: 'unavailable', error: OLDER_AGENT };
  return panelState(snapshot.processes);
}

/** The panel's unavailable line, or null. */
export function processesError(state: PanelState<ProcessesData>): string | null {
  return state.kind === 'unavailable' ? unavailableText('Processes', state.error) : null;
}

/** The counts of the snapshot's section: total, running, blocked, zombie, threads. */
export function processFigures(data: ProcessesData | undefined): Figure[] {
  const count = formatWhole;
  return [
    fig('total', 'Processes', count(data?.total)),
    fig('running', 'Running', count(data?.running), 'In state R: on a CPU or ready to run'),
    fig('blocked', 'Blocked', count(data?.blocked), 'In state D: waiting on I/O, uninterruptibly'),
    fig('zombie', 'Zombie', count(data?.zombie), 'Exited, not yet reaped by their parent'),
    fig('threads', 'Threads', count(data?.threads)),
  ];
}
