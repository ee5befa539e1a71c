import { randomUUID } from 'node:crypto';
import type {
  ActiveAlert,
  AlertEvent,
  AlertHistoryQuery,
  AlertSeverity,
  AlertState,
} from '@livestat/contracts';
import type { Database } from '../storage/db.js';
import type { AlertTransition, ResumedState } from './evaluator.js';
import { isUuid } from './rule-store.js';

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

/** What a notification carries: the event and what a message needs to say about it. */
export interface NotificationPayload {
  event: AlertEvent;
  threshold: number;
  comparison: string;
  description: string;
}

interface EventRow {
  id: number;
  rule_id: string;
  rule_name: string;
  host: string;
  series: string;
  from_state: AlertState;
  to_state: AlertState;
  value: number | null;
  severity: AlertSeverity;
  at: Date;
}

const EVENT_COLUMNS = `id, rule_id::text AS rule_id, rule_name, host, series, from_state, to_state,
  value, severity, at`;

function toEvent(row: EventRow): AlertEvent {
  return {
    id: row.id,
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    host: row.host,
    series: row.series,
    from: row.from_state,
    to: row.to_state,
    value: row.value,
    severity: row.severity,
    at: row.at.toISOString(),
  };
}

/** States, events and the outbox: what the evaluator writes and the routes read. */
export interface StateStore {
  /**
   * Stores one transition in one transaction: the state, the event, and — for firing and
   * resolved, unless a silence covers it — one outbox row per enabled channel of enough
   * severity. Returns the stored event and whether it was silenced.
   */
  record(
    transition: AlertTransition,
  ): Promise<{ event: AlertEvent; silenced: boolean; queued: number }>;
  /** Every stored state, for the evaluator to resume from. */
  states(): Promise<ResumedState[]>;
  /** Pending and firing alerts, newest first, each with whether a silence covers it now. */
  active(now?: Date): Promise<ActiveAlert[]>;
  history(query: AlertHistoryQuery): Promise<AlertEvent[]>;
}

export function createStateStore(db: Database): StateStore {
  return {
    async record({ rule, host, series, transition, status }) {
      return db.transaction(async (tx) => {
        const at = new Date(transition.at);
        await tx.query(
          `INSERT INTO alert_states (rule_id, host, series, state, since, firing_since, value)
           SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM alert_rules WHERE id = $1)
           ON CONFLICT (rule_id, host, series) DO UPDATE SET state = EXCLUDED.state,
             since = EXCLUDED.since, firing_since = EXCLUDED.firing_since, value = EXCLUDED.value`,
          [
            rule.id,
            host,
            series,
            status.state,
            new Date(status.since),
            status.firingSince === null ? null : new Date(status.firingSince),
            status.value,
          ],
        );
        const silencedRows = await tx.query(
          `SELECT 1 FROM alert_silences WHERE until > $3
             AND (rule_id IS NULL OR rule_id = $1) AND (host IS NULL OR host = $2) LIMIT 1`,
          [rule.id, host, at],
        );
        const silenced = silencedRows.length > 0;
        const rows = await tx.query<EventRow>(
          `INSERT INTO alert_events (rule_id, rule_name, host, series, from_state, to_state, value,
             threshold, severity, silenced, at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${EVENT_COLUMNS}`,
          [
            rule.id,
            rule.name,
            host,
            series,
            transition.from,
            transition.to,
            transition.value,
            rule.threshold,
            rule.severity,
            silenced,
            at,
          ],
        );
        const event = toEvent(rows[0]!);
        let queued = 0;
        if (!silenced && (transition.to === 'firing' || transition.to === 'resolved')) {
          const channels = await tx.query<{ id: string; min_severity: AlertSeverity }>(
            `SELECT id::text AS id, min_severity FROM alert_channels WHERE enabled`,
          );
          const payload: NotificationPayload = {
            event,
            threshold: rule.threshold,
            comparison: rule.comparison,
            description: rule.description,
          };
          for (const channel of channels) {
            if (SEVERITY_RANK[rule.severity] < SEVERITY_RANK[channel.min_severity]) continue;
            await tx.query(
              `INSERT INTO notification_outbox (id, channel_id, event_id, payload) VALUES ($1, $2, $3, $4)`,
              [randomUUID(), channel.id, event.id, JSON.stringify(payload)],
            );
            queued++;
          }
        }
        return { event, silenced, queued };
      });
    },

    async states() {
      const rows = await db.query<{
        rule_id: string;
        host: string;
        series: string;
        state: AlertState;
        since: Date;
        firing_since: Date | null;
        value: number | null;
      }>(
        `SELECT rule_id::text AS rule_id, host, series, state, since, firing_since, value FROM alert_states`,
      );
      return rows.map((row) => ({
        ruleId: row.rule_id,
        host: row.host,
        series: row.series,
        status: {
          state: row.state,
          since: row.since.getTime(),
          firingSince: row.firing_since?.getTime() ?? null,
          value: row.value,
        },
      }));
    },

    async active(now = new Date()) {
      const rows = await db.query<{
        rule_id: string;
        rule_name: string;
        host: string;
        series: string;
        state: 'pending' | 'firing';
        severity: AlertSeverity;
        value: number | null;
        threshold: number;
        since: Date;
        firing_since: Date | null;
        silenced: boolean;
      }>(
        `SELECT s.rule_id::text AS rule_id, r.name AS rule_name, s.host, s.series, s.state,
           r.severity, s.value, r.threshold, s.since, s.firing_since,
           EXISTS (SELECT 1 FROM alert_silences x WHERE x.until > $1
             AND (x.rule_id IS NULL OR x.rule_id = s.rule_id)
             AND (x.host IS NULL OR x.host = s.host)) AS silenced
         FROM alert_states s JOIN alert_rules r ON r.id = s.rule_id
         WHERE s.state IN ('pending', 'firing') AND r.enabled
         ORDER BY s.state = 'firing' DESC, s.since DESC`,
        [now],
      );
      return rows.map((row) => ({
        ruleId: row.rule_id,
        ruleName: row.rule_name,
        host: row.host,
        series: row.series,
        state: row.state,
        severity: row.severity,
        value: row.value,
        threshold: row.threshold,
        since: row.since.toISOString(),
        firingSince: row.firing_since?.toISOString() ?? null,
        silenced: row.silenced,
      }));
    },

    async history(query) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      const time = (value: string) => new Date(/^\d+$/.test(value) ? Number(value) : value);
      if (query.from !== undefined) add('at >= ?', time(query.from));
      if (query.to !== undefined) add('at < ?', time(query.to));
      if (query.host !== undefined) add('host = ?', query.host);
      if (query.ruleId !== undefined) {
        if (!isUuid(query.ruleId)) return [];
        add('rule_id = ?', query.ruleId);
      }
      params.push(query.limit);
      const rows = await db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM alert_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY at DESC, id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(toEvent);
    },
  };
}
