import { randomUUID } from 'node:crypto';
import {
  CHANNEL_SECRETS,
  REDACTED,
  type AlertChannel,
  type AlertChannelInput,
  type AlertChannelKind,
  type AlertSeverity,
} from '@livestat/contracts';
import type { Database } from '../storage/db.js';
import { AlertStoreError, isUuid } from './rule-store.js';

/** A channel as stored, secrets included: for the sender only, never for an answer. */
export interface StoredChannel {
  id: string;
  name: string;
  kind: AlertChannelKind;
  enabled: boolean;
  minSeverity: AlertSeverity;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

interface ChannelRow {
  id: string;
  name: string;
  kind: AlertChannelKind;
  enabled: boolean;
  min_severity: AlertSeverity;
  config: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id::text AS id, name, kind, enabled, min_severity, config, created_at, updated_at`;

function toStored(row: ChannelRow): StoredChannel {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    enabled: row.enabled,
    minSeverity: row.min_severity,
    config: row.config,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * A channel as answered: every secret replaced by {@link REDACTED} for admins, and no config
 * at all for viewers.
 */
export function redactChannel(channel: StoredChannel, role: 'admin' | 'viewer'): AlertChannel {
  let config: Record<string, unknown> | null = null;
  if (role === 'admin') {
    config = { ...channel.config };
    for (const field of CHANNEL_SECRETS[channel.kind]) {
      if (config[field] !== undefined) config[field] = REDACTED;
    }
  }
  const { config: _secret, ...rest } = channel;
  return { ...rest, config };
}

/** The `alert_channels` table (migration 0006). */
export interface ChannelStore {
  list(): Promise<StoredChannel[]>;
  get(id: string): Promise<StoredChannel | null>;
  create(input: AlertChannelInput): Promise<StoredChannel>;
  /** A secret sent back as {@link REDACTED} keeps the stored one. */
  update(id: string, input: AlertChannelInput): Promise<StoredChannel>;
  remove(id: string): Promise<void>;
}

export function createChannelStore(db: Database): ChannelStore {
  return {
    async list() {
      const rows = await db.query<ChannelRow>(
        `SELECT ${COLUMNS} FROM alert_channels ORDER BY created_at, name`,
      );
      return rows.map(toStored);
    },

    async get(id) {
      if (!isUuid(id)) return null;
      const rows = await db.query<ChannelRow>(
        `SELECT ${COLUMNS} FROM alert_channels WHERE id = $1`,
        [id],
      );
      return rows[0] ? toStored(rows[0]) : null;
    },

    async create(input) {
      for (const field of CHANNEL_SECRETS[input.kind]) {
        if ((input.config as Record<string, unknown>)[field] === REDACTED) {
          throw new AlertStoreError(
            'bad_field',
            `config.${field}: must be the secret itself, not ${REDACTED}`,
          );
        }
      }
      const rows = await db.query<ChannelRow>(
        `INSERT INTO alert_channels (id, name, kind, enabled, min_severity, config)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          input.name,
          input.kind,
          input.enabled,
          input.minSeverity,
          JSON.stringify(input.config),
        ],
      );
      return toStored(rows[0]!);
    },

    async update(id, input) {
      const current = await this.get(id);
      if (!current) throw new AlertStoreError('not_found', 'no such channel');
      const config: Record<string, unknown> = { ...input.config };
      for (const field of CHANNEL_SECRETS[input.kind]) {
        if (config[field] !== REDACTED) continue;
        if (current.kind !== input.kind || current.config[field] === undefined) {
          throw new AlertStoreError(
            'bad_field',
            `config.${field}: must be the secret itself, not ${REDACTED}`,
          );
        }
        config[field] = current.config[field];
      }
      const rows = await db.query<ChannelRow>(
        `UPDATE alert_channels SET name = $2, kind = $3, enabled = $4, min_severity = $5,
           config = $6, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, input.name, input.kind, input.enabled, input.minSeverity, JSON.stringify(config)],
      );
      return toStored(rows[0]!);
    },

    async remove(id) {
      if (!isUuid(id)) throw new AlertStoreError('not_found', 'no such channel');
      const rows = await db.query(`DELETE FROM alert_channels WHERE id = $1 RETURNING id`, [id]);
      if (rows.length === 0) throw new AlertStoreError('not_found', 'no such channel');
    },
  };
}
