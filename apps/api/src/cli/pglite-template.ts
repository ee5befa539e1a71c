import { writeFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';

// Run by `npm run build` after tsc: writes a freshly initialized PGlite data directory, as a
// gzip tarball, beside the PGlite worker (dist/storage/pglite-template.tgz). A first start on an
// empty DATA_DIR loads it instead of running initdb, which is seconds of PostgreSQL in
// WebAssembly and a second WebAssembly heap. Made at build time with the PGlite version that is
// installed, so the two always match; without it (from source) a first start runs initdb.

const target = new URL('../storage/pglite-template.tgz', import.meta.url);
const db = await PGlite.create();
const tarball = await db.dumpDataDir('gzip');
await db.close();
await writeFile(target, Buffer.from(await tarball.arrayBuffer()));
process.stdout.write(`wrote ${target.pathname} (${(tarball.size / 1048576).toFixed(1)} MB)\n`);
