import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PerfIntervalAssembler,
  canonicalEventName,
  describePerfError,
  parsePerfStatLine,
  parsePerfStatOutput,
  type PerfStatLine,
} from './perf-parse.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../test/fixtures/perf/${name}`, import.meta.url), 'utf8');

function line(text: string): PerfStatLine {
  const parsed = parsePerfStatLine(text);
  if (parsed === null) throw new Error(`not a data line: ${text}`);
  return parsed;
}

describe('parsePerfStatLine', () => {
  it('reads a counted software event as perf 6.1 printed it on the VM', () => {
    expect(line('     1.001113534,536,,context-switches,2002595952,100.00,,')).toEqual({
      timestampS: 1.001113534,
      value: 536,
      status: 'counted',
      unit: '',
      event: 'context-switches',
      canonicalEvent: 'context-switches',
      runTimeNs: 2002595952,
      runningPercent: 100,
      metricValue: null,
      metricUnit: null,
    });
  });

  it('reads <not supported> and <not counted> as a null value with their status', () => {
    const unsupported = line('     1.001113534,<not supported>,,cycles,0,100.00,,');
    expect(unsupported).toMatchObject({ value: null, status: 'not-supported', event: 'cycles' });
    const uncounted = line('     1.001046562,<not counted>,,cpu_atom/branch-misses/,0,0.00,,');
    expect(uncounted).toMatchObject({
      value: null,
      status: 'not-counted',
      canonicalEvent: 'branch-misses',
      runningPercent: 0,
    });
  });

  it('reads the metric columns and a multiplexed share', () => {
    const parsed = line(
      '     1.001017870,12524467636,,instructions,5005089350,62.50,1.30,insn per cycle',
    );
    expect(parsed).toMatchObject({
      value: 12524467636,
      runningPercent: 62.5,
      metricValue: 1.3,
      metricUnit: 'insn per cycle',
    });
  });

  it('reads fractional values with a unit (msec events)', () => {
    expect(
      line('2.000123,4003.51,msec,cpu-clock,4003512000,100.00,1.999,CPUs utilized'),
    ).toMatchObject({
      value: 4003.51,
      unit: 'msec',
      canonicalEvent: 'cpu-clock',
      metricValue: 1.999,
    });
  });

  it('tolerates extra trailing columns and missing optional ones', () => {
    expect(line('1.5,10,,page-faults,1000,100.00,,,extra,fields')).toMatchObject({
      value: 10,
      canonicalEvent: 'page-faults',
      runTimeNs: 1000,
    });
    expect(line('1.5,10,,page-faults')).toMatchObject({
      value: 10,
      runTimeNs: null,
      runningPercent: null,
      metricUnit: null,
    });
  });

  it('keeps a raw PMU event spec whole although it contains commas', () => {
    expect(line('1.0,42,,cpu/event=0x3c,umask=0x0/,1000,50.00,,')).toMatchObject({
      event: 'cpu/event=0x3c,umask=0x0/',
      runTimeNs: 1000,
      runningPercent: 50,
    });
  });

  it('returns null for comments, blanks, messages and garbage', () => {
    for (const text of [
      '',
      '   ',
      '# started on Fri Nov 21 10:00:00 2025',
      'Error:',
      'Access to performance monitoring and observability operations is limited.',
      "event syntax error: 'bogus-event,context-switches'",
      'abc,12,,cycles,0,100.00,,',
      '1.0,-5,,cycles,0,100.00,,',
      '1.0,lots,,cycles,0,100.00,,',
      '1.0,,,cycles,0,100.00,,',
      '1.0,12',
      '1.0,12,,,0,100.00,,',
    ]) {
      expect(parsePerfStatLine(text), text).toBeNull();
    }
  });
});

describe('canonicalEventName', () => {
  it('strips hybrid PMU prefixes and modifiers', () => {
    expect(canonicalEventName('cycles')).toBe('cycles');
    expect(canonicalEventName('cycles:u')).toBe('cycles');
    expect(canonicalEventName('context-switches:k')).toBe('context-switches');
    expect(canonicalEventName('cpu_core/cycles/')).toBe('cycles');
    expect(canonicalEventName('cpu_atom/instructions/u')).toBe('instructions');
    expect(canonicalEventName('cpu/event=0x3c,umask=0x0/')).toBe('cpu/event=0x3c,umask=0x0/');
  });
});

describe('parsePerfStatOutput', () => {
  it('groups the captured VM output by interval, hardware events unsupported', () => {
    const intervals = parsePerfStatOutput(fixture('vm-system-wide.txt'));
    expect(intervals.map((i) => i.timestampS)).toEqual([1.001113534, 2.002593979, 2.589900489]);
    expect(intervals[0]?.lengthS).toBeCloseTo(1.001113534, 9);
    expect(intervals[1]?.lengthS).toBeCloseTo(1.001480445, 9);
    // perf prints a short last interval when it is interrupted.
    expect(intervals[2]?.lengthS).toBeCloseTo(0.58730651, 9);
    const first = intervals[0]?.counters;
    expect([...(first?.keys() ?? [])]).toEqual([
      'cycles',
      'instructions',
      'cache-references',
      'cache-misses',
      'branch-misses',
      'context-switches',
      'cpu-migrations',
      'page-faults',
    ]);
    expect(first?.get('cycles')).toEqual({
      value: null,
      status: 'not-supported',
      unit: '',
      runningPercent: 100,
    });
    expect(first?.get('context-switches')).toEqual({
      value: 536,
      status: 'counted',
      unit: '',
      runningPercent: 100,
    });
    expect(intervals[1]?.counters.get('page-faults')?.value).toBe(1);
  });

  it('merges modifiers into the plain event (captured cycles:u, context-switches:k)', () => {
    const intervals = parsePerfStatOutput(fixture('vm-modifiers.txt'));
    expect(intervals).toHaveLength(2);
    expect(intervals[0]?.counters.get('context-switches')?.value).toBe(827);
    expect(intervals[0]?.counters.get('cycles')?.status).toBe('not-supported');
  });

  it('keeps every event unsupported when only hardware events were asked (captured)', () => {
    const intervals = parsePerfStatOutput(fixture('vm-hardware-only.txt'));
    expect(intervals).toHaveLength(3);
    for (const interval of intervals) {
      expect([...interval.counters.values()].every((c) => c.status === 'not-supported')).toBe(true);
    }
  });

  it('finds no interval in perf error output (captured)', () => {
    expect(parsePerfStatOutput(fixture('vm-bogus-event.txt'))).toEqual([]);
    expect(parsePerfStatOutput(fixture('vm-permission-denied.txt'))).toEqual([]);
  });

  it('reads hardware counters with multiplexing (hand-made x86)', () => {
    const [first, second] = parsePerfStatOutput(fixture('handmade-x86-multiplexed.txt'));
    expect(first?.counters.get('cycles')).toEqual({
      value: 9634205874,
      status: 'counted',
      unit: '',
      runningPercent: 62.5,
    });
    expect(first?.counters.get('cache-misses')?.value).toBe(12053907);
    expect(second?.counters.get('instructions')?.value).toBe(8009632640);
    expect(second?.lengthS).toBeCloseTo(1.001127461, 9);
  });

  it('sums hybrid PMUs per event and keeps the lowest running share (hand-made)', () => {
    const [only, ...rest] = parsePerfStatOutput(fixture('handmade-hybrid-alderlake.txt'));
    expect(rest).toEqual([]);
    const counters = only?.counters;
    expect(counters?.size).toBe(8);
    expect(counters?.get('cycles')?.value).toBe(6013587520 + 2412953110);
    expect(counters?.get('instructions')?.value).toBe(9621740032 + 2895543732);
    expect(counters?.get('cache-references')).toEqual({
      value: 50000000,
      status: 'counted',
      unit: '',
      runningPercent: 80,
    });
    // The atom half was not counted: the event is still counted, by the core half alone.
    expect(counters?.get('branch-misses')).toEqual({
      value: 1500000,
      status: 'counted',
      unit: '',
      runningPercent: 0,
    });
  });
});

describe('PerfCounter unit', () => {
  // Hand-written in the layout perf prints uncore memory-controller events (no such PMU here).
  it('keeps the unit perf printed, per event, across PMU instances and uncounted lines', () => {
    const text = [
      '1.000000000,12.50,MiB,uncore_imc_0/cas_count_read/,1000000000,100.00,,',
      '1.000000000,7.25,MiB,uncore_imc_1/cas_count_read/,1000000000,100.00,,',
      '1.000000000,<not counted>,MiB,uncore_imc/cas_count_write/,0,0.00,,',
      '1.000000000,536,,context-switches,1000000000,100.00,,',
      '1.000000000,4003.51,msec,cpu-clock,4003512000,100.00,1.999,CPUs utilized',
    ].join('\n');
    const [interval] = parsePerfStatOutput(text);
    expect(interval?.counters.get('cas_count_read')).toEqual({
      value: 19.75,
      status: 'counted',
      unit: 'MiB',
      runningPercent: 100,
    });
    expect(interval?.counters.get('cas_count_write')).toEqual({
      value: null,
      status: 'not-counted',
      unit: 'MiB',
      runningPercent: 0,
    });
    expect(interval?.counters.get('context-switches')?.unit).toBe('');
    expect(interval?.counters.get('cpu-clock')?.unit).toBe('msec');
  });

  it('takes the unit of whichever line printed one', () => {
    const text =
      '1.0,3,,uncore_imc_0/cas_count_read/,1,100.00,,\n' +
      '1.0,2.00, MiB ,uncore_imc_1/cas_count_read/,1,100.00,,\n';
    expect(parsePerfStatOutput(text)[0]?.counters.get('cas_count_read')).toMatchObject({
      value: 5,
      unit: 'MiB',
    });
  });
});

describe('PerfIntervalAssembler', () => {
  it('knows a PMU-qualified interval is whole by its canonical names', () => {
    const assembler = new PerfIntervalAssembler();
    assembler.push(line('1.0,25.00,MiB,uncore_imc/cas_count_read/,1,100.00,,'));
    assembler.push(line('1.0,5.00,MiB,uncore_imc/cas_count_write/,1,100.00,,'));
    expect(assembler.pendingHasAll(['cas_count_read', 'cas_count_write'])).toBe(true);
    // The -e spelling is not how intervals are keyed: callers canonicalize it first.
    expect(assembler.pendingHasAll(['uncore_imc/cas_count_read/'])).toBe(false);
  });

  it('completes an interval on the next timestamp or on flush, and drops late lines', () => {
    const assembler = new PerfIntervalAssembler();
    expect(assembler.push(line('1.0,5,,context-switches,1,100.00,,'))).toBeNull();
    expect(assembler.pendingHasAll(['context-switches', 'page-faults'])).toBe(false);
    expect(assembler.push(line('1.0,7,,page-faults,1,100.00,,'))).toBeNull();
    expect(assembler.pendingHasAll(['context-switches', 'page-faults'])).toBe(true);
    const first = assembler.flush();
    expect(first?.lengthS).toBe(1);
    expect(first?.counters.get('page-faults')?.value).toBe(7);
    // A line of the interval already completed must not open a bogus new one.
    expect(assembler.push(line('1.0,9,,page-faults,1,100.00,,'))).toBeNull();
    expect(assembler.flush()).toBeNull();
    expect(assembler.push(line('1.5,3,,context-switches,1,100.00,,'))).toBeNull();
    const second = assembler.push(line('2.5,4,,context-switches,1,100.00,,'));
    expect(second?.timestampS).toBe(1.5);
    expect(second?.lengthS).toBe(0.5);
    expect(assembler.flush()?.lengthS).toBe(1);
  });
});

describe('describePerfError', () => {
  it("names perf's own reason from captured error output", () => {
    const denied = fixture('vm-permission-denied.txt').split('\n');
    expect(describePerfError(denied)).toBe(
      'Access to performance monitoring and observability operations is limited.',
    );
    expect(describePerfError(fixture('vm-bogus-event.txt').split('\n'))).toBe(
      "event syntax error: 'bogus-event,context-switches' (parser error)",
    );
  });

  it('returns null when perf said nothing, and caps a long line', () => {
    expect(describePerfError(['', 'Error:', '  '])).toBeNull();
    expect(describePerfError(['     1.0,5,,cycles,1,100.00,,'])).toBeNull();
    const long = describePerfError(['x'.repeat(1000)]);
    expect(long).toHaveLength(300);
    expect(long?.endsWith('…')).toBe(true);
  });
});
