import {
  APP_SECTION,
  seriesInFamily,
  type AlertRule,
  type AppMessage,
  type Snapshot,
} from '@livestat/contracts';
import { hostDownAfterMs } from './rules.js';
import { compileAppSeriesReader, compileSeriesReader, type SeriesValue } from './series-reader.js';
import {
  evaluate,
  evaluateSilence,
  INITIAL_STATUS,
  nextState,
  type AlertStatus,
  type Transition,
} from './state-machine.js';
import { RollingWindow } from './window.js';

/** A transition with what it happened to: the record the store keeps and the outbox sends. */
export interface AlertTransition {
  rule: AlertRule;
  host: string;
  series: string;
  transition: Transition;
  status: AlertStatus;
}

/** A stored state to resume from (`alert_states`). */
export interface ResumedState {
  ruleId: string;
  host: string;
  series: string;
  status: AlertStatus;
}

interface Entry {
  status: AlertStatus;
  window: RollingWindow;
}

interface CompiledRule {
  rule: AlertRule;
  hosts: Set<string> | null;
  /** Its place in each host's slots (see `slotsOf`). */
  slot: number;
  /** A family (`*`): one entry per member, else one entry. */
  family: boolean;
}

type Slot = Entry | Map<string, Entry> | undefined;

/** The rules that watch one series: it is read once per message for all of them. */
interface SeriesGroup<Message> {
  read: (message: Message) => SeriesValue[];
  rules: CompiledRule[];
}

export interface Evaluator {
  /** Replaces the rules; states of unchanged rules are kept, those of removed ones dropped. */
  setRules(rules: readonly AlertRule[]): void;
  /** Restores stored states (a restart, or a new leader), before the first snapshot. */
  resume(states: readonly ResumedState[]): void;
  /**
   * Fills the windows of rules watching `series` on `host` from a stored rollup bucket (oldest
   * first, before the first live snapshot): `series` is a concrete path.
   */
  seed(host: string, series: string, at: number, sum: number, count: number): void;
  /** Evaluates every enabled rule on a host series that applies to the snapshot's host. */
  observe(snapshot: Snapshot): void;
  /** Evaluates every enabled rule on an application series (`app.…`) that applies to its host. */
  observeApp(message: AppMessage): void;
  /** Evaluates the host-down rule for every host seen (call about once a second). */
  checkHosts(now: number): void;
  /** (rule, host, series) entries held: the bound the benchmark and tests look at. */
  size(): number;
}

/**
 * The evaluator: per (rule, host, resolved series) a rolling window over the rule's `for`
 * duration and a state, fed by every snapshot of every host. One snapshot costs one read per
 * rule (only the fields the rule names) and O(1) per series; transitions go to `onTransition`
 * in the order they happen.
 */
export function createEvaluator(options: {
  onTransition: (transition: AlertTransition) => void;
}): Evaluator {
  const { onTransition } = options;
  let rules: CompiledRule[] = [];
  let groups: SeriesGroup<Snapshot>[] = [];
  let appGroups: SeriesGroup<AppMessage>[] = [];
  let hostDown: AlertRule | null = null;
  // rule id → host → series → entry
  const entries = new Map<string, Map<string, Map<string, Entry>>>();
  const lastSeen = new Map<string, { at: number; intervalMs: number }>();
  let resumed: Map<string, AlertStatus> = new Map();
  // host → the entries of each rule by slot: one lookup per snapshot instead of three per
  // rule, which matters once thousands of entries no longer fit in the CPU's caches. A cache
  // of `entries`, rebuilt as it is used after every setRules.
  let slots = new Map<string, Slot[]>();

  const key = (ruleId: string, host: string, series: string) =>
    `${ruleId}\u0000${host}\u0000${series}`;

  function entryFor(rule: AlertRule, host: string, series: string): Entry {
    let byHost = entries.get(rule.id);
    if (!byHost) entries.set(rule.id, (byHost = new Map()));
    let bySeries = byHost.get(host);
    if (!bySeries) byHost.set(host, (bySeries = new Map()));
    let entry = bySeries.get(series);
    if (!entry) {
      const k = key(rule.id, host, series);
      const status = resumed.get(k) ?? { ...INITIAL_STATUS };
      resumed.delete(k);
      entry = { status, window: new RollingWindow(rule.forSeconds * 1000) };
      bySeries.set(series, entry);
    }
    return entry;
  }

  function emit(
    rule: AlertRule,
    host: string,
    series: string,
    entry: Entry,
    result: ReturnType<typeof evaluate>,
  ) {
    entry.status = result.status;
    if (result.transition) {
      onTransition({ rule, host, series, transition: result.transition, status: result.status });
    }
  }

  /** Adds each value the groups' rules read from `message` to its window, and steps its state. */
  function feed<Message>(
    list: readonly SeriesGroup<Message>[],
    message: Message,
    host: string,
    now: number,
  ): void {
    let hostSlots = slots.get(host);
    if (!hostSlots) slots.set(host, (hostSlots = []));
    for (const group of list) {
      let values: SeriesValue[] | null = null;
      for (const compiled of group.rules) {
        if (compiled.hosts !== null && !compiled.hosts.has(host)) continue;
        values ??= group.read(message);
        const rule = compiled.rule;
        for (let i = 0; i < values.length; i++) {
          const { path, value } = values[i]!;
          let entry: Entry | undefined;
          if (compiled.family) {
            let members = hostSlots[compiled.slot] as Map<string, Entry> | undefined;
            if (!members) hostSlots[compiled.slot] = members = new Map();
            entry = members.get(path);
            if (!entry) members.set(path, (entry = entryFor(rule, host, path)));
          } else {
            entry = hostSlots[compiled.slot] as Entry | undefined;
            if (!entry) hostSlots[compiled.slot] = entry = entryFor(rule, host, path);
          }
          const window = entry.window;
          window.add(now, value);
          const observation = {
            now,
            latest: value,
            average: window.average(),
            covered: window.covers(now),
          };
          if (nextState(entry.status.state, rule, observation) === entry.status.state) {
            entry.status.value = observation.average;
          } else emit(rule, host, path, entry, evaluate(entry.status, rule, observation));
        }
      }
    }
  }

  return {
    setRules(next) {
      const before = new Map(rules.map(({ rule }) => [rule.id, rule]));
      rules = [];
      hostDown = null;
      for (const rule of next) {
        if (rule.builtin === 'host_down') {
          if (rule.enabled) hostDown = rule;
          continue;
        }
        if (!rule.enabled) continue;
        rules.push({
          rule,
          hosts: rule.hosts.length === 0 ? null : new Set(rule.hosts),
          slot: rules.length,
          family: rule.series.includes('*'),
        });
      }
      const bySeries = new Map<string, SeriesGroup<Snapshot>>();
      const byAppSeries = new Map<string, SeriesGroup<AppMessage>>();
      for (const compiled of rules) {
        const series = compiled.rule.series;
        if (series.startsWith(`${APP_SECTION}.`)) {
          let group = byAppSeries.get(series);
          if (!group)
            byAppSeries.set(series, (group = { read: compileAppSeriesReader(series), rules: [] }));
          group.rules.push(compiled);
          continue;
        }
        let group = bySeries.get(series);
        if (!group)
          bySeries.set(series, (group = { read: compileSeriesReader(series), rules: [] }));
        group.rules.push(compiled);
      }
      groups = [...bySeries.values()];
      appGroups = [...byAppSeries.values()];
      slots = new Map();
      const kept = new Set(next.filter((rule) => rule.enabled).map((rule) => rule.id));
      for (const id of entries.keys()) {
        const old = before.get(id);
        const now = next.find((rule) => rule.id === id);
        // A rule removed, disabled, or given another series or duration starts afresh.
        if (
          !kept.has(id) ||
          !old ||
          !now ||
          old.series !== now.series ||
          old.forSeconds !== now.forSeconds
        ) {
          entries.delete(id);
        }
      }
    },

    resume(states) {
      resumed = new Map(states.map((s) => [key(s.ruleId, s.host, s.series), s.status]));
      for (const s of states) {
        // Host down watches hosts that may never speak again: known from their stored state.
        if (s.series === '' && !lastSeen.has(s.host)) {
          lastSeen.set(s.host, { at: s.status.since, intervalMs: 0 });
        }
      }
    },

    seed(host, series, at, sum, count) {
      for (const compiled of rules) {
        if (compiled.hosts !== null && !compiled.hosts.has(host)) continue;
        if (!seriesInFamily(compiled.rule.series, series)) continue;
        entryFor(compiled.rule, host, series).window.addSum(at, sum, count);
      }
    },

    observe(snapshot) {
      const now = Date.parse(snapshot.timestamp);
      const host = snapshot.host;
      const seen = lastSeen.get(host);
      if (!seen || seen.at <= now) lastSeen.set(host, { at: now, intervalMs: snapshot.intervalMs });
      if (hostDown) {
        const entry = entryFor(hostDown, host, '');
        if (entry.status.state === 'firing') {
          const afterMs = hostDownAfterMs(hostDown, snapshot.intervalMs);
          emit(
            hostDown,
            host,
            '',
            entry,
            evaluateSilence(entry.status, { now, lastSeen: now, afterMs }),
          );
        }
      }
      feed(groups, snapshot, host, now);
    },

    observeApp(message) {
      feed(appGroups, message, message.host, Date.parse(message.timestamp));
    },

    checkHosts(now) {
      if (!hostDown) return;
      for (const [host, seen] of lastSeen) {
        if (hostDown.hosts.length > 0 && !hostDown.hosts.includes(host)) continue;
        const entry = entryFor(hostDown, host, '');
        const afterMs = hostDownAfterMs(hostDown, seen.intervalMs);
        emit(
          hostDown,
          host,
          '',
          entry,
          evaluateSilence(entry.status, { now, lastSeen: seen.at, afterMs }),
        );
      }
    },

    size() {
      let n = 0;
      for (const byHost of entries.values())
        for (const bySeries of byHost.values()) n += bySeries.size;
      return n;
    },
  };
}
