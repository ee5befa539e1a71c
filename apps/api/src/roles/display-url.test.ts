import { describe, expect, it } from 'vitest';
import { displayUrl } from './display-url.js';

describe('displayUrl', () => {
  it('keeps scheme, host, port and path and drops credentials and query', () => {
    expect(
      displayUrl('postgres://livestat:hunter2@db.internal:5432/livestat?sslmode=require'),
    ).toBe('postgres://db.internal:5432/livestat');
    expect(displayUrl('redis://:s3cret@cache:6379')).toBe('redis://cache:6379');
    expect(displayUrl('rediss://default:pw@[::1]:6380/2')).toBe('rediss://[::1]:6380/2');
    expect(displayUrl('postgresql://db/x?password=hunter2')).toBe('postgresql://db/x');
  });

  it('shows nothing of a string that does not parse or names no host', () => {
    expect(displayUrl('postgres:user:hunter2@nowhere')).toBe('postgres://(no host)');
    expect(displayUrl('not a url hunter2')).toBe('(unparsable URL)');
  });
});
