import { describe, expect, it } from 'vitest';
import {
  parseStatsdPacket,
  parseStatsdTags,
  type StatsdLine,
  type StatsdRejection,
} from './statsd-parser.js';

function parse(packet: string) {
  const lines: StatsdLine[] = [];
  const rejected: [StatsdRejection, string | null][] = [];
  parseStatsdPacket(
    packet,
    (line) => lines.push({ ...line }),
    (reason, name) => rejected.push([reason, name]),
  );
  return { lines, rejected };
}

const line = (over: Partial<StatsdLine>): StatsdLine => ({
  name: '',
  kind: 'counter',
  value: 0,
  member: '',
  delta: false,
  sampleRate: 1,
  tags: '',
  ...over,
});

describe('parseStatsdPacket', () => {
  it.each([
    ['a counter', 'worker.jobs:1|c', line({ name: 'worker.jobs', kind: 'counter', value: 1 })],
    [
      'a gauge',
      'worker.queue.depth:17|g',
      line({ name: 'worker.queue.depth', kind: 'gauge', value: 17 }),
    ],
    ['a gauge increment', 'q:+3|g', line({ name: 'q', kind: 'gauge', value: 3, delta: true })],
    ['a gauge decrement', 'q:-2.5|g', line({ name: 'q', kind: 'gauge', value: -2.5, delta: true })],
    ['a timer', 'api.req:320.5|ms', line({ name: 'api.req', kind: 'timer', value: 320.5 })],
    ['a histogram', 'api.size:12|h', line({ name: 'api.size', kind: 'histogram', value: 12 })],
    ['a distribution', 'api.size:12|d', line({ name: 'api.size', kind: 'histogram', value: 12 })],
    ['a set', 'web.users:alice|s', line({ name: 'web.users', kind: 'set', member: 'alice' })],
    ['a sampled counter', 'w.x:1|c|@0.1', line({ name: 'w.x', value: 1, sampleRate: 0.1 })],
    [
      'a sampled timer',
      'w.t:5|ms|@0.5',
      line({ name: 'w.t', kind: 'timer', value: 5, sampleRate: 0.5 }),
    ],
    [
      'DogStatsD tags',
      'calls:1|c|#provider:openai,region:eu',
      line({ name: 'calls', value: 1, tags: 'provider:openai,region:eu' }),
    ],
    [
      'a rate and tags in either order',
      'calls:2|c|#provider:openai|@0.5',
      line({ name: 'calls', value: 2, sampleRate: 0.5, tags: 'provider:openai' }),
    ],
    ['an exponent', 'w.x:1e3|c', line({ name: 'w.x', value: 1000 })],
    ['a negative counter', 'w.x:-1|c', line({ name: 'w.x', value: -1 })],
    ['a CRLF line end', 'w.x:1|c\r', line({ name: 'w.x', value: 1 })],
  ])('reads %s', (_label, packet, expected) => {
    expect(parse(packet)).toEqual({ lines: [expected], rejected: [] });
  });

  it('reads every line of a packet and skips empty ones', () => {
    const { lines, rejected } = parse('a.x:1|c\n\nb.y:2|g\nc.z:3|ms\n');
    expect(lines.map((l) => [l.name, l.kind, l.value])).toEqual([
      ['a.x', 'counter', 1],
      ['b.y', 'gauge', 2],
      ['c.z', 'timer', 3],
    ]);
    expect(rejected).toEqual([]);
  });

  it('reads several values of one line (DogStatsD 1.1)', () => {
    expect(parse('w.t:1:2:3|ms').lines.map((l) => l.value)).toEqual([1, 2, 3]);
  });

  it('keeps colons inside a set member', () => {
    expect(parse('w.ips:10.0.0.1:80|s').lines[0]?.member).toBe('10.0.0.1:80');
  });

  it.each<[string, string, StatsdRejection, string | null]>([
    ['no colon', 'garbage', 'bad_line', null],
    ['no type', 'w.x:1', 'bad_line', null],
    ['an empty name', ':1|c', 'empty_name', null],
    ['an unknown type', 'w.x:1|q', 'bad_type', 'w.x'],
    ['a word for a value', 'w.x:abc|c', 'bad_value', 'w.x'],
    ['an empty value', 'w.x:|g', 'bad_value', 'w.x'],
    ['a hex value', 'w.x:0x10|c', 'bad_value', 'w.x'],
    ['infinity', 'w.x:Infinity|g', 'bad_value', 'w.x'],
    ['a negative timing', 'w.t:-5|ms', 'bad_value', 'w.t'],
    ['one bad value of several', 'w.t:1:x|ms', 'bad_value', 'w.t'],
    ['a zero sample rate', 'w.x:1|c|@0', 'bad_sample_rate', 'w.x'],
    ['a sample rate over 1', 'w.x:1|c|@2', 'bad_sample_rate', 'w.x'],
    ['a word for a sample rate', 'w.x:1|c|@often', 'bad_sample_rate', 'w.x'],
    ['empty tags', 'w.x:1|c|#', 'bad_tags', 'w.x'],
    ['an empty tag', 'w.x:1|c|#a:b,,c:d', 'bad_tags', 'w.x'],
    ['a tag without a key', 'w.x:1|c|#:v', 'bad_tags', 'w.x'],
  ])('refuses %s, naming the reason', (_label, packet, reason, name) => {
    expect(parse(packet)).toEqual({ lines: [], rejected: [[reason, name]] });
  });

  it('takes the good lines of a packet with bad ones among them', () => {
    const { lines, rejected } = parse('a.x:1|c\n\u0000\u0001garbage\nb.y:nope|g\nc.z:2|c');
    expect(lines.map((l) => l.name)).toEqual(['a.x', 'c.z']);
    expect(rejected.map(([reason]) => reason)).toEqual(['bad_line', 'bad_value']);
  });

  it('never throws on arbitrary bytes', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i += 1) {
      const text = Array.from({ length: 40 }, () =>
        String.fromCharCode(Math.floor(random() * 128)),
      ).join('');
      expect(() => parse(text)).not.toThrow();
    }
  });
});

describe('parseStatsdTags', () => {
  it('splits pairs at the first colon and keeps bare tags', () => {
    expect(parseStatsdTags('provider:openai,url:http://x:1,canary')).toEqual({
      provider: 'openai',
      url: 'http://x:1',
      canary: '',
    });
  });
});
