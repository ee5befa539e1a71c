import {
  createUserRequest,
  setPasswordRequest,
  updateUserRequest,
  type UserSummary,
  type UsersResponse,
} from '@livestat/contracts';
import { Router, type Request, type RequestHandler } from 'express';
import { hashPassword, PasswordPolicyError } from '../auth/passwords.js';
import { requireRole } from '../auth/require-auth.js';
import type { Logger } from '../logger.js';
import { UserStoreError, type UserStore } from '../storage/users.js';
import { HttpError } from './errors.js';
import { parseBody, parseId } from './request-body.js';

export interface UsersRouterDeps {
  /**
   * The API's one user store: a removal through it fires `onRemoved`, which closes the removed
   * user's sockets at once (stream/user-removals.ts).
   */
  users: UserStore;
  /** Where each change is audited: who, what, whom — never a password. */
  logger: Logger;
  /** Run before each handler: passport-jwt in production; `requireRole('admin')` is added here. */
  guards?: readonly RequestHandler[];
}

const summaryOf = (user: {
  id: number;
  username: string;
  role: UserSummary['role'];
  createdAt: Date;
}): UserSummary => ({
  id: user.id,
  username: user.username,
  role: user.role,
  createdAt: user.createdAt.toISOString(),
});

/** A store or policy refusal as the HTTP answer a person can act on. */
function httpErrorOf(err: unknown): unknown {
  if (err instanceof PasswordPolicyError) {
    return new HttpError(400, err.message, 'bad_request');
  }
  if (err instanceof UserStoreError) {
    const status = err.code === 'invalid_username' ? 400 : 409;
    return new HttpError(status, err.message, err.code);
  }
  return err;
}

/**
 * The users admin routes, to mount under `/api`, admin only (a viewer gets 403), with the rules
 * of `npm run users` (cli/users.ts): usernames and passwords as the CLI checks them, argon2id
 * hashes, and never a removal or demotion of the last admin (409 with a message).
 * - `GET /users` → `{users}` oldest first, never a hash.
 * - `POST /users` `{username, password, role}` → 201 `{user}`; 409 when the name is taken.
 * - `PATCH /users/:id` `{role}` → `{user}`; the new role applies to the user's next request
 *   (every request looks the user up); an open socket only streams, which a viewer may.
 * - `POST /users/:id/password` `{password}` → 204; tokens already issued stay valid until they
 *   expire, as with the CLI.
 * - `DELETE /users/:id` → 204; the user's tokens stop working and its sockets close 1008.
 */
export function createUsersRouter(deps: UsersRouterDeps): Router {
  const router = Router();
  const guards = [...(deps.guards ?? []), requireRole('admin')];
  const { users, logger } = deps;

  function audit(
    req: Request,
    action: string,
    target: { id: number; username: string },
    extra = {},
  ) {
    logger.info(
      { audit: action, actor: req.user?.username, actorId: req.user?.id, target, ...extra },
      `admin ${req.user?.username ?? '?'}: ${action} ${target.username}`,
    );
  }

  async function findOr404(id: number): Promise<{ id: number; username: string }> {
    const user = await users.findById(id);
    if (!user) throw new HttpError(404, `no user with id ${id}`, 'not_found');
    return user;
  }

  router.get('/users', ...guards, async (_req, res) => {
    const body: UsersResponse = { users: (await users.list()).map(summaryOf) };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/users', ...guards, async (req, res) => {
    const { username, password, role } = parseBody(createUserRequest, req.body);
    // Before hashing a password that could not be used anyway.
    if (await users.findByUsername(username)) {
      throw new HttpError(409, `user "${username}" already exists`, 'user_exists');
    }
    let created;
    try {
      created = await users.create({ username, passwordHash: await hashPassword(password), role });
    } catch (err) {
      throw httpErrorOf(err);
    }
    audit(req, 'user.create', created, { role: created.role });
    const stored = (await users.list()).find((user) => user.id === created.id);
    const user = stored ? summaryOf(stored) : { ...created, createdAt: new Date().toISOString() };
    res.status(201).json({ user });
  });

  router.patch('/users/:id', ...guards, async (req, res) => {
    const id = parseId(req.params.id);
    const { role } = parseBody(updateUserRequest, req.body);
    const before = await findOr404(id);
    let updated;
    try {
      updated = await users.setRole(id, role);
    } catch (err) {
      throw httpErrorOf(err);
    }
    if (!updated) throw new HttpError(404, `no user with id ${id}`, 'not_found');
    audit(req, 'user.role', before, { role });
    const stored = (await users.list()).find((user) => user.id === id);
    res.json({ user: stored ? summaryOf(stored) : updated });
  });

  router.post('/users/:id/password', ...guards, async (req, res) => {
    const id = parseId(req.params.id);
    const { password } = parseBody(setPasswordRequest, req.body);
    const target = await findOr404(id);
    let changed;
    try {
      changed = await users.setPassword(target.username, await hashPassword(password));
    } catch (err) {
      throw httpErrorOf(err);
    }
    if (!changed) throw new HttpError(404, `no user with id ${id}`, 'not_found');
    audit(req, 'user.password', target);
    res.status(204).end();
  });

  router.delete('/users/:id', ...guards, async (req, res) => {
    const id = parseId(req.params.id);
    const target = await findOr404(id);
    let removed;
    try {
      removed = await users.remove(target.username);
    } catch (err) {
      throw httpErrorOf(err);
    }
    if (!removed) throw new HttpError(404, `no user with id ${id}`, 'not_found');
    audit(req, 'user.remove', target);
    res.status(204).end();
  });

  return router;
}
