// @ts-check
// PGlite's bundled files, trimmed once its database is open. Plain JavaScript like the worker
// that calls it (see ./pglite-worker.js).

// What PGlite unpacks into its in-memory file system that an open database never reads: what
// initdb reads to create one (the initdb-only thread keeps them), files for building
// extensions, ICU's collation data (the database uses libc's C locale), the conversions to
// client encodings other than UTF-8 (PGlite's client is UTF-8 only, and livestat's SQL converts
// nothing), replication's modules (PGlite runs single-user), the time zones other than UTC
// (the worker starts PostgreSQL with `timezone=UTC`, and livestat's SQL names no zone: its
// times go in and out as epoch milliseconds or ISO text with an offset) and the Snowball
// stemmers of full-text search (0.6 MB; livestat's SQL searches no text).
const UNUSED_FILES = [
  /^\/pglite\/share\/postgresql\/[^/]+\.(bki|sql|sample|txt)$/,
  /^\/pglite\/lib\/postgresql\/pgxs\//,
  /^\/pglite\/icu\//,
  /^\/pglite\/lib\/postgresql\/[a-z0-9_]+_and_[a-z0-9_]+\.so$/,
  /^\/pglite\/lib\/postgresql\/euc2004_sjis2004\.so$/,
  /^\/pglite\/lib\/postgresql\/(libpqwalreceiver|pgoutput|dict_snowball)\.so$/,
  /^\/pglite\/share\/postgresql\/timezone\/(?!UTC$)/,
];

/**
 * PGlite's bundled files (pglite.data: 6 MB of time zones, modules, initdb's scripts, ICU data)
 * become files in Emscripten's in-memory file system as views on the one buffer they were read
 * into, which stays resident for the life of the thread (PGlite's start-up closure keeps it).
 * Deletes the files an open database never reads, gives each of the others a copy of its own
 * bytes, then detaches the buffer, which frees it: no file views it any more.
 * @param {EmscriptenFS} FS Emscripten's file system API (`PGlite#mod.FS`)
 * @returns {number} bytes of the bundle dropped
 */
export function releaseBundledFiles(FS) {
  /** @type {Set<ArrayBuffer>} */
  const bundles = new Set();
  const dropped = ['/pglite', '/home'].reduce((sum, dir) => sum + releaseIn(FS, dir, bundles), 0);
  // Transferred to a clone nobody keeps: the closure's reference is left with 0 bytes.
  for (const buffer of bundles) structuredClone(buffer, { transfer: [buffer] });
  return dropped;
}

/**
 * The part of Emscripten's FS used here; a MEMFS file's node holds its bytes in `contents`.
 * @typedef {{ mode: number, mount: unknown, contents?: unknown, usedBytes?: number }} FSNode
 * @typedef {{
 *   readdir(path: string): string[],
 *   lookupPath(path: string): { node: FSNode },
 *   isDir(mode: number): boolean,
 *   isMountpoint(node: FSNode): boolean,
 *   unlink(path: string): void,
 * }} EmscriptenFS
 */

/**
 * @param {EmscriptenFS} FS
 * @param {string} dir
 * @param {Set<ArrayBuffer>} bundles the buffers the files viewed, added to
 * @returns {number}
 */
function releaseIn(FS, dir, bundles) {
  let dropped = 0;
  for (const name of FS.readdir(dir)) {
    if (name === '.' || name === '..') continue;
    const path = `${dir}/${name}`;
    const { node } = FS.lookupPath(path);
    if (FS.isDir(node.mode)) {
      // The database's own directory is the disk's (NODEFS), nothing of the bundle.
      if (!FS.isMountpoint(node)) dropped += releaseIn(FS, path, bundles);
      continue;
    }
    const contents = node.contents;
    // Only files still viewing a larger buffer: one written since has bytes of its own.
    if (
      !(contents instanceof Uint8Array) ||
      !(contents.buffer instanceof ArrayBuffer) ||
      contents.byteLength === contents.buffer.byteLength
    )
      continue;
    bundles.add(contents.buffer);
    if (UNUSED_FILES.some((unused) => unused.test(path))) {
      FS.unlink(path);
      dropped += contents.byteLength;
    } else {
      node.contents = contents.slice(0, node.usedBytes ?? contents.byteLength);
    }
  }
  return dropped;
}
