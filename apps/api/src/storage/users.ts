import { USERNAME_PATTERN, type PublicUser, type Role } from '@livestat/contracts';
import type { Queryable } from './db.js';

// What a username may be: the same rule as `ADMIN_USERNAME` (config.ts), and the dashboard's.
export { USERNAME_PATTERN } from '@livestat/contracts';

/** A user as stored, with the password hash: for login only, never for an answer. */
export interface UserRecord extends PublicUser {
  passwordHash: string;
  createdAt: Date;
}

/** A user as listed: what may be shown to an administrator. */
export interface UserSummary extends PublicUser {
  createdAt: Date;
}

export type UserStoreErrorCode = 'user_exists' | 'invalid_username' | 'last_admin';

/** An expected refusal of the user store; `code` says which. */
export class UserStoreError extends Error {
  constructor(
    readonly code: UserStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UserStoreError';
  }
}

/** The `users` table (migration 0003). Usernames are compared exactly (case-sensitive). */
export interface UserStore {
  count(): Promise<number>;
  /** The user with its password hash, or null. */
  findByUsername(username: string): Promise<UserRecord | null>;
  findById(id: number): Promise<PublicUser | null>;
  /**
   * Adds a user. Throws {@link UserStoreError} `user_exists` when the name is taken (also when
   * another process took it a moment ago) and `invalid_username` when it breaks
   * {@link USERNAME_PATTERN}.
   */
  create(user: { username: string; passwordHash: string; role: Role }): Promise<PublicUser>;
  /** Replaces the hash; false when there is no such user. */
  setPassword(username: string, passwordHash: string): Promise<boolean>;
  /**
   * Sets the role of user `id`; null when there is no such user. Refuses (`last_admin`) to
   * demote the only admin, as {@link UserStore.remove} refuses to delete it.
   */
  setRole(id: number, role: Role): Promise<PublicUser | null>;
  /**
   * Deletes the user; false when there is no such user. Refuses (`last_admin`) to delete the
   * only admin, which would leave nobody able to administer the installation.
   */
  remove(username: string): Promise<boolean>;
  /** Every user, oldest first. */
  list(): Promise<UserSummary[]>;
  /** Which of `ids` are still users: one query for every user with an open socket. */
  existing(ids: readonly number[]): Promise<Set<number>>;
  /**
   * Calls `listener` after {@link UserStore.remove} deletes a user through this store (in a
   * transaction, before its commit), so the sockets of that user can be closed at once. A
   * removal by another process (`npm run users -- remove`) is not seen here. Returns the
   * unsubscribe; a listener must not throw.
   */
  onRemoved(listener: (user: PublicUser) => void): () => void;
}

interface Row {
  id: number;
  username: string;
  role: Role;
  password_hash: string;
  created_at: Date;
}

const publicOf = (row: Pick<Row, 'id' | 'username' | 'role'>): PublicUser => ({
  id: Number(row.id),
  username: row.username,
  role: row.role,
});

/** The user store over any {@link Queryable}: a database, or a transaction. */
export function createUserStore(db: Queryable): UserStore {
  const removedListeners = new Set<(user: PublicUser) => void>();
  return {
    async count() {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM users');
      return row?.n ?? 0;
    },

    async findByUsername(username) {
      const [row] = await db.query<Row>(
        'SELECT id, username, role, password_hash, created_at FROM users WHERE username = $1',
        [username],
      );
      if (!row) return null;
      return { ...publicOf(row), passwordHash: row.password_hash, createdAt: row.created_at };
    },

    async findById(id) {
      // A token's `sub` is checked before it gets here; this guards direct callers too.
      if (!Number.isSafeInteger(id) || id < 1) return null;
      const [row] = await db.query<Row>('SELECT id, username, role FROM users WHERE id = $1', [id]);
      return row ? publicOf(row) : null;
    },

    async create({ username, passwordHash, role }) {
      if (!USERNAME_PATTERN.test(username)) {
        throw new UserStoreError(
          'invalid_username',
          `username must be 1-64 letters, digits, or . _ @ - (got ${JSON.stringify(username)})`,
        );
      }
      // ON CONFLICT rather than catching 23505: the same answer on PGlite and PostgreSQL, and
      // no failed statement to abort a surrounding transaction.
      const [row] = await db.query<Row>(
        `INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT (username) DO NOTHING
         RETURNING id, username, role`,
        [username, passwordHash, role],
      );
      if (!row) throw new UserStoreError('user_exists', `user "${username}" already exists`);
      return publicOf(row);
    },

    async setPassword(username, passwordHash) {
      const rows = await db.query(
        'UPDATE users SET password_hash = $2 WHERE username = $1 RETURNING id',
        [username, passwordHash],
      );
      return rows.length > 0;
    },

    async setRole(id, role) {
      if (!Number.isSafeInteger(id) || id < 1) return null;
      // One statement, so the check and the update see the same admins.
      const [updated] = await db.query<Row>(
        `UPDATE users SET role = $2
         WHERE id = $1
           AND ($2 = 'admin' OR role <> 'admin'
                OR (SELECT count(*) FROM users WHERE role = 'admin') > 1)
         RETURNING id, username, role`,
        [id, role],
      );
      if (updated) return publicOf(updated);
      const [still] = await db.query<Pick<Row, 'username'>>(
        'SELECT username FROM users WHERE id = $1',
        [id],
      );
      if (still) {
        throw new UserStoreError(
          'last_admin',
          `"${still.username}" is the only admin; make another user admin first`,
        );
      }
      return null;
    },

    async remove(username) {
      // One statement, so the check and the delete see the same admins.
      const [deleted] = await db.query<Row>(
        `DELETE FROM users
         WHERE username = $1
           AND (role <> 'admin' OR (SELECT count(*) FROM users WHERE role = 'admin') > 1)
         RETURNING id, username, role`,
        [username],
      );
      if (deleted) {
        const user = publicOf(deleted);
        for (const listener of removedListeners) listener(user);
        return true;
      }
      const [still] = await db.query('SELECT 1 FROM users WHERE username = $1', [username]);
      if (still) {
        throw new UserStoreError(
          'last_admin',
          `"${username}" is the only admin; add another admin first`,
        );
      }
      return false;
    },

    async list() {
      const rows = await db.query<Row>(
        'SELECT id, username, role, created_at FROM users ORDER BY id',
      );
      return rows.map((row) => ({ ...publicOf(row), createdAt: row.created_at }));
    },

    async existing(ids) {
      const wanted = [...new Set(ids)].filter((id) => Number.isSafeInteger(id) && id > 0);
      if (wanted.length === 0) return new Set();
      const rows = await db.query<Pick<Row, 'id'>>(
        'SELECT id FROM users WHERE id = ANY($1::bigint[])',
        [wanted],
      );
      return new Set(rows.map((row) => Number(row.id)));
    },

    onRemoved(listener) {
      removedListeners.add(listener);
      return () => removedListeners.delete(listener);
    },
  };
}
