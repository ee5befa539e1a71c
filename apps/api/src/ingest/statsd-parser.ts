import type { AppMetricKind } from '@livestat/contracts';

/** Why a StatsD line was refused; counted per reason, per service when one can be told. */
export type StatsdRejection =
  'bad_line' | 'empty_name' | 'bad_type' | 'bad_value' | 'bad_sample_rate' | 'bad_tags';

/**
 * One parsed line. The object is reused for every line of a packet (the receiver copies what
 * it keeps), so parsing allocates nothing per line beyond the substrings.
 */
export interface StatsdLine {
  name: string;
  kind: AppMetricKind;
  /** The number (every kind but sets); for a gauge with {@link delta}, the signed change. */
  value: number;
  /** A set's member, as sent. */
  member: string;
  /** A gauge written `+n` or `-n`: a change to the last value rather than a new value. */
  delta: boolean;
  /** `@0.1`: the client sent one in ten; counts are scaled back up by 1/rate. */
  sampleRate: number;
  /** DogStatsD tags as sent after `#` (`k:v,k2:v2`), '' without tags; parsed by {@link parseStatsdTags}. */
  tags: string;
}

const KINDS: Readonly<Record<string, AppMetricKind>> = {
  c: 'counter',
  g: 'gauge',
  ms: 'timer',
  h: 'histogram',
  // DogStatsD distributions: a histogram aggregated here rather than at Datadog.
  d: 'histogram',
  s: 'set',
};

// A number as StatsD clients write it: no hex, no Infinity, no blanks.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function toNumber(text: string): number {
  if (!NUMBER.test(text)) return NaN;
  return Number(text);
}

/**
 * Parses one packet of newline-separated StatsD lines (etsy StatsD, plus DogStatsD's `#tags`
 * and `:`-separated multiple values): `name:value|type[|@rate][|#k:v,…]`. Each good value goes
 * to `onLine` (the same object, refilled), each bad line to `onReject` with its reason and the
 * name when it had one. Never throws; empty lines are skipped.
 */
export function parseStatsdPacket(
  packet: string,
  onLine: (line: StatsdLine) => void,
  onReject: (reason: StatsdRejection, name: string | null) => void,
): void {
  const line: StatsdLine = {
    name: '',
    kind: 'counter',
    value: 0,
    member: '',
    delta: false,
    sampleRate: 1,
    tags: '',
  };
  let start = 0;
  while (start <= packet.length) {
    let end = packet.indexOf('\n', start);
    if (end === -1) end = packet.length;
    let text = packet.slice(start, end);
    start = end + 1;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.length === 0) continue;
    parseLine(text, line, onLine, onReject);
  }
}

function parseLine(
  text: string,
  line: StatsdLine,
  onLine: (line: StatsdLine) => void,
  onReject: (reason: StatsdRejection, name: string | null) => void,
): void {
  const colon = text.indexOf(':');
  const bar = text.indexOf('|');
  if (colon === -1 || bar === -1 || bar < colon) return onReject('bad_line', null);
  const name = text.slice(0, colon).trim();
  if (name.length === 0) return onReject('empty_name', null);
  const fields = text.slice(bar + 1).split('|');
  const kind = KINDS[fields[0]!];
  if (kind === undefined) return onReject('bad_type', name);
  let sampleRate = 1;
  let tags = '';
  for (let i = 1; i < fields.length; i += 1) {
    const field = fields[i]!;
    if (field.startsWith('@')) {
      sampleRate = toNumber(field.slice(1));
      if (!(sampleRate > 0 && sampleRate <= 1)) return onReject('bad_sample_rate', name);
    } else if (field.startsWith('#')) {
      tags = field.slice(1);
      if (!validTags(tags)) return onReject('bad_tags', name);
    }
    // Other extensions (`|c:<container>`, `|T<timestamp>`) are ignored, as DogStatsD agents do.
  }
  const values = text.slice(colon + 1, bar);
  // DogStatsD 1.1 packs several values of one metric into a line: `name:1:2:3|h`.
  const parts = kind === 'set' ? [values] : values.split(':');
  for (const part of parts) {
    if (part.length === 0) return onReject('bad_value', name);
  }
  line.name = name;
  line.kind = kind;
  line.sampleRate = sampleRate;
  line.tags = tags;
  if (kind === 'set') {
    line.member = values;
    line.value = 0;
    line.delta = false;
    onLine(line);
    return;
  }
  // Values are checked before any is delivered: a line is taken whole or refused whole.
  const numbers = parts.map(toNumber);
  if (numbers.some((n) => !Number.isFinite(n))) return onReject('bad_value', name);
  if ((kind === 'timer' || kind === 'histogram') && numbers.some((n) => n < 0)) {
    return onReject('bad_value', name);
  }
  for (let i = 0; i < numbers.length; i += 1) {
    const part = parts[i]!;
    line.value = numbers[i]!;
    line.delta = kind === 'gauge' && (part[0] === '+' || part[0] === '-');
    line.member = '';
    onLine(line);
  }
}

// `k:v,k2:v2,bare`: no empty tag, no empty key.
function validTags(text: string): boolean {
  if (text.length === 0) return false;
  for (const tag of text.split(',')) {
    if (tag.length === 0 || tag[0] === ':') return false;
  }
  return true;
}

/**
 * DogStatsD tags as a record: `k:v` pairs; a bare tag (`canary`) becomes `canary: ''`. The
 * first `:` splits, so values may hold colons (`url:http://x`). A repeated key keeps the last.
 */
export function parseStatsdTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  if (text.length === 0) return tags;
  for (const tag of text.split(',')) {
    const colon = tag.indexOf(':');
    if (colon === -1) tags[tag] = '';
    else tags[tag.slice(0, colon)] = tag.slice(colon + 1);
  }
  return tags;
}
