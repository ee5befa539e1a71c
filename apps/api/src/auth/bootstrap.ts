import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import { UserStoreError, type UserStore } from '../storage/users.js';
import { hashPassword } from './passwords.js';

export interface EnsureAdminOptions {
  users: UserStore;
  /** `ADMIN_USERNAME`. */
  username: string;
  /** `ADMIN_PASSWORD`; unset → a random password, announced once. */
  password?: string | undefined;
  logger: Logger;
  /**
   * Shows a generated password to whoever started the process (main.ts: stderr). Called at
   * most once, and only when this call created the admin; the password never goes to the logger.
   */
  announce: (text: string) => void;
}

/** What {@link ensureAdmin} found or did. */
export type EnsureAdminResult = 'exists' | 'created' | 'created_with_generated_password';

/**
 * Creates the first admin when the users table is empty; does nothing when any user
 * exists. Safe when several processes start at once: the unique username lets one create it,
 * and the others see `exists`.
 */
export async function ensureAdmin(options: EnsureAdminOptions): Promise<EnsureAdminResult> {
  const { users, username, logger } = options;
  if ((await users.count()) > 0) return 'exists';

  const generated = options.password === undefined;
  // 18 bytes: 24 base64url characters, 144 bits; nothing to escape when pasted into a shell.
  const password = options.password ?? randomBytes(18).toString('base64url');
  const passwordHash = await hashPassword(password);
  try {
    await users.create({ username, passwordHash, role: 'admin' });
  } catch (err) {
    if (err instanceof UserStoreError && err.code === 'user_exists') return 'exists';
    throw err;
  }

  if (!generated) {
    logger.info({ username }, 'created the admin user with ADMIN_PASSWORD');
    return 'created';
  }
  logger.info(
    { username },
    'created the admin user with a generated password (printed once on stderr, not logged)',
  );
  options.announce(
    [
      '',
      `  livestat: created the admin user "${username}" with this generated password:`,
      '',
      `      ${password}`,
      '',
      '  It is shown only this once. Sign in with it, or set your own with',
      `    npm run users -- passwd ${username}`,
      '  or, in the docker compose deployment (README, "Deploy"),',
      `    docker compose exec api node apps/api/dist/cli/users.js passwd ${username}`,
      '',
    ].join('\n'),
  );
  return 'created_with_generated_password';
}
