import { createHash, randomBytes } from 'node:crypto';
import {
  API_TOKEN_PATTERN,
  API_TOKEN_PREFIX,
  API_TOKEN_VISIBLE_PREFIX,
  type ApiTokenInfo,
  type ApiTokenScope,
} from '@livestat/contracts';
import type { Queryable } from '../storage/db.js';

/** How often one token's `last_used_at` is written at most: a busy exporter must not write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * How long an accepted token is honoured without asking the database again: an exporter's
 * requests then cost no lookup each. A revocation through this store applies at once; one by
 * another process (the CLI, another replica) within this time.
 */
export const CHECK_CACHE_MS = 1000;

/** A token that was just created: the secret, shown this once, and its listing. */
export interface CreatedToken {
  token: string;
  info: ApiTokenInfo;
}

/** Why a presented token was not honoured. */
export type TokenRefusal = 'unknown' | 'revoked' | 'scope';

export type TokenCheck = { ok: true; info: ApiTokenInfo } | { ok: false; reason: TokenRefusal };

/** The `api_tokens` table (migration 0007). */
export interface TokenStore {
  /** Makes a token. The secret is in the answer only; the table holds its SHA-256. */
  create(input: {
    name: string;
    scope: ApiTokenScope;
    createdBy: string | null;
  }): Promise<CreatedToken>;
  /** Every token, newest first, revoked ones included (marked). */
  list(): Promise<ApiTokenInfo[]>;
  /** The token with this id, or null. */
  find(id: number): Promise<ApiTokenInfo | null>;
  /**
   * Revokes a token (at once, for every later request); returns it as it now stands, or null
   * when there is no such token. Revoking twice keeps the first time.
   */
  revoke(id: number): Promise<ApiTokenInfo | null>;
  /**
   * Checks a presented secret for `scope`; on success records the use (at most once per
   * {@link LAST_USED_RESOLUTION_MS} per token, in the background).
   */
  check(token: string, scope: ApiTokenScope): Promise<TokenCheck>;
}

interface Row {
  id: number;
  name: string;
  scope: ApiTokenScope;
  prefix: string;
  created_at: Date;
  created_by: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, scope, prefix, created_at, created_by, last_used_at, revoked_at';

function infoOf(row: Row): ApiTokenInfo {
  return {
    id: Number(row.id),
    name: row.name,
    scope: row.scope,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** SHA-256 of a token, hex: what the table stores and looks up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new secret: `lsk_` + 32 random bytes, base64url. */
export function generateToken(): string {
  return API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

const validId = (id: number) => Number.isSafeInteger(id) && id > 0;

/**
 * The token store over any {@link Queryable}. `onUseError` hears a failed last-use write (the
 * request it belongs to is still honoured).
 */
export function createTokenStore(
  db: Queryable,
  options: { now?: () => number; onUseError?: (err: unknown) => void } = {},
): TokenStore {
  const now = options.now ?? Date.now;
  // id → when this process last wrote its last use.
  const touched = new Map<number, number>();
  // token hash → the accepted check and when it was made.
  const accepted = new Map<string, { info: ApiTokenInfo; at: number }>();

  function touch(info: ApiTokenInfo): void {
    const at = now();
    const last =
      touched.get(info.id) ?? (info.lastUsedAt ? Date.parse(info.lastUsedAt) : -Infinity);
    if (at - last < LAST_USED_RESOLUTION_MS) return;
    touched.set(info.id, at);
    db.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [
      info.id,
      new Date(at),
    ]).catch((err: unknown) => {
      touched.delete(info.id);
      options.onUseError?.(err);
    });
  }

  return {
    async create({ name, scope, createdBy }) {
      const token = generateToken();
      const [row] = await db.query<Row>(
        `INSERT INTO api_tokens (name, scope, prefix, token_hash, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [name, scope, token.slice(0, API_TOKEN_VISIBLE_PREFIX), hashToken(token), createdBy],
      );
      return { token, info: infoOf(row!) };
    },

    async list() {
      const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY id DESC`);
      return rows.map(infoOf);
    },

    async find(id) {
      if (!validId(id)) return null;
      const [row] = await db.query<Row>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`, [id]);
      return row ? infoOf(row) : null;
    },

    async revoke(id) {
      if (!validId(id)) return null;
      const [row] = await db.query<Row>(
        `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      if (row) {
        touched.delete(Number(row.id));
        for (const [hash, entry] of accepted) {
          if (entry.info.id === Number(row.id)) accepted.delete(hash);
        }
      }
      return row ? infoOf(row) : null;
    },

    async check(token, scope) {
      // Not the format: no lookup, and no hash of arbitrary-length input.
      if (!API_TOKEN_PATTERN.test(token)) return { ok: false, reason: 'unknown' };
      const hash = hashToken(token);
      const cached = accepted.get(hash);
      if (
        cached !== undefined &&
        now() - cached.at < CHECK_CACHE_MS &&
        cached.info.scope === scope
      ) {
        touch(cached.info);
        return { ok: true, info: cached.info };
      }
      const [row] = await db.query<Row>(`SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1`, [
        hash,
      ]);
      if (!row) return { ok: false, reason: 'unknown' };
      const info = infoOf(row);
      if (info.revokedAt !== null) return { ok: false, reason: 'revoked' };
      if (info.scope !== scope) return { ok: false, reason: 'scope' };
      if (accepted.size >= 1000) accepted.clear();
      accepted.set(hash, { info, at: now() });
      touch(info);
      return { ok: true, info };
    },
  };
}
