import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueryTimeoutError } from '../storage/db.js';
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

/**
 * {@link ensureAdmin}, tried again when a statement timed out: a first start on a busy machine
 * (PGlite's thread still catching up after migrations) must not end the process for that.
 * `attempts` tries in all, waiting `delayMs` × the attempt's number between them; any other
 * error, or the last timeout, is thrown.
 */
export async function ensureAdminRetrying(
  options: EnsureAdminOptions,
  retry: { attempts?: number; delayMs?: number; stopped?: () => boolean } = {},
): Promise<EnsureAdminResult> {
  const attempts = retry.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureAdmin(options);
    } catch (err) {
      if (!(err instanceof QueryTimeoutError) || attempt >= attempts || retry.stopped?.())
        throw err;
      const waitMs = (retry.delayMs ?? 1000) * attempt;
      options.logger.warn(
        { attempt, attempts, retryInMs: waitMs, err: { message: err.message } },
        'creating the first admin timed out; trying again',
      );
      await sleep(waitMs);
    }
  }
}
