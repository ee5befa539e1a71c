import { randomUUID } from 'node:crypto';
import type { AlertRule, AlertRuleInput } from '@livestat/contracts';
import type { Database, Queryable } from '../storage/db.js';
import { DEFAULT_RULES } from './rules.js';

interface RuleRow {
  id: string;
  name: string;
  description: string;
  series: string;
  hosts: string[];
  comparison: AlertRule['comparison'];
  threshold: number;
  recovery_threshold: number | null;
  for_seconds: number;
  severity: AlertRule['severity'];
  enabled: boolean;
  builtin: AlertRule['builtin'];
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id::text AS id, name, description, series, hosts, comparison, threshold,
  recovery_threshold, for_seconds, severity, enabled, builtin, created_at, updated_at`;

function toRule(row: RuleRow): AlertRule {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    series: row.series,
    hosts: row.hosts,
    comparison: row.comparison,
    threshold: row.threshold,
    recoveryThreshold: row.recovery_threshold,
    forSeconds: row.for_seconds,
    severity: row.severity,
    enabled: row.enabled,
    builtin: row.builtin,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A refusal the routes answer with 400/404: `code` says which. */
export class AlertStoreError extends Error {
  constructor(
    readonly code: 'not_found' | 'builtin' | 'bad_field',
    message: string,
  ) {
    super(message);
    this.name = 'AlertStoreError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** True for an id the uuid columns can hold: anything else is "not found", not a 500. */
export const isUuid = (id: string) => UUID.test(id);

// `createdAt` orders the list; the defaults pass one each, a millisecond apart, because rows
// inserted in one quick loop can share a clock tick (PGlite's clock is coarse) and the list
// must show them in the order they are defined.
async function insertRule(
  db: Queryable,
  input: AlertRuleInput,
  builtin: AlertRule['builtin'],
  createdAt: Date | null = null,
) {
  const rows = await db.query<RuleRow>(
    `INSERT INTO alert_rules (id, name, description, series, hosts, comparison, threshold,
       recovery_threshold, for_seconds, severity, enabled, builtin, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
       COALESCE($13::timestamptz, clock_timestamp()), COALESCE($13::timestamptz, clock_timestamp()))
     RETURNING ${COLUMNS}`,
    [
      randomUUID(),
      input.name,
      input.description,
      input.series,
      input.hosts,
      input.comparison,
      input.threshold,
      input.recoveryThreshold,
      input.forSeconds,
      input.severity,
      input.enabled,
      builtin,
      createdAt,
    ],
  );
  return toRule(rows[0]!);
}

/** The `alert_rules` table (migration 0006). */
export interface RuleStore {
  /** Adds the default rules once per deployment (safe from several replicas at once). */
  seedDefaults(): Promise<boolean>;
  list(): Promise<AlertRule[]>;
  get(id: string): Promise<AlertRule | null>;
  create(input: AlertRuleInput): Promise<AlertRule>;
  /** Replaces the editable part; the host-down rule keeps its name and series. */
  update(id: string, input: AlertRuleInput): Promise<AlertRule>;
  /** Deletes a rule and its states; the built-in one cannot be deleted. */
  remove(id: string): Promise<void>;
}

export function createRuleStore(db: Database): RuleStore {
  return {
    async seedDefaults() {
      return db.transaction(async (tx) => {
        const claimed = await tx.query(
          `INSERT INTO alert_settings (key) VALUES ('defaults_seeded') ON CONFLICT DO NOTHING RETURNING key`,
        );
        if (claimed.length === 0) return false;
        const base = Date.now();
        for (const [i, { builtin, ...input }] of DEFAULT_RULES.entries()) {
          await insertRule(tx, input, builtin, new Date(base + i));
        }
        return true;
      });
    },

    async list() {
      const rows = await db.query<RuleRow>(
        `SELECT ${COLUMNS} FROM alert_rules ORDER BY builtin IS NULL, created_at, name`,
      );
      return rows.map(toRule);
    },

    async get(id) {
      if (!isUuid(id)) return null;
      const rows = await db.query<RuleRow>(`SELECT ${COLUMNS} FROM alert_rules WHERE id = $1`, [
        id,
      ]);
      return rows[0] ? toRule(rows[0]) : null;
    },

    async create(input) {
      if (input.series === '') {
        throw new AlertStoreError(
          'bad_field',
          'series: must name a series (only host down has none)',
        );
      }
      return insertRule(db, input, null);
    },

    async update(id, input) {
      const current = await this.get(id);
      if (!current) throw new AlertStoreError('not_found', 'no such rule');
      const builtin = current.builtin !== null;
      if (!builtin && input.series === '') {
        throw new AlertStoreError(
          'bad_field',
          'series: must name a series (only host down has none)',
        );
      }
      const rows = await db.query<RuleRow>(
        `UPDATE alert_rules SET name = $2, description = $3, series = $4, hosts = $5,
           comparison = $6, threshold = $7, recovery_threshold = $8, for_seconds = $9,
           severity = $10, enabled = $11, updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          builtin ? current.name : input.name,
          builtin ? current.description : input.description,
          builtin ? current.series : input.series,
          input.hosts,
          builtin ? current.comparison : input.comparison,
          builtin ? current.threshold : input.threshold,
          builtin ? current.recoveryThreshold : input.recoveryThreshold,
          input.forSeconds,
          input.severity,
          input.enabled,
        ],
      );
      if (!rows[0]) throw new AlertStoreError('not_found', 'no such rule');
      // Another series or duration: the old states mean nothing for the new rule.
      if (current.series !== rows[0].series || current.forSeconds !== rows[0].for_seconds) {
        await db.query(`DELETE FROM alert_states WHERE rule_id = $1`, [id]);
      }
      return toRule(rows[0]);
    },

    async remove(id) {
      const current = await this.get(id);
      if (!current) throw new AlertStoreError('not_found', 'no such rule');
      if (current.builtin !== null) {
        throw new AlertStoreError(
          'builtin',
          'the built-in host-down rule cannot be deleted; disable it instead',
        );
      }
      await db.query(`DELETE FROM alert_rules WHERE id = $1`, [id]);
    },
  };
}
