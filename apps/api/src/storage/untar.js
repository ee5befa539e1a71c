// @ts-check
// Unpacks the PGlite template (a gzip tarball of a data directory, made by `npm run build` with
// PGlite's own `dumpDataDir`) straight onto the disk. PGlite can load such a tarball itself
// (`loadDataDir`), but only from inside a running PGlite: a first start would compile and start
// a second WebAssembly PostgreSQL just to write ~1,000 files, the worst memory spike of a fresh
// start. Plain JavaScript like the worker that calls it (see ./pglite-worker.js).
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

const BLOCK = 512;

/**
 * A NUL-terminated field of a tar header.
 * @param {Buffer} header
 * @param {number} start
 * @param {number} length
 */
function field(header, start, length) {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? length : end).toString('utf8');
}

/**
 * An octal number field of a tar header.
 * @param {Buffer} header
 * @param {number} start
 * @param {number} length
 */
function octal(header, start, length) {
  const text = field(header, start, length).trim();
  const value = text === '' ? 0 : Number.parseInt(text, 8);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`tar: bad number "${text}"`);
  return value;
}

/**
 * Writes the regular files and directories of a gzip tarball (ustar, as PGlite's `dumpDataDir`
 * writes it) under `dir`, with their modification times and owner-only modes (0600 files,
 * 0700 directories: a data directory holds password hashes). Entries of any other type are
 * refused, as is a name that would land outside `dir`. The file named `last` (a path inside
 * the archive, without its leading `/`) is written after all the others: a reader that takes
 * its presence to mean "complete" never sees an extraction cut short as complete.
 * @param {Uint8Array} gzipped
 * @param {string} dir an existing directory
 * @param {string} [last]
 * @returns {number} the number of files written
 */
export function extractTarGz(gzipped, dir, last) {
  const tar = gunzipSync(gzipped);
  const root = path.resolve(dir);
  /** @type {(() => void) | undefined} */
  let writeLast;
  let files = 0;
  let ended = false;
  for (let offset = 0; offset + BLOCK <= tar.length;) {
    const header = tar.subarray(offset, offset + BLOCK);
    // The archive ends with zero blocks.
    if (header.every((byte) => byte === 0)) {
      ended = true;
      break;
    }
    // POSIX ustar keeps long names' directories in a prefix field; older GNU headers keep
    // other things there.
    const prefix = field(header, 257, 6) === 'ustar' ? field(header, 345, 155) : '';
    const name = (prefix ? `${prefix}/` : '') + field(header, 0, 100);
    const size = octal(header, 124, 12);
    const mtime = octal(header, 136, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const target = path.resolve(root, `.${path.posix.sep}${name}`);
    if (target !== root && !target.startsWith(root + path.sep)) {
      throw new Error(`tar: "${name}" is outside the target directory`);
    }
    offset += BLOCK;
    if (type === '5') {
      fs.mkdirSync(target, { recursive: true, mode: 0o700 });
    } else if (type === '0' || type === '\0') {
      if (offset + size > tar.length) throw new Error(`tar: "${name}" is cut short`);
      const data = tar.subarray(offset, offset + size);
      const write = () => {
        fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
        fs.writeFileSync(target, data, { mode: 0o600 });
        fs.utimesSync(target, mtime, mtime);
      };
      if (last !== undefined && name.replace(/^\/+/, '') === last) writeLast = write;
      else write();
      files += 1;
      offset += Math.ceil(size / BLOCK) * BLOCK;
    } else {
      throw new Error(`tar: "${name}" has type "${type}", neither a file nor a directory`);
    }
  }
  if (!ended) throw new Error('tar: the archive is cut short');
  writeLast?.();
  return files;
}
