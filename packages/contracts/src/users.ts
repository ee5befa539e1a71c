import { z } from 'zod/mini';
import { isoTimestamp } from './common.js';
import { publicUser, role } from './rest.js';

/** What a username may be: 1-64 letters, digits, or `. _ @ -` (as `ADMIN_USERNAME`). */
export const USERNAME_PATTERN = /^[\w.@-]{1,64}$/;
/** The shortest password accepted for a new or changed password, in code points. */
export const PASSWORD_MIN_LENGTH = 8;
/** The longest: hashing cost does not grow with length, but request bodies should stay small. */
export const PASSWORD_MAX_LENGTH = 1024;

/** A username a new user may take. */
export const username = z
  .string()
  .check(z.regex(USERNAME_PATTERN, 'must be 1-64 letters, digits, or . _ @ -'));

/**
 * A new password. Counted in code points rather than UTF-16 units, so "ünïcödé" counts as a
 * person would count it — the rule of the users CLI (`apps/api/src/auth/passwords.ts`).
 */
export const newPassword = z.string().check(
  z.superRefine((value, ctx) => {
    const length = [...value].length;
    if (length < PASSWORD_MIN_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at least ${PASSWORD_MIN_LENGTH} characters (got ${length})`,
      });
    } else if (length > PASSWORD_MAX_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${PASSWORD_MAX_LENGTH} characters`,
      });
    }
  }),
);

/** A user as an administrator sees it: never a password hash. */
export const userSummary = z.extend(publicUser, { createdAt: isoTimestamp });
export type UserSummary = z.infer<typeof userSummary>;

/** `GET /api/users` answer: every user, oldest first. */
export const usersResponse = z.object({ users: z.array(userSummary) });
export type UsersResponse = z.infer<typeof usersResponse>;

/** `POST /api/users` body. */
export const createUserRequest = z.object({
  username,
  password: newPassword,
  role: z._default(role, 'viewer'),
});
export type CreateUserRequest = z.input<typeof createUserRequest>;

/** `POST /api/users` answer (201), and `PATCH /api/users/:id`'s (200): the user as stored now. */
export const userResponse = z.object({ user: userSummary });
export type UserResponse = z.infer<typeof userResponse>;

/** `PATCH /api/users/:id` body: the one thing that may change in place. */
export const updateUserRequest = z.object({ role });
export type UpdateUserRequest = z.infer<typeof updateUserRequest>;

/** `POST /api/users/:id/password` body: an administrator's reset (answered 204). */
export const setPasswordRequest = z.object({ password: newPassword });
export type SetPasswordRequest = z.infer<typeof setPasswordRequest>;
