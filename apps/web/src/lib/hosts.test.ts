import { describe, expect, it } from 'vitest';
import { mergeHosts } from './hosts';

const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;

describe('mergeHosts', () => {
  it('keeps one entry per host with its latest sighting, sorted by name', () => {
    const known = [
      { name: 'web-2', lastSeen: at(5) },
      { name: 'db-1', lastSeen: at(9) },
    ];
    const merged = mergeHosts(known, [
      { name: 'web-1', lastSeen: at(1) },
      { name: 'web-2', lastSeen: at(7) },
      { name: 'db-1', lastSeen: at(3) },
    ]);
    expect(merged).toEqual([
      { name: 'db-1', lastSeen: at(9) },
      { name: 'web-1', lastSeen: at(1) },
      { name: 'web-2', lastSeen: at(7) },
    ]);
    expect(known.map((h) => h.lastSeen)).toEqual([at(5), at(9)]);
  });
});
