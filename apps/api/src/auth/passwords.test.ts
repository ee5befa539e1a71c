import argon2 from 'argon2';
import { describe, expect, it } from 'vitest';
import {
  checkPasswordPolicy,
  HASH_OPTIONS,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PasswordPolicyError,
  UNKNOWN_USER_HASH,
  verifyPassword,
  verifyUnknownUser,
} from './passwords.js';

function policyMessage(password: string): string | undefined {
  try {
    checkPasswordPolicy(password);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(PasswordPolicyError);
    expect((err as PasswordPolicyError).code).toBe('weak_password');
    return (err as Error).message;
  }
}

describe('passwords', () => {
  it('hashes with argon2id at the documented parameters, salted per hash', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
    expect(argon2.needsRehash(a, HASH_OPTIONS)).toBe(false);
  });

  it('verifies the right password and refuses a wrong or altered one', async () => {
    const hash = await hashPassword('correct horse');
    expect(await verifyPassword(hash, 'correct horse')).toBe(true);
    expect(await verifyPassword(hash, 'correct horsE')).toBe(false);
    expect(await verifyPassword(hash, 'correct horse ')).toBe(false);
    expect(await verifyPassword(hash, '')).toBe(false);
  });

  it('treats a malformed stored hash as a mismatch rather than an error', async () => {
    expect(await verifyPassword('not a hash', 'whatever1')).toBe(false);
    expect(await verifyPassword('', 'whatever1')).toBe(false);
    expect(await verifyPassword('$2b$10$abcdefghijklmnopqrstuv', 'whatever1')).toBe(false);
  });

  it('answers false for an unknown user after the same argon2 work as a real verify', async () => {
    expect(await verifyUnknownUser('correct horse')).toBe(false);
    expect(await verifyUnknownUser('')).toBe(false);
    // The dummy hash is made with the parameters real hashes use, so it costs the same.
    expect(UNKNOWN_USER_HASH).toMatch(/^\$argon2id\$/);
    expect(argon2.needsRehash(UNKNOWN_USER_HASH, HASH_OPTIONS)).toBe(false);
  });

  it('holds new passwords to 8..1024 characters, counted as characters', () => {
    expect(policyMessage('')).toBe('password must be at least 8 characters (got 0)');
    expect(policyMessage('1234567')).toBe('password must be at least 8 characters (got 7)');
    expect(policyMessage('12345678')).toBeUndefined();
    // Seven emoji are fourteen UTF-16 units but seven characters.
    expect(policyMessage('😀'.repeat(7))).toContain('at least 8');
    expect(policyMessage('x'.repeat(PASSWORD_MAX_LENGTH))).toBeUndefined();
    expect(policyMessage('x'.repeat(PASSWORD_MAX_LENGTH + 1))).toBe(
      'password must be at most 1024 characters',
    );
  });

  it('refuses to hash a password that breaks the policy', async () => {
    await expect(hashPassword('short')).rejects.toBeInstanceOf(PasswordPolicyError);
  });
});
