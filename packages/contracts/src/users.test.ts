import { describe, expect, it } from 'vitest';
import { createUserRequest, setPasswordRequest, updateUserRequest } from './users.js';

describe('createUserRequest', () => {
  it('defaults the role to viewer and keeps the password as typed', () => {
    expect(createUserRequest.parse({ username: 'bob', password: ' spaced out ' })).toEqual({
      username: 'bob',
      password: ' spaced out ',
      role: 'viewer',
    });
  });

  it('counts a password in code points, as a person would', () => {
    // Seven accented letters are seven characters, not fourteen UTF-16 units.
    const result = setPasswordRequest.safeParse({ password: 'ünïcödé' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('must be at least 8 characters (got 7)');
    expect(setPasswordRequest.safeParse({ password: '🙂'.repeat(1024) }).success).toBe(true);
    expect(setPasswordRequest.safeParse({ password: 'x'.repeat(1025) }).success).toBe(false);
  });

  it('names the bad field', () => {
    const result = createUserRequest.safeParse({
      username: 'a b',
      password: 'long-enough',
      role: 'root',
    });
    expect(result.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'role',
      'username',
    ]);
    expect(updateUserRequest.safeParse({ role: 'admin' }).success).toBe(true);
  });
});
