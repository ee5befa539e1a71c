import { describe, expect, it } from 'vitest';
import { isPinned, MAX_PINS, pinsKey, readPins, togglePin, type PinStorage } from './pins';

function memoryStorage(): PinStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

describe('pins', () => {
  it('are kept per host, in pinning order, and unpinned by the same toggle', () => {
    const storage = memoryStorage();
    const depth = { service: 'worker', key: 'queue.depth' };
    const calls = { service: 'router', key: 'calls;provider=openai' };
    togglePin(storage, 'web-1', depth);
    expect(togglePin(storage, 'web-1', calls)).toEqual([depth, calls]);
    expect(readPins(storage, 'web-1')).toEqual([depth, calls]);
    expect(readPins(storage, 'db-2')).toEqual([]);
    expect(isPinned(readPins(storage, 'web-1'), { ...calls })).toBe(true);

    expect(togglePin(storage, 'web-1', depth)).toEqual([calls]);
    togglePin(storage, 'web-1', calls);
    expect(storage.data.has(pinsKey('web-1'))).toBe(false);
  });

  it('read anything unreadable as none, and stop at the most a host keeps', () => {
    const storage = memoryStorage();
    storage.setItem(pinsKey('h'), '{not json');
    expect(readPins(storage, 'h')).toEqual([]);
    storage.setItem(pinsKey('h'), JSON.stringify([{ service: 1 }, { service: 's', key: 'k' }]));
    expect(readPins(storage, 'h')).toEqual([{ service: 's', key: 'k' }]);
    for (let i = 0; i < MAX_PINS + 3; i++)
      togglePin(storage, 'full', { service: 's', key: `m${i}` });
    expect(readPins(storage, 'full')).toHaveLength(MAX_PINS);
    expect(readPins(null, 'h')).toEqual([]);
  });
});
