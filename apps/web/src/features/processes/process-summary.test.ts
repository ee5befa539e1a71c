import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { NO_VALUE } from '../../lib/format';
import { OLDER_AGENT, processesError, processesState, processFigures } from './process-summary';
import type { ProcessesData } from './process-summary';

const SECTION: ProcessesData = {
  available: true,
  total: 1234,
  running: 3,
  blocked: 1,
  zombie: 2,
  threads: 5678,
  ioUnavailableReason: null,
  top: [],
  topByCpu: [],
  topByMemory: [],
  topByIo: [],
};

const texts = (data: ProcessesData | undefined) =>
  Object.fromEntries(processFigures(data).map((f) => [f.key, f.text]));

describe('the processes panel state', () => {
  it('waits for the first snapshot, then shows the counts', () => {
    expect(processesState(undefined)).toEqual({ kind: 'waiting' });
    const snapshot = { ...makeExampleSnapshot(), processes: SECTION };
    expect(processesState(snapshot)).toEqual({ kind: 'ok', data: SECTION });
    expect(texts(SECTION)).toEqual({
      total: '1,234',
      running: '3',
      blocked: '1',
      zombie: '2',
      threads: '5,678',
    });
    expect(Object.values(texts(undefined))).toEqual(Array(5).fill(NO_VALUE));
  });

  it("says why: the collector's error, or an agent too old to send the section", () => {
    const failed = {
      ...makeExampleSnapshot(),
      processes: { available: false as const, error: 'EACCES /proc' },
    };
    expect(processesError(processesState(failed))).toBe('Processes unavailable — EACCES /proc');
    const old = makeExampleSnapshot();
    delete (old as { processes?: unknown }).processes;
    expect(processesError(processesState(old))).toBe(`Processes unavailable — ${OLDER_AGENT}`);
    expect(processesError(processesState(undefined))).toBeNull();
  });
});
