import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTarGz } from './untar.js';

// The PGlite template is unpacked by plain JavaScript on a first start: owner-only, and an
// unpacking cut short must not pass for a complete data directory. That PGlite opens what it
// writes: pglite-database.test.ts.

/** One ustar entry: a 512-byte header, then the body padded to 512 bytes. */
function entry(name: string, body = '', type = '0'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000600\0', 100);
  header.write(`${Buffer.byteLength(body).toString(8).padStart(11, '0')}\0`, 124);
  header.write('15305103432\0', 136);
  header.write(type, 156);
  header.write('ustar\x0000', 257);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  padded.write(body);
  return Buffer.concat([header, padded]);
}
const archive = (...entries: Buffer[]) => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

describe('extractTarGz', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'livestat-untar-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes files and directories owner-only, with their modification times', async () => {
    const files = await extractTarGz(
      archive(entry('/base', '', '5'), entry('/base/1', 'one'), entry('/deep/er/2', 'two')),
      dir,
    );
    expect(files).toBe(2);
    expect(readFileSync(join(dir, 'base/1'), 'utf8')).toBe('one');
    expect(readFileSync(join(dir, 'deep/er/2'), 'utf8')).toBe('two');
    expect(statSync(join(dir, 'base/1')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'base')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'deep/er')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'base/1')).mtimeMs).toBe(0o15305103432 * 1000);
  });

  it('refuses names outside the directory and entries that are not files or directories', async () => {
    await expect(extractTarGz(archive(entry('../escaped', 'x')), dir)).rejects.toThrow(/outside/);
    expect(existsSync(join(dir, '../escaped'))).toBe(false);
    await expect(extractTarGz(archive(entry('/link', '', '2')), dir)).rejects.toThrow(/type "2"/);
  });

  it('leaves the file named last unwritten when the archive is cut short', async () => {
    const whole = gunzipSync(
      archive(entry('/PG_VERSION', '17\n'), entry('/base/1', 'x'.repeat(900))),
    );
    const cut = gzipSync(whole.subarray(0, 512 * 3));
    await expect(extractTarGz(cut, dir, 'PG_VERSION')).rejects.toThrow(/cut short/);
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(false);
    const headerOnly = gzipSync(whole.subarray(0, 512 * 2));
    await expect(extractTarGz(headerOnly, dir, 'PG_VERSION')).rejects.toThrow(/cut short/);
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(false);
    await extractTarGz(gzipSync(whole), dir, 'PG_VERSION');
    expect(readFileSync(join(dir, 'PG_VERSION'), 'utf8')).toBe('17\n');
  });

  it('streams an archive from its path, bodies across many chunks and headers split between them', async () => {
    // 150,001 bytes puts the next header at an offset that is no multiple of the 64 KiB chunk.
    const big = Array.from({ length: 150_001 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(
      '',
    );
    const path = join(dir, 'archive.tgz');
    writeFileSync(
      path,
      archive(entry('/base/big', big), entry('/base/small', 'small'), entry('/PG_VERSION', '17\n')),
    );
    const out = join(dir, 'out');
    mkdirSync(out);
    expect(await extractTarGz(path, out, 'PG_VERSION')).toBe(3);
    expect(readFileSync(join(out, 'base/big'), 'utf8')).toBe(big);
    expect(readFileSync(join(out, 'base/small'), 'utf8')).toBe('small');
    expect(readFileSync(join(out, 'PG_VERSION'), 'utf8')).toBe('17\n');
  });
});
