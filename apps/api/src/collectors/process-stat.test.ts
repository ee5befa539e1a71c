import { describe, expect, it } from 'vitest';
import {
  emptyPidStat,
  isKernelThread,
  parseCmdline,
  parseIo,
  parseLastPid,
  parsePasswd,
  parseSchedRuntime,
  parseStat,
  parseStatusUid,
  statComm,
} from './process-stat.js';

function stat(text: string) {
  const buf = Buffer.from(text);
  const out = emptyPidStat();
  const ok = parseStat(buf, buf.length, out);
  return { ok, out, comm: ok ? statComm(buf, out) : null };
}

// A real line (pid 466, `cat`, kernel 6.18) with its comm swapped in the cases below.
const TAIL =
  'R 458 458 5800 0 -1 4194304 98 0 0 0 7 3 0 0 20 0 4 0 124413 3133440 389 ' +
  '18446744073709551615 94058268778496 94058268798377 140733904938128 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n';

describe('parseStat', () => {
  it('reads pid, state, ppid, times, threads, start time and resident pages', () => {
    const { ok, out, comm } = stat(`466 (cat) ${TAIL}`);
    expect(ok).toBe(true);
    expect(comm).toBe('cat');
    expect(out).toMatchObject({
      pid: 466,
      state: 'R'.charCodeAt(0),
      ppid: 458,
      utime: 7,
      stime: 3,
      threads: 4,
      startTicks: 124413,
      rssPages: 389,
    });
  });

  it.each([
    ['spaces', 'tmux: server'],
    ['parentheses', '(sd-pam)'],
    ['a closing parenthesis and stat-like fields', 'a) S 1 (b'],
    ['nothing', ''],
  ])('takes a comm with %s whole, up to the last parenthesis', (_label, name) => {
    const { ok, out, comm } = stat(`466 (${name}) ${TAIL}`);
    expect(ok).toBe(true);
    expect(comm).toBe(name);
    expect(out.ppid).toBe(458);
    expect(out.rssPages).toBe(389);
  });

  it('reads a zombie: state Z, no memory', () => {
    const zombie =
      '3070 (sleep) Z 3062 3051 5800 0 -1 4227084 122 0 0 0 0 0 0 0 20 0 1 0 133488 0 0 ' +
      '18446744073709551615 0 0 0 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n';
    const { ok, out } = stat(zombie);
    expect(ok).toBe(true);
    expect(String.fromCharCode(out.state)).toBe('Z');
    expect(out.rssPages).toBe(0);
  });

  it.each([
    ['empty (the process exited while it was read)', ''],
    ['cut short before rss', '466 (cat) R 458 458 5800'],
    ['without a comm', `466 cat ${TAIL}`],
    ['without a pid', `(cat) ${TAIL}`],
  ])('refuses a line %s', (_label, text) => {
    expect(stat(text).ok).toBe(false);
  });

  it('tells kernel threads: kthreadd, its children and PF_KTHREAD tasks', () => {
    const kthreadd = stat(`2 (kthreadd) ${TAIL.replace('R 458', 'S 0')}`).out;
    const child = stat(`3 (kworker/0:0) ${TAIL.replace('R 458', 'I 2')}`).out;
    const flagged = stat(`9 (kt) ${TAIL.replace('4194304', String(0x00208040))}`).out;
    const user = stat(`466 (cat) ${TAIL}`).out;
    expect([kthreadd, child, flagged, user].map(isKernelThread)).toEqual([true, true, true, false]);
  });
});

describe('parseIo', () => {
  const text =
    'rchar: 4278\nwchar: 1200\nsyscr: 9\nsyscw: 3\nread_bytes: 8192\nwrite_bytes: 4096\n' +
    'cancelled_write_bytes: 512\n';

  it('takes read_bytes and write_bytes, not rchar/wchar nor cancelled_write_bytes', () => {
    const out = { readBytes: -1, writeBytes: -1 };
    const buf = Buffer.from(text);
    expect(parseIo(buf, buf.length, out)).toBe(true);
    expect(out).toEqual({ readBytes: 8192, writeBytes: 4096 });
  });

  it('refuses a file without both fields', () => {
    const buf = Buffer.from('rchar: 1\nwchar: 2\n');
    expect(parseIo(buf, buf.length, { readBytes: 0, writeBytes: 0 })).toBe(false);
  });
});

describe('parseCmdline', () => {
  const cmd = (text: string, max = 1024) => parseCmdline(Buffer.from(text), text.length, max);

  it('joins NUL-separated arguments with spaces', () => {
    expect(cmd('python3\u0000-c\u0000print(1)\u0000')).toBe('python3 -c print(1)');
  });

  it("is '' for a process without one (a zombie, a kernel thread)", () => {
    expect(cmd('')).toBe('');
  });

  it('caps the length, never cutting a character in two', () => {
    expect(cmd('x'.repeat(2000))).toHaveLength(1024);
    const emoji = `${'a'.repeat(9)}😀`;
    expect(parseCmdline(Buffer.from(emoji), Buffer.byteLength(emoji), 10)).toBe('a'.repeat(9));
  });
});

describe('parseStatusUid and parsePasswd', () => {
  it('reads the real uid of the Uid: line', () => {
    expect(parseStatusUid('Name:\tsleep\nUid:\t1000\t1001\t1001\t1001\n')).toBe(1000);
    expect(parseStatusUid('Name:\tsleep\n')).toBeNull();
  });

  it('maps uids to names, skipping comments and keeping the first of a uid', () => {
    const users = parsePasswd('# users\nroot:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nbad\n');
    expect([...users]).toEqual([[0, 'root']]);
  });
});

describe('parseLastPid and parseSchedRuntime', () => {
  const last = (text: string) => parseLastPid(Buffer.from(text), Buffer.byteLength(text));
  const runtime = (text: string) => parseSchedRuntime(Buffer.from(text), Buffer.byteLength(text));

  it("reads loadavg's fifth field, the last pid handed out", () => {
    expect(last('0.12 0.08 0.01 1/212 4242\n')).toBe(4242);
    expect(last('21.39 14.73 7.70 16/2418 3588')).toBe(3588);
  });

  it('refuses text that is not a loadavg line', () => {
    expect(last('')).toBe(-1);
    expect(last('0.12 0.08 0.01 1/212\n')).toBe(-1);
    expect(last('0.12 0.08 0.01 1/212 x\n')).toBe(-1);
    expect(last('0.12 0.08 0.01 1/212 42 7\n')).toBe(-1);
  });

  it("reads schedstat's run time in ns, past 2^53 too, and -1 for 0 0 0 or junk", () => {
    expect(runtime('631339 51086 1\n')).toBe(631339);
    // 200 days of CPU in ns: rounded, but a change of a microsecond still shows.
    const big = 17_280_000_000_000_000;
    expect(runtime(`${big} 0 9\n`)).not.toBe(runtime(`${big + 1000} 0 9\n`));
    expect(runtime('0 0 0\n')).toBe(-1);
    expect(runtime('')).toBe(-1);
    expect(runtime('abc 1 2\n')).toBe(-1);
  });
});
