import { describe, expect, it } from 'vitest';
import { memoryFlags } from './memory-flags.js';

describe('memoryFlags', () => {
  it('sizes V8 for a small footprint when the database is embedded', () => {
    expect(memoryFlags({ databaseUrl: undefined })).toEqual(['--optimize-for-size']);
  });

  it('leaves V8 at its defaults beside an external PostgreSQL', () => {
    expect(memoryFlags({ databaseUrl: 'postgres://127.0.0.1:5432/livestat' })).toEqual([]);
  });
});
