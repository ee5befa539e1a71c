// @ts-check
// The embedded database's own thread. PGlite runs PostgreSQL compiled to WebAssembly, and a
// statement runs synchronously to its end: on the main thread one heavy query would stop the
// sampler, the stream and the health check for as long as it runs. Here it stops only this
// thread, and the main thread can end a statement that overruns by terminating the worker
// (./pglite-database.ts). Plain JavaScript, so the same file runs under tsx, vitest and from
// dist without a loader: worker threads do not inherit tsx's hooks.
import fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { releaseBundledFiles } from './pglite-bundle.js';
import { extractTarGz } from './untar.js';

// PGlite's file system layer chmods every file it creates to Emscripten's 0666, past the
// process's umask. This thread touches nothing but the database's own directory, which holds
// password hashes and the whole history: every mode it sets loses its group and other bits.
// Patched before PGlite is loaded, since it keeps references to these functions.
const chmodSync = fs.chmodSync;
fs.chmodSync = (path, mode) => chmodSync(path, Number(mode) & ~0o077);
// PostgreSQL's WebAssembly runs on V8's baseline compiler (Liftoff) only. By default V8 also
// recompiles its hot functions with TurboFan, over the first minutes: each of those compiles
// (PostgreSQL's executor and parser are huge functions) holds up to 40 MB of compiler memory
// for a moment, the largest transient of a start, and TurboFan's code stays beside Liftoff's.
// Liftoff's code runs a monitor's statements at a similar cost (bench/RESULTS.md, bench/footprint).
// V8's flags are the process's, read when WebAssembly is compiled: only PGlite compiles any.
v8.setFlagsFromString('--liftoff-only');
const { PGlite } = await import('@electric-sql/pglite');
// PGlite copies each reply into a buffer of this size, kept for the life of the thread (its
// default: 1 MiB). A larger reply grows it for that statement only: the next one starts from
// this size again. livestat's statements reply with a few KB, the process ticks' with ~100 KB.
/** @type {{ DEFAULT_RECV_BUF_SIZE: number }} */ (
  /** @type {unknown} */ (PGlite)
).DEFAULT_RECV_BUF_SIZE = 128 * 1024;

/**
 * Takes group and other access away from an existing directory (made by an older version).
 * @param {string} dir
 */
function ownerOnly(dir) {
  for (const entry of fs.readdirSync(dir, { recursive: true })) {
    const path = join(dir, String(entry));
    const { mode } = fs.lstatSync(path);
    if (mode & 0o077) chmodSync(path, mode & 0o700);
  }
}

/** @typedef {import('./pglite-database.js').WorkerRequest} WorkerRequest */
/** @typedef {import('./pglite-database.js').WorkerReply} WorkerReply */

const port = parentPort;
if (port === null) throw new Error('pglite-worker.js runs as a worker thread');

/** @type {{ dataDir?: string, initOnly?: boolean, template?: string }} */
const { dataDir, initOnly, template } = workerData;

// PostgreSQL's defaults are sized for a server of its own (128 MB of shared_buffers, all of
// it resident once touched); a monitor writes one row set a second and reads back bounded
// ranges, which the OS page cache under the data directory serves as well. These keep the
// embedded database about 140 MB smaller for the life of the process. 2 MB of buffers (256
// pages: the indexes' right edges and the rows being rolled up) hold what a 1 Hz writer
// touches, and every buffer is resident within a minute of start: 16 MB kept 12 MB more of
// WebAssembly memory resident than 4, and 4 MB 2 MB more than 2, at the same CPU and ingest
// rate (bench/RESULTS.md, bench/footprint). PostgreSQL sizes its lock, process and snapshot
// tables for max_connections backends, zeroed at start-up and so resident; PGlite runs one
// single-user backend, and 4 (the fewest beside the 3 slots reserved for superusers) keeps
// 4 MB of WebAssembly memory untouched that 100 took. PostgreSQL's dynamic shared memory (a
// 1 MiB segment for its statistics) is mapped into the WebAssembly memory from a file: as a
// POSIX segment that file is an in-memory one, a second copy in this thread; in mmap mode it
// is a file under the data directory, read once when the segment is made. The time zone is
// UTC whatever postgresql.conf says (initdb writes the zone it finds): the thread keeps no
// other zone's file (./pglite-bundle.js), and UTC is what every stored time is written in.
const START_PARAMS = [
  ...PGlite.defaultStartParams,
  ...[
    'timezone=UTC',
    'log_timezone=UTC',
    'max_connections=4',
    'dynamic_shared_memory_type=mmap',
    'shared_buffers=2MB',
    'wal_buffers=512kB',
    'maintenance_work_mem=16MB',
    'temp_buffers=1MB',
  ].flatMap((setting) => ['-c', setting]),
];

// A freshly initialized data directory made by `npm run build` (src/cli/pglite-template.ts), unless
// the caller names another; from source there is none, and a first start runs initdb.
const TEMPLATE = template ?? new URL('./pglite-template.tgz', import.meta.url);

/**
 * Without the template, a first start runs initdb (a second WebAssembly PostgreSQL), which
 * leaves memory behind that lives as long as the thread does: do it in a thread of its own that
 * then exits, so that memory goes back to the system instead of sitting beside the database's
 * for good. (With the template, the files are unpacked by ./untar.js, no PostgreSQL needed.)
 * @param {string} dir
 * @returns {Promise<void>}
 */
function initInOwnThread(dir) {
  return new Promise((resolve, reject) => {
    const thread = new Worker(new URL(import.meta.url), {
      workerData: { dataDir: dir, initOnly: true },
    });
    thread.once('error', reject);
    thread.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`initdb thread exited with code ${code}`)),
    );
  });
}

/**
 * Only what structured clone carries and the caller needs: SQLSTATE code and detail for
 * errors the storage code tells apart (unique violation, disk full).
 * @param {unknown} err
 */
function serializeError(err) {
  const e = /** @type {Error & Record<string, unknown>} */ (err);
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    detail: typeof e?.detail === 'string' ? e.detail : undefined,
  };
}

/** @param {WorkerReply} reply */
const reply = (reply) => port.postMessage(reply);

/** @type {import('@electric-sql/pglite').PGlite} */
let db;
try {
  // Owner-only: the directory holds password hashes and the whole history.
  if (dataDir !== undefined) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    ownerOnly(dataDir);
  }
  if (dataDir !== undefined && !initOnly && !fs.existsSync(join(dataDir, 'PG_VERSION'))) {
    if (fs.existsSync(TEMPLATE)) {
      // PG_VERSION last: a first start cut short leaves a directory without it, which the next
      // start unpacks again rather than taking for a database.
      await extractTarGz(
        TEMPLATE instanceof URL ? fileURLToPath(TEMPLATE) : TEMPLATE,
        dataDir,
        'PG_VERSION',
      );
    } else {
      await initInOwnThread(dataDir);
    }
  }
  db = await PGlite.create(dataDir, { startParams: START_PARAMS });
  if (initOnly) {
    await db.close();
    process.exit(0);
  }
  // The bundled files read by initdb and the like go, the others get bytes of their own.
  // (`mod`, the Emscripten module, is protected in PGlite's types.)
  const { mod } = /** @type {{ mod?: { FS: import('./pglite-bundle.js').EmscriptenFS } }} */ (
    /** @type {unknown} */ (db)
  );
  if (mod) releaseBundledFiles(mod.FS);
} catch (err) {
  reply({ id: 0, ok: false, error: serializeError(err) });
  process.exit(1);
}

// One request at a time, in the order sent: the main thread schedules, this thread executes.
let queue = Promise.resolve();
port.on('message', (/** @type {WorkerRequest} */ request) => {
  queue = queue.then(async () => {
    try {
      switch (request.op) {
        case 'query': {
          const result = await db.query(request.sql, request.params ?? []);
          reply({ id: request.id, ok: true, rows: result.rows });
          return;
        }
        case 'exec':
          await db.exec(request.sql);
          reply({ id: request.id, ok: true, rows: [] });
          return;
        case 'copy':
          // PGlite reads COPY input from a blob attached to the query.
          await db.query(request.sql, [], { blob: new Blob([request.text]) });
          reply({ id: request.id, ok: true, rows: [] });
          return;
        case 'close':
          if (!db.closed) await db.close();
          reply({ id: request.id, ok: true, rows: [] });
          port.close();
          return;
      }
    } catch (err) {
      reply({ id: request.id, ok: false, error: serializeError(err) });
    }
  });
});
reply({ id: 0, ok: true, rows: [] });
