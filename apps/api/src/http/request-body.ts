import type { z } from 'zod/mini';
import { HttpError } from './errors.js';

/**
 * Parses a JSON body with `schema`, or throws a 400 naming each bad field (`password: must be at
 * least 8 characters`). A value is never echoed: the body may hold a password or a token.
 */
export function parseBody<T extends z.ZodMiniType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'body must be a JSON object', 'bad_request');
  }
  const messages = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    const present = (body as Record<string, unknown>)[String(issue.path[0])] !== undefined;
    return present || issue.path.length === 0 ? `${field}: ${issue.message}` : `${field}: required`;
  });
  throw new HttpError(400, [...new Set(messages)].join('; '), 'bad_request');
}

/** A `:id` route parameter as a positive whole number, or a 400 naming it. */
export function parseId(value: unknown): number {
  const id = typeof value === 'string' && /^[1-9]\d{0,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new HttpError(400, 'id: must be a positive whole number', 'bad_request');
  }
  return id;
}
