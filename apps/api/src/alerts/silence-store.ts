import { randomUUID } from 'node:crypto';
import type { Silence, SilenceInput } from '@livestat/contracts';
import type { Database } from '../storage/db.js';
import { AlertStoreError, isUuid } from './rule-store.js';

interface SilenceRow {
  id: string;
  rule_id: string | null;
  host: string | null;
  until: Date;
  reason: string;
  created_by: string;
  created_at: Date;
}

const COLUMNS = `id::text AS id, rule_id::text AS rule_id, host, until, reason, created_by, created_at`;

function toSilence(row: SilenceRow): Silence {
  return {
    id: row.id,
    ruleId: row.rule_id,
    host: row.host,
    until: row.until.toISOString(),
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

/** The `alert_silences` table: a silence mutes notifications, never the recording of states. */
export interface SilenceStore {
  /** Silences still in force at `now`. */
  list(now?: Date): Promise<Silence[]>;
  create(input: SilenceInput, createdBy: string): Promise<Silence>;
  remove(id: string): Promise<void>;
}

export function createSilenceStore(db: Database): SilenceStore {
  return {
    async list(now = new Date()) {
      const rows = await db.query<SilenceRow>(
        `SELECT ${COLUMNS} FROM alert_silences WHERE until > $1 ORDER BY until`,
        [now],
      );
      return rows.map(toSilence);
    },

    async create(input, createdBy) {
      if (input.ruleId !== null) {
        const rule = isUuid(input.ruleId)
          ? await db.query(`SELECT 1 FROM alert_rules WHERE id = $1`, [input.ruleId])
          : [];
        if (rule.length === 0) throw new AlertStoreError('bad_field', 'ruleId: no such rule');
      }
      const rows = await db.query<SilenceRow>(
        `INSERT INTO alert_silences (id, rule_id, host, until, reason, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [randomUUID(), input.ruleId, input.host, new Date(input.until), input.reason, createdBy],
      );
      return toSilence(rows[0]!);
    },

    async remove(id) {
      if (!isUuid(id)) throw new AlertStoreError('not_found', 'no such silence');
      const rows = await db.query(`DELETE FROM alert_silences WHERE id = $1 RETURNING id`, [id]);
      if (rows.length === 0) throw new AlertStoreError('not_found', 'no such silence');
    },
  };
}
