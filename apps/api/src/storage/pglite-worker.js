// @ts-check
// The embedded database's own thread. PGlite runs PostgreSQL compiled to WebAssembly, and a
// statement runs synchronously to its end: on the main thread one heavy query would stop the
// sampler, the stream and the health check for as long as it runs. Here it stops only this
// thread, and the main thread can end a statement that overruns by terminating the worker
// (./pglite-database.ts). Plain JavaScript, so the same file runs under tsx, vitest and from
// dist without a loader: worker threads do not inherit tsx's hooks.
import fs from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

// PGlite's file system layer chmods every file it creates to Emscripten's 0666, past the
// process's umask. This thread touches nothing but the database's own directory, which holds
// password hashes and the whole history: every mode it sets loses its group and other bits.
// Patched before PGlite is loaded, since it keeps references to these functions.
const chmodSync = fs.chmodSync;
fs.chmodSync = (path, mode) => chmodSync(path, Number(mode) & ~0o077);
const { PGlite } = await import('@electric-sql/pglite');

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

/** @type {{ dataDir?: string }} */
const { dataDir } = workerData;

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
  db = await PGlite.create(dataDir);
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
