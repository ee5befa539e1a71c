import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { publishedFieldJson, serializeSnapshot } from './snapshot-json.js';

describe('serializeSnapshot', () => {
  it('is JSON.stringify, and knows the text of each field', () => {
    const snapshot = makeExampleSnapshot({ host: 'ü "quoted" \\ host' }) as Snapshot;
    const json = serializeSnapshot(snapshot);
    expect(json).toBe(JSON.stringify(snapshot));
    for (const key of Object.keys(snapshot)) {
      expect(publishedFieldJson(snapshot, key)).toBe(
        JSON.stringify((snapshot as unknown as Record<string, unknown>)[key]),
      );
    }
  });

  it('leaves out what JSON.stringify leaves out, and knows nothing of snapshots it never saw', () => {
    const snapshot = { ...makeExampleSnapshot({}), pressure: undefined } as unknown as Snapshot;
    expect(serializeSnapshot(snapshot)).toBe(JSON.stringify(snapshot));
    expect(publishedFieldJson(snapshot, 'pressure')).toBeUndefined();
    const other = { ...snapshot };
    expect(publishedFieldJson(other, 'cpu')).toBeUndefined();
  });
});
