import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@livestat/contracts';
import type * as Argon2 from 'argon2';

// argon2 (a native addon) is loaded on the first hash or verify, not at start: an API whose
// users are already made and who have not logged in since it started never needs it.
let argon2: Promise<typeof Argon2> | undefined;
const loadArgon2 = () => (argon2 ??= import('argon2'));

// The policy's bounds live in the contracts, so the dashboard checks a new password as we do.
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@livestat/contracts';

/**
 * argon2id at OWASP's 19 MiB / 2 passes / 1 lane: strong enough for a dashboard login, and light
 * enough that a burst of logins does not take a monitored host's memory.
 */
export const HASH_OPTIONS = {
  // argon2's `argon2id` constant, written out so this module does not load the addon.
  type: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * A hash of a password nobody knows, made with {@link HASH_OPTIONS}: verifying against it costs
 * what verifying a real user's password costs, and never succeeds.
 */
export const UNKNOWN_USER_HASH =
  '$argon2id$v=19$m=19456,p=1,t=2$E7yfWwVB/54cumKOZxDw+g$02Mb1Jbht8n2i3LupSq5/0s+6c0IeUjyPw5E4GfkZvY';

/** A password that breaks the policy; the message says what the policy is. */
export class PasswordPolicyError extends Error {
  readonly code = 'weak_password';
  constructor(message: string) {
    super(message);
    this.name = 'PasswordPolicyError';
  }
}

/** Throws {@link PasswordPolicyError} unless `password` may be set as a new password. */
export function checkPasswordPolicy(password: string): void {
  // Code points rather than UTF-16 units, so "ünïcödé" counts as a person would count it.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    throw new PasswordPolicyError(
      `password must be at least ${PASSWORD_MIN_LENGTH} characters (got ${length})`,
    );
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw new PasswordPolicyError(`password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
}

/** Checks the policy, then hashes with argon2id (a PHC string with its own random salt). */
export async function hashPassword(password: string): Promise<string> {
  checkPasswordPolicy(password);
  return (await loadArgon2()).hash(password, HASH_OPTIONS);
}

/**
 * True when `password` matches `hash`. A malformed or foreign hash is a mismatch, not an
 * error: a login must answer 401 either way.
 */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await (await loadArgon2()).verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * Spends the time of one {@link verifyPassword} and answers false: called for an unknown
 * username, so how long a login takes does not tell which usernames exist.
 */
export async function verifyUnknownUser(password: string): Promise<false> {
  await verifyPassword(UNKNOWN_USER_HASH, password);
  return false;
}
