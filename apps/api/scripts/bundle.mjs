// @ts-check
// `npm run build`'s second step, after tsc has checked the types: the API's production files,
// bundled and minified by esbuild into dist/ (see bench/RESULTS.md, bench/footprint).
//
// - dist/main.js is the entry; each module main.ts imports dynamically (the collectors, storage,
//   the API's routes, the agent role) becomes a file of its own beside it, loaded when imported,
//   so start-up still reads only what the first snapshot needs before the collectors prime.
// - The CLIs (dist/cli/*.js) and the two worker threads (dist/storage/pglite-worker.js,
//   dist/ingest/otlp-decode-worker.js) are files of their own, where the code looks for them.
// - Packages that load files of their own (argon2's native module, PGlite's WebAssembly and
//   data files) or that only some configurations load (pg, ioredis, nodemailer, protobufjs)
//   stay in node_modules, loaded from there at run time as before.
// - A module that finds a file relative to itself (`new URL('../../migrations/', import.meta.url)`)
//   still finds it: its `import.meta.url` is rewritten to the URL its own compiled file would
//   have had in dist/.
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const API = fileURLToPath(new URL('..', import.meta.url));
const SRC = path.join(API, 'src');
const OUT = path.join(API, 'dist');

/**
 * Resolved at run time from node_modules, never bundled: packages that load files of their own
 * (argon2's native module, PGlite's WebAssembly and data), those only some configurations load
 * (pg and pg-copy-streams for DATABASE_URL, ioredis for REDIS_URL, nodemailer for e-mail
 * alerts, protobufjs for OTLP), and two whose bulk is data the API never or rarely reads
 * (iconv-lite's encodings, loaded by body-parser on first use; mime-db, read as JSON).
 */
const EXTERNAL = [
  'argon2',
  '@electric-sql/pglite',
  'nodemailer',
  'pg',
  'pg-copy-streams',
  'ioredis',
  'protobufjs',
  'iconv-lite',
  'mime-db',
];

/**
 * An external package must resolve from dist/ to the copy the importing package would have
 * used: a second, nested version of it (installed for one dependant only) stops the build.
 * @returns {esbuild.Plugin}
 */
function externalsAsInstalled() {
  const fromDist = createRequire(path.join(OUT, 'main.js'));
  const filter = new RegExp(
    `^(${EXTERNAL.map((name) => name.replace(/[/.]/g, '\\$&')).join('|')})(/|$)`,
  );
  return {
    name: 'externals-as-installed',
    setup(build) {
      build.onResolve({ filter }, (args) => {
        if (args.importer.startsWith(SRC + path.sep)) return { path: args.path, external: true };
        const fromImporter = createRequire(args.importer).resolve(args.path);
        if (fromImporter !== fromDist.resolve(args.path)) {
          return {
            errors: [{ text: `${args.path} from ${args.importer} is not the copy dist/ resolves` }],
          };
        }
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * zod's `locales` namespace (60 languages' error messages, ~300 KB minified), which its index
 * re-exports and esbuild cannot drop: livestat imports the one it uses (en) by its own path.
 * @returns {esbuild.Plugin}
 */
function withoutZodLocales() {
  return {
    name: 'without-zod-locales',
    setup(build) {
      build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
        args.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`)
          ? { path: 'zod-locales', namespace: 'empty' }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};' }));
    },
  };
}

/** Where tsc would have put a source file: src/a/b.ts -> dist/a/b.js. */
const compiledPath = (/** @type {string} */ file) =>
  path.join(OUT, path.relative(SRC, file).replace(/\.ts$/, '.js'));

/**
 * `import.meta.url` of every source module, as its own compiled file's URL: relative to the
 * output file that holds it (`outDir`), which for one build is always the same directory.
 * @param {string} outDir
 * @returns {esbuild.Plugin}
 */
function importMetaUrlAsCompiled(outDir) {
  return {
    name: 'import-meta-url-as-compiled',
    setup(build) {
      build.onLoad({ filter: /\.[jt]s$/ }, async (args) => {
        if (!args.path.startsWith(SRC + path.sep)) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const relative = path.relative(outDir, compiledPath(args.path));
        const url = `new URL(${JSON.stringify(`./${relative}`)}, import.meta.url).href`;
        return {
          contents: text.replaceAll('import.meta.url', url),
          loader: args.path.endsWith('.ts') ? 'ts' : 'js',
        };
      });
    },
  };
}

/** @type {esbuild.BuildOptions} */
const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // Function and class names kept, so a logged stack trace still names them.
  keepNames: true,
  sourcemap: 'linked',
  // CommonJS packages inside an ES module bundle still call require (node's built-ins, the
  // external packages): give them node's.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'none',
};

/**
 * Builds into `outdir` (dist/ by default), esbuild's `options` over the defaults above; returns
 * each build's metafile (its outputs and what went into each).
 * @param {esbuild.BuildOptions} [options]
 */
export async function bundle({ outdir, ...options } = {}) {
  const out = outdir ?? OUT;
  // esbuild writes over files but never deletes them: a module renamed or removed must not
  // linger in dist/ (nor tsc's output of older builds).
  await rm(out, { recursive: true, force: true });
  const builds = [
    // The API and agent: main.js and the files its dynamic imports load, all in dist/.
    esbuild.build({
      ...COMMON,
      ...options,
      entryPoints: [path.join(SRC, 'main.ts')],
      outdir: out,
      splitting: true,
      chunkNames: 'main-[hash]',
      plugins: [importMetaUrlAsCompiled(OUT), externalsAsInstalled(), withoutZodLocales()],
      metafile: true,
    }),
    ...[
      'cli/users.ts',
      'cli/tokens.ts',
      'cli/pglite-template.ts',
      'storage/pglite-worker.js',
      'ingest/otlp-decode-worker.js',
    ].map((entry) => {
      const outfile = compiledPath(path.join(SRC, entry));
      return esbuild.build({
        ...COMMON,
        ...options,
        entryPoints: [path.join(SRC, entry)],
        outfile: path.join(out, path.relative(OUT, outfile)),
        plugins: [
          importMetaUrlAsCompiled(path.dirname(outfile)),
          externalsAsInstalled(),
          withoutZodLocales(),
        ],
        metafile: true,
      });
    }),
  ];
  return (await Promise.all(builds)).map((result) => result.metafile);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
