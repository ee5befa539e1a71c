import { z } from 'zod/mini';
import { isoTimestamp, text } from './common.js';

/** What an API token lets its holder do; `ingest` pushes application metrics (OTLP). */
export const apiTokenScope = z.enum(['ingest'], { error: "must be 'ingest'" });
export type ApiTokenScope = z.infer<typeof apiTokenScope>;

/** Every API token starts with this, so a leaked one is recognised by secret scanners. */
export const API_TOKEN_PREFIX = 'lsk_';

/** `lsk_` then 32 random bytes as base64url (43 characters). */
export const API_TOKEN_PATTERN = /^lsk_[A-Za-z0-9_-]{43}$/;

/** How many leading characters of a token are kept in the clear to recognise it (`lsk_AbCd`). */
export const API_TOKEN_VISIBLE_PREFIX = 8;

/** A token as the API lists it: never the secret, only its first characters. */
export const apiTokenInfo = z.object({
  id: z.number().check(z.int(), z.positive()),
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  scope: apiTokenScope,
  /** The token's first {@link API_TOKEN_VISIBLE_PREFIX} characters. */
  prefix: z.string().check(z.length(API_TOKEN_VISIBLE_PREFIX)),
  createdAt: isoTimestamp,
  /** The admin who created it; null when it was made from the command line. */
  createdBy: z.nullable(z.string()),
  /** Last accepted use, to within a minute; null if never used. */
  lastUsedAt: z.nullable(isoTimestamp),
  revokedAt: z.nullable(isoTimestamp),
});
export type ApiTokenInfo = z.infer<typeof apiTokenInfo>;

/** `GET /api/tokens` answer, newest first. */
export const apiTokensResponse = z.object({ tokens: z.array(apiTokenInfo) });
export type ApiTokensResponse = z.infer<typeof apiTokensResponse>;

/** `POST /api/tokens` body. */
export const createApiTokenRequest = z.object({
  name: text.check(
    z.trim(),
    z.minLength(1, 'must not be empty'),
    z.maxLength(100, 'must be at most 100 characters'),
    z.refine(
      // eslint-disable-next-line no-control-regex -- a name is shown in lists and logs, one line
      (value) => !/[\u0000-\u001f\u007f]/.test(value),
      'must not contain control characters',
    ),
  ),
  scope: z._default(apiTokenScope, 'ingest'),
});
export type CreateApiTokenRequest = z.infer<typeof createApiTokenRequest>;

/** `POST /api/tokens` answer: the token itself, shown this once and never again. */
export const createApiTokenResponse = z.object({
  token: z.string().check(z.regex(API_TOKEN_PATTERN)),
  info: apiTokenInfo,
});
export type CreateApiTokenResponse = z.infer<typeof createApiTokenResponse>;
