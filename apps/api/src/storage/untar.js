// @ts-check
// Unpacks the PGlite template (a gzip tarball of a data directory, made by `npm run build` with
// PGlite's own `dumpDataDir`) straight onto the disk. PGlite can load such a tarball itself
// (`loadDataDir`), but only from inside a running PGlite: a first start would compile and start
// a second WebAssembly PostgreSQL just to write ~1,000 files, the worst memory spike of a fresh
// start. Plain JavaScript like the worker that calls it (see ./pglite-worker.js).
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

/**
 * A file entry being written: its descriptor (or, for the file written last, its bytes kept
 * until the end), the body bytes still to come and the padding after them.
 * @typedef {{ fd: number | null, kept: Buffer[] | null, left: number, pad: number,
 *   target: string, mtime: number, name: string }} Entry
 */
const CHUNK = 64 * 1024;

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
 *
 * Streamed: the archive is read, inflated and written in chunks of 64 KiB, never held whole.
 * The template inflates to ~40 MB (a 16 MB WAL segment among it), which as one buffer stayed
 * resident in the database thread until its first full garbage collection, tens of seconds
 * later, on top of the start-up's own peak.
 * @param {string | Uint8Array} gzipped the archive's path, or the archive itself
 * @param {string} dir an existing directory
 * @param {string} [last]
 * @returns {Promise<number>} the number of files written
 */
export async function extractTarGz(gzipped, dir, last) {
  const root = path.resolve(dir);
  const source =
    typeof gzipped === 'string'
      ? fs.createReadStream(gzipped, { highWaterMark: CHUNK })
      : Readable.from([gzipped]);
  /** @type {(() => void) | undefined} */
  let writeLast;
  let files = 0;
  let ended = false;
  // What is left of the current chunk that did not fill a header yet.
  /** @type {Buffer} */
  let pending = Buffer.alloc(0);
  /** @type {Entry | null} the file being written */
  let body = null;

  /** @param {Entry} file */
  function finish(file) {
    if (file.fd !== null) {
      fs.closeSync(file.fd);
      fs.utimesSync(file.target, file.mtime, file.mtime);
    } else if (file.kept !== null) {
      const data = Buffer.concat(file.kept);
      const { target, mtime } = file;
      writeLast = () => {
        fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
        fs.writeFileSync(target, data, { mode: 0o600 });
        fs.utimesSync(target, mtime, mtime);
      };
    }
    files += 1;
  }

  /**
   * Makes a directory entry, or opens a file entry's target.
   * @param {Buffer} header
   * @returns {Entry | null} the file whose body comes next, if any
   */
  function start(header) {
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
    if (type === '5') {
      fs.mkdirSync(target, { recursive: true, mode: 0o700 });
      return null;
    }
    if (type !== '0' && type !== '\0') {
      throw new Error(`tar: "${name}" has type "${type}", neither a file nor a directory`);
    }
    const isLast = last !== undefined && name.replace(/^\/+/, '') === last;
    let fd = null;
    if (!isLast) {
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      fd = fs.openSync(target, 'w', 0o600);
    }
    const pad = Math.ceil(size / BLOCK) * BLOCK - size;
    const file = { fd, kept: isLast ? [] : null, left: size, pad, target, mtime, name };
    if (size > 0) return file;
    finish(file);
    return null;
  }

  try {
    for await (const chunk of source.pipe(createGunzip({ chunkSize: CHUNK }))) {
      let data = /** @type {Buffer} */ (chunk);
      while (data.length > 0 && !ended) {
        if (body !== null) {
          if (body.left > 0) {
            const part = data.subarray(0, body.left);
            if (body.fd !== null) fs.writeSync(body.fd, part);
            else body.kept?.push(Buffer.from(part));
            body.left -= part.length;
            data = data.subarray(part.length);
          }
          if (body.left === 0) {
            const skip = Math.min(body.pad, data.length);
            body.pad -= skip;
            data = data.subarray(skip);
            if (body.pad === 0) {
              finish(body);
              body = null;
            }
          }
          continue;
        }
        const need = BLOCK - pending.length;
        const take = data.subarray(0, need);
        data = data.subarray(take.length);
        pending =
          pending.length === 0 && take.length === BLOCK ? take : Buffer.concat([pending, take]);
        if (pending.length < BLOCK) break;
        const header = pending;
        pending = Buffer.alloc(0);
        // The archive ends with zero blocks.
        if (header.every((byte) => byte === 0)) ended = true;
        else body = start(header);
      }
      if (ended) break;
    }
  } finally {
    if (body !== null && body.fd !== null) fs.closeSync(body.fd);
  }
  if (body !== null) throw new Error(`tar: "${body.name}" is cut short`);
  if (!ended) throw new Error('tar: the archive is cut short');
  writeLast?.();
  return files;
}
