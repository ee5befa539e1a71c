import { describe, expect, it } from 'vitest';
import {
  API_TOKEN_PATTERN,
  apiTokensResponse,
  createApiTokenRequest,
  createApiTokenResponse,
} from './tokens.js';

const info = {
  id: 1,
  name: 'worker',
  scope: 'ingest',
  prefix: 'lsk_AbCd',
  createdAt: '2026-12-04T21:30:00.000Z',
  createdBy: 'admin',
  lastUsedAt: null,
  revokedAt: null,
};

describe('createApiTokenRequest', () => {
  it('defaults the scope to ingest and trims the name', () => {
    expect(createApiTokenRequest.parse({ name: '  worker ' })).toEqual({
      name: 'worker',
      scope: 'ingest',
    });
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 'a\nb' }, 'name'],
    [{ name: 'w', scope: 'admin' }, 'scope'],
  ])('refuses %j naming %s', (body, field) => {
    const result = createApiTokenRequest.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });
});

describe('createApiTokenResponse', () => {
  it('accepts a token of the documented format', () => {
    const token = `lsk_${'A'.repeat(43)}`;
    expect(createApiTokenResponse.parse({ token, info })).toEqual({ token, info });
  });

  it.each(['lsk_short', `xyz_${'A'.repeat(43)}`, `lsk_${'A'.repeat(42)}+`])(
    'refuses the token %s',
    (token) => {
      expect(API_TOKEN_PATTERN.test(token)).toBe(false);
    },
  );
});

describe('apiTokensResponse', () => {
  it('lists revoked and used tokens', () => {
    const used = { ...info, id: 2, lastUsedAt: info.createdAt, revokedAt: info.createdAt };
    expect(apiTokensResponse.parse({ tokens: [used, info] }).tokens).toHaveLength(2);
  });
});
