// bench/web: what the dashboard costs the browser, measured in Chromium on the production build.
//
//   1. Bundle: the dashboard route's JS (the `index.html` entry chunk and its static imports,
//      recursively; not the lazy routes), raw and gzipped, beside the same app built with all of
//      ECharts (`echarts/core` aliased to bench/web-full-echarts.ts).
//   2. Main-thread time per 1 Hz update with the 15-minute window full: CDP `TaskDuration` over
//      each second between two broadcasts, beside the same page connected but sent nothing.
//   3. JS heap after ~1 minute of updates and after `--minutes` (GC first), sped up `--speed`×.
//   4. Sample-to-screen latency: snapshot timestamp (set at send) to the frame after the page
//      rendered it, beside the store's own receive-only `latencies`; split into its stages
//      (socket, the message's task, the wait for a frame, the frame), and to the last frame that
//      drew a chart canvas for it ("charts drawn too").
//
// The page is the real build, served by bench/web-server.ts, against the web tests' stand-in
// API (apps/web/src/test/api-server.ts) fed by bench/web-feed.ts. Goals are printed, never
// asserted.
//
//   npm run bench:web -- [--updates 60] [--warmup 10] [--minutes 30] [--speed 10] [--skip-heap]
//                        [--json] [--profile FILE] [--trace FILE]
//                        [--compare GIT-REF] [--bundle-only] [--modules]
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { CDPSession, Page } from 'playwright-core';
import { build } from 'vite';
import { CHROME_PATH, launchBrowser } from '../apps/web/e2e/harness.js';
import { startTestApiServer } from '../apps/web/src/test/api-server.js';
import { CORES, createFeed } from './web-feed.js';
import { startWebServer } from './web-server.js';

const { values } = parseArgs({
  options: {
    updates: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    minutes: { type: 'string', default: '30' },
    speed: { type: 'string', default: '10' },
    'skip-heap': { type: 'boolean', default: false },
    // Stops after the bundle figures (1), with --compare's too: no Chromium.
    'bundle-only': { type: 'boolean', default: false },
    // Also lists what the route's JS is made of, by package and by module (from sourcemaps).
    modules: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    // Records a CPU profile of the measured updates (an unminified build of the page) into
    // this file, and prints the functions that took the most self time.
    profile: { type: 'string' },
    // Records a Chromium trace of the measured updates into this file, and prints where the
    // page's main thread spent them: self time by trace event (script, canvas, paint, …).
    trace: { type: 'string' },
    // Builds the app (apps/web and packages/contracts) as it is at this git ref too: its bundle
    // beside the current one, and both pages measured side by side in this run (each in its own
    // Chromium, fed the same snapshots at the same moments).
    compare: { type: 'string' },
  },
});
const COMPARE = values.compare;
const TRACE = values.trace;
const PROFILE = values.profile;
const UPDATES = Number(values.updates);
const WARMUP = Number(values.warmup);
const MINUTES = Number(values.minutes);
const SPEED = Number(values.speed);
const SKIP_HEAP = values['skip-heap'];
const BUNDLE_ONLY = values['bundle-only'];
const MODULES = values.modules;
if (
  !(Number.isInteger(UPDATES) && UPDATES >= 5) ||
  !(Number.isInteger(WARMUP) && WARMUP >= 0) ||
  !(MINUTES >= 2) ||
  !(SPEED >= 1 && SPEED <= 50)
) {
  console.error(
    'usage: npm run bench:web -- [--updates N≥5] [--warmup S] [--minutes M≥2] [--speed 1–50] [--skip-heap] [--bundle-only] [--modules] [--json]',
  );
  process.exit(2);
}
// With --json the report goes to stderr and one JSON object to stdout.
const say = values.json ? console.error : console.log;

const WEB_DIR = fileURLToPath(new URL('../apps/web/', import.meta.url));
const REPO_DIR = fileURLToPath(new URL('../', import.meta.url));
const FULL_ECHARTS = fileURLToPath(new URL('web-full-echarts.ts', import.meta.url));
const GZIP_LEVEL = 6;
const WINDOW_MINUTES = 15;
const HOST = 'bench-web-01';

const GOALS = {
  gzipKb: 350,
  ratio: 0.5,
  updateP95Ms: 8,
  heapGrowthMb: 5,
  latencyP99Ms: 50,
};

// ---------------------------------------------------------------------------------------------
// Figures

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function summarize(xs: readonly number[]): Summary {
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length),
  };
}

const ms = (x: number) => `${x.toFixed(2)} ms`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
const sleep = (wait: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));

// ---------------------------------------------------------------------------------------------
// 1. Bundle

interface ManifestChunk {
  file: string;
  /** Files the chunk refers to by URL: a worker's script (`new Worker(new URL(…))`) among them. */
  assets?: string[];
  imports?: string[];
  dynamicImports?: string[];
  isEntry?: boolean;
}

interface Bundle {
  label: string;
  dir: string;
  files: { file: string; raw: number; gzip: number }[];
  raw: number;
  gzip: number;
  lazyFiles: number;
  /**
   * The workers' scripts the route starts (a `.js` asset of one of its chunks: the live charts'
   * worker), with what they import statically; not in `files`, `raw` and `gzip`.
   */
  workers: { file: string; raw: number; gzip: number }[];
  /** With --modules: the route's minified code by source module (its path, as the map has it). */
  sources?: Map<string, string>;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The generated code of one file by the source each stretch of it maps to (a sourcemap's
 * base64-VLQ `mappings`: per generated line, segments of column and source deltas); a stretch
 * with no source, or before a line's first segment, is '(not mapped)'.
 */
function codeBySource(
  code: string,
  map: { sources: string[]; mappings: string },
  into: Map<string, string>,
): void {
  const lines = code.split('\n');
  const add = (key: string, text: string) => into.set(key, (into.get(key) ?? '') + text);
  let source = 0;
  map.mappings.split(';').forEach((segments, index) => {
    const line = lines[index] ?? '';
    let column = 0;
    let from = 0;
    let key = '(not mapped)';
    for (const segment of segments.split(',')) {
      if (segment === '') continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) * 2 ** shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value % 2 === 1 ? -Math.floor(value / 2) : Math.floor(value / 2));
          value = 0;
          shift = 0;
        }
      }
      column += fields[0] ?? 0;
      add(key, line.slice(from, column));
      from = column;
      if (fields.length > 1) source += fields[1]!;
      key = fields.length > 1 ? (map.sources[source] ?? '(not mapped)') : '(not mapped)';
    }
    add(key, line.slice(from));
  });
}

/** A source's package (`echarts`, `@vue/runtime-core` as `vue`), or the workspace it is in. */
function packageOf(source: string): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (inModules) return inModules[1]!.startsWith('@vue/') ? 'vue' : inModules[1]!;
  if (source.includes('packages/contracts/')) return '@livestat/contracts';
  if (source.includes('apps/web/')) return 'the app (apps/web/src)';
  return source;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The functions with the most self time in a CDP CPU profile, as printable lines. */
function topSelfTime(
  profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] },
  count: number,
): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const file = frame.url.split('/').pop() ?? '';
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    const us = deltas[i + 1] ?? 0;
    total += us;
    self.set(key, (self.get(key) ?? 0) + us);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([key, us]) =>
        `${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${key}`,
    );
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { functionName?: string } };
}

/**
 * Where the page's main thread (`CrRendererMain` of the process that ran most) spent a trace:
 * each complete event's self time (its duration less its children's), summed by name, over
 * `seconds` of updates; printable lines, largest first, with the busy total.
 */
function traceSelfTime(events: readonly TraceEvent[], seconds: number, count: number): string[] {
  const mains = new Map<string, number>();
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain') {
      mains.set(`${e.pid}:${e.tid}`, 0);
    }
  }
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph === 'X' && e.name === 'RunTask' && mains.has(key)) {
      mains.set(key, mains.get(key)! + (e.dur ?? 0));
    }
  }
  const main = [...mains.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (main === undefined) return ['(no renderer main thread in the trace)'];
  const complete = events
    .filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === main && (e.dur ?? 0) > 0)
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const self = new Map<string, number>();
  const stack: { end: number; key: string }[] = [];
  let busy = 0;
  for (const e of complete) {
    const end = e.ts + (e.dur ?? 0);
    while (stack.length > 0 && stack.at(-1)!.end <= e.ts) stack.pop();
    const parent = stack.at(-1);
    // A child's time is its own, not its parent's.
    if (parent !== undefined) self.set(parent.key, self.get(parent.key)! - (e.dur ?? 0));
    else busy += e.dur ?? 0;
    const fn = e.name === 'FunctionCall' ? e.args?.data?.functionName : undefined;
    const key = fn ? `${e.name} (${fn})` : e.name;
    self.set(key, (self.get(key) ?? 0) + (e.dur ?? 0));
    stack.push({ end, key });
  }
  const perSecond = (us: number) => `${(us / 1000 / seconds).toFixed(2).padStart(7)} ms/s`;
  return [
    `busy (top-level tasks) ${perSecond(busy)}`,
    ...[...self.entries()]
      .filter(([, us]) => us > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(
        ([key, us]) => `${perSecond(us)} ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${key}`,
      ),
  ];
}

/** Where the app to build is: the current one, or a git ref's (see {@link checkoutRef}). */
interface AppSource {
  webDir: string;
  /** The entry of the @livestat/contracts it is built with; the workspace's when absent. */
  contracts?: string;
}

/** A production build into a temp dir; `fullEcharts` aliases `echarts/core` to all of ECharts. */
async function buildBundle(
  label: string,
  fullEcharts: boolean,
  minify = true,
  source: AppSource = { webDir: WEB_DIR },
): Promise<Bundle> {
  const { webDir, contracts } = source;
  const dir = await mkdtemp(path.join(os.tmpdir(), `livestat-bench-web-${label}-`));
  const alias = [];
  if (fullEcharts) alias.push({ find: /^echarts\/core$/, replacement: FULL_ECHARTS });
  if (contracts) alias.push({ find: /^@livestat\/contracts$/, replacement: contracts });
  await build({
    configFile: path.join(webDir, 'vite.config.ts'),
    root: webDir,
    mode: 'production',
    logLevel: 'error',
    resolve: alias.length > 0 ? { alias } : undefined,
    // 'hidden': the maps are written, the files are byte for byte what they are without.
    build: {
      outDir: dir,
      emptyOutDir: true,
      manifest: true,
      minify,
      sourcemap: MODULES ? 'hidden' : false,
    },
  });
  const manifest = JSON.parse(
    await readFile(path.join(dir, '.vite', 'manifest.json'), 'utf8'),
  ) as Record<string, ManifestChunk>;
  // The route's JS: the entry and what it imports statically, all the way down. Dynamic
  // imports (the lazy history view) load on navigation, not with the dashboard.
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    const chunk = manifest[key];
    if (chunk === undefined) throw new Error(`${label}: ${key} is not in the manifest`);
    seen.add(key);
    for (const next of chunk.imports ?? []) visit(next);
  };
  visit('index.html');
  const files = [];
  const sources = MODULES ? new Map<string, string>() : undefined;
  for (const key of seen) {
    const file = manifest[key]!.file;
    if (!file.endsWith('.js')) continue;
    const body = await readFile(path.join(dir, file));
    files.push({ file, raw: body.length, gzip: gzipSync(body, { level: GZIP_LEVEL }).length });
    if (sources) {
      const map = JSON.parse(await readFile(path.join(dir, `${file}.map`), 'utf8'));
      codeBySource(body.toString('utf8'), map, sources);
    }
  }
  // A worker's script is built apart (its own chunks, not in the manifest): its static imports
  // are found in its code.
  const workers = [];
  const workerFiles = [...new Set([...seen].flatMap((key) => manifest[key]!.assets ?? []))].filter(
    (file) => file.endsWith('.js'),
  );
  for (let i = 0; i < workerFiles.length; i++) {
    const file = workerFiles[i]!;
    const body = await readFile(path.join(dir, file));
    workers.push({ file, raw: body.length, gzip: gzipSync(body, { level: GZIP_LEVEL }).length });
    for (const [, name] of body
      .toString('utf8')
      .matchAll(/^import[^'"`]*['"`]\.\/([^'"`]+\.js)['"`]/gm)) {
      const next = path.posix.join(path.posix.dirname(file), name!);
      if (!workerFiles.includes(next)) workerFiles.push(next);
    }
  }
  const lazy = new Set(
    Object.values(manifest)
      .filter((chunk) => chunk.file.endsWith('.js'))
      .map((chunk) => chunk.file),
  );
  for (const { file } of files) lazy.delete(file);
  return {
    label,
    dir,
    files,
    raw: files.reduce((sum, f) => sum + f.raw, 0),
    gzip: files.reduce((sum, f) => sum + f.gzip, 0),
    lazyFiles: lazy.size,
    workers,
    sources,
  };
}

const git = (args: string[]) =>
  execFileSync('git', args, { cwd: REPO_DIR, encoding: 'utf8' }).trim();

/**
 * The app as it is at git `ref` — apps/web and the @livestat/contracts it was written against —
 * to build as {@link buildBundle} builds the current one: its files are taken out under bench/out/
 * (inside the repository, so its imports resolve to the same node_modules).
 */
async function checkoutRef(ref: string): Promise<AppSource & { remove(): Promise<void> }> {
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const out = path.join(REPO_DIR, 'bench', 'out', `web-ref-${sha.slice(0, 12)}-${process.pid}`);
  // Lint reads bench/: the copy goes whatever happens to the run.
  const remove = () => rm(out, { recursive: true, force: true });
  await remove();
  await mkdir(out, { recursive: true });
  try {
    execFileSync(
      'sh',
      [
        '-c',
        `git archive ${sha} apps/web packages/contracts tsconfig.base.json | tar -x -C "${out}"`,
      ],
      { cwd: REPO_DIR },
    );
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    webDir: path.join(out, 'apps', 'web'),
    contracts: path.join(out, 'packages', 'contracts', 'src', 'index.ts'),
    remove,
  };
}

// ---------------------------------------------------------------------------------------------
// The page side. These run in Chromium (page.evaluate), typed by the slice of the page used.

interface PageStore {
  connectionState: string;
  windowMinutes: number;
  backfilling: boolean;
  version: number;
  selectedHost: string | null;
  selectedSnapshot: { timestamp: string; seq: number } | undefined;
  latencies: readonly number[];
  series: { size: number; get(path: string): { length: number } | undefined };
  setWindow(minutes: number): void;
  $subscribe(callback: () => void, options?: { detached?: boolean; deep?: number }): () => void;
}
interface PageBench {
  /** [seq, ms from the snapshot's timestamp to the frame after it was rendered]. */
  screen: [number, number][];
  /** Per sample, where its sample-to-screen time went: see {@link Stages}. */
  stages: Stages[];
  last: string;
}
/**
 * One sample's way to the screen, in ms: `socket` from its timestamp (set at send) to the page's
 * message handler starting (loopback, the browser's IPC, the main thread busy with other work);
 * `task` the handler with its microtasks (JSON, zod, the store, Vue's flush, `setOption`);
 * `wait` from the task's end to the start of the frame's animation-frame callbacks; `frame`
 * from there to the task after it (zrender's draw, style, layout, paint, commit).
 */
interface Stages {
  seq: number;
  socket: number;
  task: number;
  wait: number;
  frame: number;
  /**
   * From the snapshot's timestamp to the task after the last frame that drew a chart canvas
   * before the next snapshot (at least `screen`): the sample whole on screen, charts included,
   * however their drawing is spread over frames.
   */
  charts: number;
}
/** The message the page is handling now: its start (epoch ms and performance.now), and end. */
interface PageMessage {
  at: number;
  start: number;
  end: number;
}
declare const window: {
  livestat: { metrics: PageStore };
  __bench: PageBench;
  __benchMessage?: PageMessage;
  /** Epoch ms of the task after each frame in which a canvas was drawn on. */
  __benchDraws: number[];
};
declare const document: { querySelectorAll(selector: string): { length: number } };
declare const localStorage: { setItem(key: string, value: string): void };
declare function requestAnimationFrame(callback: (time: number) => void): number;
declare const performance: { now(): number; timeOrigin: number };

/**
 * An init script: each WebSocket message handler the page sets is wrapped to stamp the message
 * it handles (start, and end once the microtasks it queued — Vue's flush — have run) for the
 * sample-to-screen watcher's stages.
 */
function installMessageClock(): void {
  const g = globalThis as unknown as {
    WebSocket: { prototype: object };
    CanvasRenderingContext2D: { prototype: Record<string, (...args: unknown[]) => unknown> };
    __benchMessage?: PageMessage;
    __benchDraws: number[];
  };
  // A chart's redraw clears its canvas and strokes its lines: the first such call of a frame
  // stamps the task after the frame that shows it — that frame itself for a draw in one of its
  // animation-frame callbacks, the next frame for a draw in a task between frames.
  g.__benchDraws = [];
  let drawing = false;
  const drawn = () => {
    drawing = false;
    g.__benchDraws.push(Date.now());
  };
  const frames = g as unknown as {
    requestAnimationFrame: (callback: (time: number) => void) => number;
  };
  const ask = frames.requestAnimationFrame.bind(globalThis);
  let inFrame = 0;
  frames.requestAnimationFrame = (callback) =>
    ask((time) => {
      inFrame += 1;
      try {
        callback(time);
      } finally {
        inFrame -= 1;
      }
    });
  const context = g.CanvasRenderingContext2D.prototype;
  for (const name of ['clearRect', 'stroke']) {
    const original = context[name]!;
    context[name] = function (this: unknown, ...args: unknown[]) {
      if (!drawing) {
        drawing = true;
        if (inFrame > 0) setTimeout(drawn, 0);
        else ask(() => setTimeout(drawn, 0));
      }
      return original.apply(this, args);
    };
  }
  // A chart drawn in a worker, on an OffscreenCanvas, is stamped there the same way (the
  // worker's first clearRect/stroke of a task, then its next animation frame and the task after
  // it: the frame that shows the draw has been committed), in the same wall clock, and the stamp
  // comes back on a BroadcastChannel. The worker's script is loaded behind a module that installs
  // this before the app's worker code runs.
  function workerClock(): void {
    const w = globalThis as unknown as {
      OffscreenCanvasRenderingContext2D?: {
        prototype: Record<string, (...args: unknown[]) => unknown>;
      };
      requestAnimationFrame(callback: () => void): number;
    };
    const channel = new BroadcastChannel('livestat-bench-draws');
    const proto2d = w.OffscreenCanvasRenderingContext2D?.prototype;
    if (!proto2d) return;
    let pending = false;
    for (const name of ['clearRect', 'stroke']) {
      const original = proto2d[name]!;
      proto2d[name] = function (this: unknown, ...args: unknown[]) {
        if (!pending) {
          pending = true;
          w.requestAnimationFrame(() =>
            setTimeout(() => {
              pending = false;
              channel.postMessage(Date.now());
            }, 0),
          );
        }
        return original.apply(this, args);
      };
    }
  }
  const fromWorkers = new BroadcastChannel('livestat-bench-draws');
  fromWorkers.onmessage = (event: { data: number }) => g.__benchDraws.push(event.data);
  const workers = g as unknown as {
    Worker: new (url: string | URL, options?: { type?: string }) => object;
    location: { href: string };
  };
  const PageWorker = workers.Worker;
  if (PageWorker) {
    const hook = URL.createObjectURL(
      new Blob([`globalThis.__name ??= (f) => f;\n(${workerClock.toString()})();\n`], {
        type: 'text/javascript',
      }),
    );
    workers.Worker = class extends (PageWorker as new (...args: unknown[]) => object) {
      constructor(url: string | URL, options?: { type?: string }) {
        const script = new URL(String(url), workers.location.href).href;
        const source =
          options?.type === 'module'
            ? `import ${JSON.stringify(hook)};\nimport ${JSON.stringify(script)};\n`
            : `importScripts(${JSON.stringify(hook)}, ${JSON.stringify(script)});\n`;
        super(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), options);
      }
    } as typeof PageWorker;
  }
  const proto = g.WebSocket.prototype;
  const own = Object.getOwnPropertyDescriptor(proto, 'onmessage')!;
  Object.defineProperty(proto, 'onmessage', {
    configurable: true,
    enumerable: own.enumerable,
    get(this: object) {
      return own.get!.call(this) as unknown;
    },
    set(this: object, handler: ((event: unknown) => void) | null) {
      own.set!.call(
        this,
        handler &&
          function (this: unknown, event: unknown) {
            const message: PageMessage = { at: Date.now(), start: performance.now(), end: NaN };
            g.__benchMessage = message;
            try {
              handler.call(this, event);
            } finally {
              queueMicrotask(() => (message.end = performance.now()));
            }
          },
      );
    },
  });
}

/**
 * Installs the sample-to-screen watcher: on each store change with a new snapshot, the frame.
 * Two levels deep (the store's state and its maps' entries), not Pinia's default of all: a
 * deep watch walked every snapshot held (~7 KB of JSON each) on every change, a cost of the
 * bench's own that the dashboard does not have.
 */
function installWatcher(): void {
  const metrics = window.livestat.metrics;
  const bench: PageBench = { screen: [], stages: [], last: '' };
  window.__bench = bench;
  metrics.$subscribe(
    () => {
      const snapshot = metrics.selectedSnapshot;
      if (snapshot === undefined || snapshot.timestamp === bench.last) return;
      bench.last = snapshot.timestamp;
      const sent = Date.parse(snapshot.timestamp);
      const seq = snapshot.seq;
      const message = window.__benchMessage;
      // After the frame that renders this change has been painted.
      requestAnimationFrame(() => {
        const frameAt = performance.now();
        setTimeout(() => {
          bench.screen.push([seq, Date.now() - sent]);
          if (message === undefined) return;
          const done = performance.now();
          bench.stages.push({
            seq,
            socket: message.at - sent,
            task: message.end - message.start,
            wait: frameAt - message.end,
            frame: done - frameAt,
            charts: 0,
          });
        }, 0);
      });
    },
    { detached: true, deep: 2 },
  );
}

// ---------------------------------------------------------------------------------------------
// Renderer threads' CPU, from /proc (Chromium runs here, unsandboxed)

/** CPU ms so far of a Chromium's renderer processes' threads, by role. */
interface ThreadCpu {
  /** The page's main thread (`CrRendererMain`): what ThreadTime counts. */
  main: number;
  /** Its dedicated workers (`DedicatedWorker …`): the live charts' worker, if the app has one. */
  worker: number;
  /** Every thread of the renderer processes (compositor, raster, IO, GC helpers, workers). */
  all: number;
}

/**
 * Each thread's run time from `/proc/PID/task/TID/schedstat` (nanoseconds on a CPU, not the
 * 10 ms ticks of `stat`), summed by role over the renderer processes `pids`. A thread that ended
 * between two reads takes its time with it: the worker's threads live as long as the page here.
 */
async function threadCpu(pids: readonly number[]): Promise<ThreadCpu> {
  const cpu: ThreadCpu = { main: 0, worker: 0, all: 0 };
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = await readdir(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const [comm, schedstat] = await Promise.all([
          readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8'),
          readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8'),
        ]);
        const run = Number(schedstat.split(' ')[0]) / 1e6;
        cpu.all += run;
        if (comm.startsWith('CrRendererMain')) cpu.main += run;
        else if (comm.startsWith('DedicatedWorker')) cpu.worker += run;
      } catch {
        // The thread ended while it was read.
      }
    }
  }
  return cpu;
}

// ---------------------------------------------------------------------------------------------
// Machine

function machine() {
  const cpus = os.cpus();
  let ci = false;
  try {
    execFileSync('pgrep', ['-f', 'bash .ci/run'], { stdio: 'ignore' });
    ci = true;
  } catch {
    // pgrep exits 1 when nothing matches.
  }
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    node: process.version,
    date: new Date().toISOString(),
    ciRunning: ci,
  };
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
const host = machine();
say(`bench/web — ${host.date}`);
say(
  `machine: ${host.os}, ${host.cpus} × ${host.cpuModel}, ${host.memoryGiB} GiB, ` +
    `load ${host.loadavg.join(' ')}, node ${host.node}`,
);
if (host.ciRunning) say('WARNING: a CI run (bash .ci/run) is in progress: figures are under load');

const cleanup: (() => Promise<unknown>)[] = [];
/** Undoes what the run set up, last first; each step once. */
async function runCleanup(): Promise<void> {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
}
const pageErrors: string[] = [];
const result: Record<string, unknown> = { machine: host };

try {
  // 1 ------------------------------------------------------------------------------------------
  say('\n1. Bundle — the dashboard route: index.html entry + static imports, recursively');
  say(
    `   (gzip: node zlib level ${GZIP_LEVEL}; KB = 1024 B; lazy chunks such as the history view excluded)`,
  );
  const printBundles = (app: Bundle, full: Bundle, at = '') => {
    for (const bundle of [full, app]) {
      say(
        `   ${(bundle === app ? `livestat${at} (echarts/core, registered parts)` : `baseline${at} (all of echarts)`).padEnd(at ? 48 : 42)} ` +
          `${String(bundle.files.length).padStart(2)} files  raw ${kb(bundle.raw).padStart(10)}  ` +
          `gzip ${kb(bundle.gzip).padStart(9)}  (${bundle.lazyFiles} lazy JS chunks not counted)`,
      );
      for (const f of bundle.files.sort((a, b) => b.gzip - a.gzip)) {
        say(
          `      ${f.file.padEnd(40)} raw ${kb(f.raw).padStart(10)}  gzip ${kb(f.gzip).padStart(9)}`,
        );
      }
    }
    const ratio = app.gzip / full.gzip;
    say(
      `   gzip ratio livestat${at}/baseline${at} ${ratio.toFixed(2)}× (raw ${(app.raw / full.raw).toFixed(2)}×) — ` +
        `goal ≤ ${GOALS.gzipKb} KB: ${verdict(app.gzip <= GOALS.gzipKb * 1024)}, ` +
        `≤ ${GOALS.ratio}×: ${verdict(ratio <= GOALS.ratio)}`,
    );
    // A worker the route starts is loaded with it, after the page's own JS: counted apart.
    const sum = (files: Bundle['workers'], key: 'raw' | 'gzip') =>
      files.reduce((total, f) => total + f[key], 0);
    for (const bundle of [full, app]) {
      for (const f of bundle.workers) {
        say(
          `   + worker script of ${bundle === app ? 'livestat' : 'baseline'}${at}: ${f.file.padEnd(36)} ` +
            `raw ${kb(f.raw).padStart(10)}  gzip ${kb(f.gzip).padStart(9)}`,
        );
      }
    }
    const withWorkers = (bundle: Bundle) => bundle.gzip + sum(bundle.workers, 'gzip');
    if (app.workers.length + full.workers.length > 0) {
      say(
        `   with the workers' scripts: livestat${at} gzip ${kb(withWorkers(app))}, baseline${at} ` +
          `${kb(withWorkers(full))}, ratio ${(withWorkers(app) / withWorkers(full)).toFixed(2)}×`,
      );
    }
    return {
      gzipLevel: GZIP_LEVEL,
      livestat: { raw: app.raw, gzip: app.gzip, files: app.files, workers: app.workers },
      fullEcharts: { raw: full.raw, gzip: full.gzip, files: full.files, workers: full.workers },
      ratio,
      withWorkers: withWorkers(app) / withWorkers(full),
    };
  };
  const app = await buildBundle('app', false);
  cleanup.push(() => rm(app.dir, { recursive: true, force: true }));
  const full = await buildBundle('full', true);
  cleanup.push(() => rm(full.dir, { recursive: true, force: true }));
  const bundleFigures: Record<string, unknown> = printBundles(app, full);
  if (app.sources) {
    // Characters of minified code; "gzip alone" compresses each package's code by itself.
    const byPackage = new Map<string, string>();
    for (const [source, code] of app.sources) {
      const name = packageOf(source);
      byPackage.set(name, (byPackage.get(name) ?? '') + code);
    }
    say('   livestat route by package (sourcemap; minified characters, gzip of each alone):');
    for (const [name, code] of [...byPackage].sort((a, b) => b[1].length - a[1].length)) {
      const gzip = gzipSync(code, { level: GZIP_LEVEL }).length;
      say(
        `      ${name.padEnd(40)} raw ${kb(code.length).padStart(10)}  gzip ${kb(gzip).padStart(9)}`,
      );
    }
    say('   … and its 30 largest modules:');
    for (const [source, code] of [...app.sources]
      .sort((a, b) => b[1].length - a[1].length)
      .slice(0, 30)) {
      const name = source.replace(/^.*node_modules\//, '').replace(/^(\.\.\/)+/, '');
      say(`      ${kb(code.length).padStart(10)}  ${name}`);
    }
    bundleFigures.modules = Object.fromEntries(
      [...app.sources].map(([source, code]) => [source, code.length]),
    );
  }
  // --compare: the app at the ref, and all of ECharts with it, built alike in this run.
  const refSource = COMPARE ? await checkoutRef(COMPARE) : undefined;
  if (refSource) cleanup.push(refSource.remove);
  let refApp: Bundle | undefined;
  if (COMPARE && refSource) {
    refApp = await buildBundle('ref', false, true, refSource);
    cleanup.push(() => rm(refApp!.dir, { recursive: true, force: true }));
    const refFull = await buildBundle('ref-full', true, true, refSource);
    cleanup.push(() => rm(refFull.dir, { recursive: true, force: true }));
    say(`   at ${COMPARE} (${git(['rev-parse', '--short', COMPARE])}):`);
    const atRef = printBundles(refApp, refFull, ` @${COMPARE}`);
    say(
      `   livestat ÷ ${COMPARE}: gzip ${(app.gzip / refApp.gzip).toFixed(3)}× ` +
        `(${kb(app.gzip - refApp.gzip)}), ratio ${(bundleFigures.ratio as number).toFixed(3)} vs ` +
        `${atRef.ratio.toFixed(3)}`,
    );
    bundleFigures.compare = { ref: COMPARE, ...atRef };
  }
  result.bundle = bundleFigures;
  if (BUNDLE_ONLY) {
    say(`\nwall time ${((performance.now() - started) / 1000).toFixed(0)} s (--bundle-only)`);
    if (values.json) console.log(JSON.stringify(result));
    await runCleanup();
    process.exit(0);
  }

  // The page ------------------------------------------------------------------------------------
  const api = await startTestApiServer();
  cleanup.push(() => api.close());
  const feed = createFeed(HOST, Date.now());
  let historyRequests = 0;
  api.history = (search) => {
    historyRequests += 1;
    return feed.history(search);
  };
  let seq = 1;
  let lastSentMs = Date.now();
  /** When each seq was sent (its timestamp), for the sample-to-screen stages. */
  const sentAt = new Map<number, number>();
  const send = (time: number) => {
    lastSentMs = time;
    sentAt.set(seq, time);
    api.broadcast(feed.snapshot(time, seq++));
  };
  api.setLatest(feed.snapshot(Date.now(), seq++));
  const sample = JSON.stringify(feed.snapshot(Date.now(), 0));
  // The stand-in API has no /api/health; the page's status card asks for it once.
  const apiStarted = Date.now();
  const health = () => ({
    status: 'ok',
    version: 'bench',
    host: HOST,
    uptimeSeconds: Math.round((Date.now() - apiStarted) / 1000),
    database: 'up',
    redis: 'not_configured',
    websocketConnections: api.sockets.filter(({ ws }) => ws.readyState === ws.OPEN).length,
    sampler: { seq: seq - 1, lastSnapshotAt: new Date(lastSentMs).toISOString() },
  });
  // A profile needs the functions' names: the page is then an unminified build of the same app.
  const pageBuild = PROFILE ? await buildBundle('profiled', false, false) : app;
  if (PROFILE) cleanup.push(() => rm(pageBuild.dir, { recursive: true, force: true }));
  // --compare: the same app at another git ref, built alike, measured beside it in this run.
  const builds = [{ label: 'livestat', dir: pageBuild.dir }];
  if (COMPARE && refSource && refApp) {
    const refPage = PROFILE ? await buildBundle('ref-profiled', false, false, refSource) : refApp;
    if (PROFILE) cleanup.push(() => rm(refPage.dir, { recursive: true, force: true }));
    builds.push({ label: COMPARE, dir: refPage.dir });
  }

  /** One page in its own Chromium (its own renderer process), with its DevTools session. */
  const openPage = async (label: string, dir: string) => {
    const web = await startWebServer(dir, api.baseUrl, { '/api/health': health });
    cleanup.push(() => web.close());
    const browser = await launchBrowser();
    cleanup.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // tsx (esbuild keepNames) wraps named functions in `__name(…)`: give the page one.
    await context.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
    await context.addInitScript(installMessageClock);
    const session = JSON.stringify(api.session(Date.now() + 24 * 3_600_000));
    await context.addInitScript(
      (value) => localStorage.setItem('livestat.session', value),
      session,
    );
    const page: Page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${label} pageerror: ${error.message}`));
    page.on('console', (message) => {
      // A failed request is reported with its URL below.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        pageErrors.push(`${label} console: ${message.text()}`);
      }
    });
    page.on('response', (response) => {
      if (response.status() >= 400) {
        pageErrors.push(`${label} HTTP ${response.status()} ${response.url()}`);
      }
    });
    const cdp: CDPSession = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await cdp.send('HeapProfiler.enable');
    const loadStart = performance.now();
    await page.goto(`${web.url}/`);
    await page.waitForFunction(
      () => window.livestat?.metrics.connectionState === 'connected',
      undefined,
      { timeout: 30_000 },
    );
    const windowButton = page.locator(`[data-window="${WINDOW_MINUTES}"]`);
    const clicked = (await windowButton.count()) > 0;
    if (clicked) await windowButton.first().click();
    else {
      await page.evaluate((minutes) => window.livestat.metrics.setWindow(minutes), WINDOW_MINUTES);
    }
    await page.waitForFunction(
      (minutes) => {
        const m = window.livestat.metrics;
        const points = m.series.get('cpu.usagePercent')?.length ?? 0;
        return m.windowMinutes === minutes && !m.backfilling && points >= minutes * 60 - 5;
      },
      WINDOW_MINUTES,
      { timeout: 30_000 },
    );
    const loadMs = performance.now() - loadStart;
    await page.evaluate(installWatcher);
    // The page's renderer process(es), for their threads' CPU (see `threadCpu`).
    const browserCdp = await browser.newBrowserCDPSession();
    const { processInfo } = (await browserCdp.send('SystemInfo.getProcessInfo')) as {
      processInfo: { type: string; id: number }[];
    };
    const renderers = processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
    return { label, browser, page, cdp, clicked, loadMs, renderers };
  };
  const probes: Awaited<ReturnType<typeof openPage>>[] = [];
  for (const { label, dir } of builds) probes.push(await openPage(label, dir));
  const { browser, page, cdp, clicked, loadMs } = probes[0]!;
  const layout = await page.evaluate(() => ({
    panels: document.querySelectorAll('[data-panel]').length,
    charts: document.querySelectorAll('[data-panel] canvas').length,
    canvases: document.querySelectorAll('canvas').length,
    series: window.livestat.metrics.series.size,
    points: window.livestat.metrics.series.get('cpu.usagePercent')?.length ?? 0,
  }));
  const chromium = browser.version();
  say(
    `\npage: Chromium ${chromium} (${CHROME_PATH}, headless), 1280×900, production build; ` +
      `window ${WINDOW_MINUTES} min via ${clicked ? `[data-window="${WINDOW_MINUTES}"]` : 'setWindow()'}, ` +
      `backfilled in ${(loadMs / 1000).toFixed(1)} s (${historyRequests} history requests)`,
  );
  say(
    `      ${layout.panels} panels, ${layout.charts} panel canvases (${layout.canvases} canvases), ` +
      `${layout.series} series held, ${layout.points} points in cpu.usagePercent; ` +
      `snapshot: ${CORES} cores, 4 interfaces, 3 disks, ${sample.length} B of JSON`,
  );
  if (COMPARE) {
    say(
      `      beside it, in a second Chromium fed the same snapshots at the same moments: the app ` +
        `at ${COMPARE} (${git(['rev-parse', '--short', COMPARE])})`,
    );
  }
  result.page = { chromium, windowByButton: clicked, loadMs, historyRequests, ...layout };

  // Chromium's main-thread counters, cumulative seconds: TaskDuration is the wall time of its
  // tasks (what the goal is about; it grows when the machine preempts the thread), ThreadTime
  // its CPU time, and the rest what the tasks spent on script, style, layout and on DevTools
  // commands (this bench's own getMetrics calls, a fraction of a millisecond each).
  const COUNTERS = [
    'TaskDuration',
    'ThreadTime',
    'ScriptDuration',
    'RecalcStyleDuration',
    'LayoutDuration',
    'DevToolsCommandDuration',
  ] as const;
  type Counter = (typeof COUNTERS)[number];
  // From /proc, per period: the page's dedicated workers' CPU (the live charts' worker, where
  // the app draws its charts there), and every renderer thread's (main, worker, compositor,
  // raster…): what the page costs the machine whichever thread does the work.
  const THREADS = ['WorkerCPU', 'RendererCPU'] as const;
  type Spent = Record<Counter | (typeof THREADS)[number], number[]>;
  const counters = async (session: CDPSession) => {
    const { metrics } = await session.send('Performance.getMetrics');
    const byName = new Map(metrics.map((m) => [m.name, m.value * 1000]));
    return Object.fromEntries(
      COUNTERS.map((name) => [name, byName.get(name) ?? Number.NaN]),
    ) as Record<Counter, number>;
  };
  /** Each page's counters' ms in each of `count` periods of `periodMs`; `tick` at each start. */
  const periods = async (count: number, periodMs: number, tick: (k: number) => void) => {
    const spent: Spent[] = probes.map(
      () =>
        Object.fromEntries(
          [...COUNTERS, ...THREADS].map((name) => [name, [] as number[]]),
        ) as Spent,
    );
    const read = () =>
      Promise.all(
        probes.map(async (probe) => {
          const [metrics, threads] = await Promise.all([
            counters(probe.cdp),
            threadCpu(probe.renderers),
          ]);
          return { ...metrics, WorkerCPU: threads.worker, RendererCPU: threads.all };
        }),
      );
    const t0 = performance.now();
    let previous = await read();
    for (let k = 0; k < count; k++) {
      tick(k);
      await sleep(t0 + (k + 1) * periodMs - performance.now());
      const now = await read();
      probes.forEach((_, i) => {
        for (const name of [...COUNTERS, ...THREADS]) {
          spent[i]![name].push(now[i]![name] - previous[i]![name]);
        }
      });
      previous = now;
    }
    return spent;
  };
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };

  // 2 and 4 ------------------------------------------------------------------------------------
  say(
    `\n2. Main-thread time per 1 Hz update (CDP TaskDuration per second between broadcasts), ` +
      `${WARMUP} s warm-up, then ${UPDATES} s idle, then ${UPDATES} updates`,
  );
  await periods(WARMUP, 1000, () => send(Date.now()));
  const idleSpent = await periods(UPDATES, 1000, () => undefined);
  const firstMeasured = seq;
  if (PROFILE) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  if (TRACE) {
    await browser.startTracing(page, {
      categories: [
        'devtools.timeline',
        'disabled-by-default-devtools.timeline',
        'blink',
        'cc',
        'gpu',
        'v8.execute',
        'toplevel',
      ],
    });
  }
  const updateSpent = await periods(UPDATES, 1000, () => send(Date.now()));
  await sleep(500);
  if (PROFILE) {
    const { profile } = await cdp.send('Profiler.stop');
    await writeFile(PROFILE, JSON.stringify(profile));
    say(
      `\n   CPU profile of the ${UPDATES} updates: ${PROFILE} (unminified build); top self time:`,
    );
    for (const line of topSelfTime(profile, 25)) say(`     ${line}`);
  }
  if (TRACE) {
    const buffer = await browser.stopTracing();
    await writeFile(TRACE, buffer);
    const { traceEvents } = JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] };
    say(`\n   Trace of the ${UPDATES} updates: ${TRACE}; main thread self time per second:`);
    for (const line of traceSelfTime(traceEvents, UPDATES, 30)) say(`     ${line}`);
  }
  const row = (label: string, s: Summary) =>
    say(
      `   ${label.padEnd(44)} p50 ${ms(s.p50).padStart(9)}  p95 ${ms(s.p95).padStart(9)}  ` +
        `max ${ms(s.max).padStart(9)}  mean ${ms(s.mean).padStart(9)}  (n=${s.n})`,
    );
  const mainThread: Record<string, unknown> = {};
  probes.forEach((probe, i) => {
    const idle = summarize(idleSpent[i]!.TaskDuration);
    const updates = summarize(updateSpent[i]!.TaskDuration);
    if (probes.length > 1) say(`  ${probe.label}:`);
    row('baseline: connected, nothing sent', idle);
    row(`${probe.label}: one snapshot a second`, updates);
    say(
      `   above the idle floor (its p50 taken off): p50 ${ms(updates.p50 - idle.p50)}, ` +
        `p95 ${ms(updates.p95 - idle.p50)} — goal p95 ≤ ${GOALS.updateP95Ms} ms: ` +
        `${verdict(updates.p95 <= GOALS.updateP95Ms)}`,
    );
    say(
      '   the same seconds by counter (TaskDuration above is wall time; ThreadTime is CPU time):',
    );
    for (const name of [...COUNTERS.slice(1), ...THREADS]) {
      row(`baseline ${name}`, summarize(idleSpent[i]![name]));
      row(`${probe.label} ${name}`, summarize(updateSpent[i]![name]));
    }
    mainThread[probe.label] = {
      idle: Object.fromEntries(
        [...COUNTERS, ...THREADS].map((name) => [name, summarize(idleSpent[i]![name])]),
      ),
      updates: Object.fromEntries(
        [...COUNTERS, ...THREADS].map((name) => [name, summarize(updateSpent[i]![name])]),
      ),
    };
  });
  if (probes.length > 1) {
    say(`\n   side by side, per update (p50 / p95; ratio = livestat ÷ ${COMPARE}):`);
    for (const name of [
      'TaskDuration',
      'ThreadTime',
      'ScriptDuration',
      'LayoutDuration',
      'WorkerCPU',
      'RendererCPU',
    ] as const) {
      const [a, b] = [summarize(updateSpent[0]![name]), summarize(updateSpent[1]![name])];
      say(
        `   ${name.padEnd(16)} livestat ${ms(a.p50)} / ${ms(a.p95)}   ${COMPARE} ${ms(b.p50)} / ` +
          `${ms(b.p95)}   ratio p50 ${(a.p50 / b.p50).toFixed(2)}×, p95 ${(a.p95 / b.p95).toFixed(2)}×`,
      );
    }
  }
  result.mainThread = probes.length > 1 ? mainThread : mainThread.livestat;

  // What each page holds after the updates: its renderer processes' proportional set size
  // (a worker's V8 heap and ECharts' canvases included), and the page's own JS heap (its main
  // thread's isolate; a worker's is not in it). And when its first chart frame was drawn, from
  // the navigation's start: a chart worker has to load and start before it draws.
  say('\n   memory after the updates, and the first chart frame:');
  const memory: Record<string, unknown> = {};
  for (const probe of probes) {
    let pss = 0;
    for (const pid of probe.renderers) {
      try {
        const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
        pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
      } catch {
        // The process ended.
      }
    }
    const { usedSize } = await probe.cdp.send('Runtime.getHeapUsage');
    const firstDraw = await probe.page.evaluate(
      () => Math.min(...window.__benchDraws) - performance.timeOrigin,
    );
    say(
      `   ${probe.label.padEnd(10)} renderer PSS ${mb(pss)}, page JS heap ${mb(usedSize)} ` +
        `(no GC first); first chart frame ${Math.round(firstDraw)} ms after navigation`,
    );
    memory[probe.label] = { pss, heap: usedSize, firstDraw };
  }
  result.memory = memory;

  say(`\n4. Sample-to-screen latency on loopback, the ${UPDATES} measured updates`);
  const latencyRow = (label: string, s: Summary) =>
    say(
      `   ${label.padEnd(52)} p50 ${String(Math.round(s.p50)).padStart(4)} ms  ` +
        `p99 ${String(Math.round(s.p99)).padStart(4)} ms  max ${String(Math.round(s.max)).padStart(4)} ms  (n=${s.n})`,
    );
  const latency: Record<string, unknown> = {};
  let screen: Summary | undefined;
  for (const probe of probes) {
    const seen = await probe.page.evaluate(() => ({
      screen: window.__bench.screen,
      stages: window.__bench.stages,
      draws: window.__benchDraws,
      store: [...window.livestat.metrics.latencies],
    }));
    const onScreen = summarize(seen.screen.filter(([s]) => s >= firstMeasured).map(([, v]) => v));
    const store = summarize(seen.store.slice(-UPDATES));
    screen ??= onScreen;
    const prefix = probes.length > 1 ? `${probe.label}: ` : '';
    latencyRow(`${prefix}store's own latencies (timestamp → received)`, store);
    latencyRow(`${prefix}timestamp → frame after render (rAF + setTimeout 0)`, onScreen);
    // Where it went, stage by stage (see `Stages`), and the slowest samples whole.
    const total = (s: Stages) => s.socket + s.task + s.wait + s.frame;
    const stages = seen.stages.filter((s) => s.seq >= firstMeasured);
    for (const [i, s] of stages.entries()) {
      const shown = total(s);
      const from = sentAt.get(s.seq)!;
      const until = sentAt.get(s.seq + 1) ?? from + 1000;
      const last = Math.max(
        0,
        ...seen.draws.filter((t) => t > from && t < until).map((t) => t - from),
      );
      stages[i] = { ...s, charts: Math.max(shown, last) };
    }
    const withCharts = summarize(stages.map((s) => s.charts));
    latencyRow(`${prefix}timestamp → charts drawn too (last canvas frame)`, withCharts);
    // The charts' lag behind the figures, sample by sample: the socket and the message's task,
    // which both figures share, left out.
    const chartsAfter = summarize(stages.map((s) => s.charts - total(s)));
    latencyRow(`${prefix}  of which after the figures' frame`, chartsAfter);
    say(
      `   ${prefix}  slowest charts: ${[...stages]
        .sort((a, b) => b.charts - a.charts)
        .slice(0, 5)
        .map(
          (s) =>
            `${Math.round(s.charts)} (figures ${Math.round(total(s))}, #${s.seq - firstMeasured + 1})`,
        )
        .join(', ')} ms`,
    );
    const byStage: Record<string, Summary> = {};
    for (const [name, label] of [
      ['socket', 'timestamp → message handler starts'],
      ['task', 'the handler and its microtasks'],
      ['wait', "its end → the frame's rAF callbacks"],
      ['frame', 'the frame: rAF callbacks to the task after'],
    ] as const) {
      byStage[name] = summarize(stages.map((s) => s[name]));
      latencyRow(`${prefix}  ${label}`, byStage[name]);
    }
    const slowest = [...stages].sort((a, b) => total(b) - total(a)).slice(0, 3);
    say(
      `   ${prefix}slowest: ${slowest
        .map(
          (s) =>
            `${Math.round(total(s))} = ${[s.socket, s.task, s.wait, s.frame].map((v) => v.toFixed(1)).join(' + ')}`,
        )
        .join(';  ')} ms (socket + task + wait + frame)`,
    );
    latency[probe.label] = { store, screen: onScreen, withCharts, chartsAfter, stages: byStage };
  }
  say(
    `   goal p99 ≤ ${GOALS.latencyP99Ms} ms: ${verdict(screen!.p99 <= GOALS.latencyP99Ms)} ` +
      `(with ${UPDATES} samples p99 is the largest but none)`,
  );
  result.latency = probes.length > 1 ? latency : latency.livestat;

  // 3 ------------------------------------------------------------------------------------------
  if (SKIP_HEAP) {
    say('\n3. Heap: skipped (--skip-heap)');
  } else {
    const sentSoFar = WARMUP + UPDATES;
    const early = await heap();
    const total = Math.round(MINUTES * 60);
    const remaining = Math.max(0, total - sentSoFar);
    say(
      `\n3. JS heap (HeapProfiler.collectGarbage, Runtime.getHeapUsage usedSize), ` +
        `${remaining} more updates at ${SPEED}× (${SPEED} snapshots a wall second, ` +
        `timestamps 1 s apart)${SPEED === 1 ? ' — real time' : ''}`,
    );
    // Sped up, the timestamps run ahead of the clock: they go on from the last one sent.
    const base = lastSentMs;
    const perWallSecond = await periods(Math.ceil(remaining / SPEED), 1000, (k) => {
      for (let i = 0; i < SPEED; i++) {
        const n = k * SPEED + i;
        if (n >= remaining) return;
        if (i === 0) send(base + (n + 1) * 1000);
        else setTimeout(() => send(base + (n + 1) * 1000), (i * 1000) / SPEED);
      }
    });
    await sleep(1000);
    const late = await heap();
    const growth = late - early;
    const busyShare = summarize(perWallSecond[0]!.TaskDuration.map((b) => b / 10)).mean;
    say(`   after ${sentSoFar} updates (${(sentSoFar / 60).toFixed(1)} min)   ${mb(early)}`);
    say(
      `   after ${total} updates (${(total / 60).toFixed(1)} min)  ${mb(late)}   growth ${mb(growth)} — ` +
        `goal ≤ ${GOALS.heapGrowthMb} MB: ${verdict(growth <= GOALS.heapGrowthMb * 1024 * 1024)}`,
    );
    say(`   main thread busy ${busyShare.toFixed(1)} % of wall time while fed ${SPEED}×`);
    result.heap = { speed: SPEED, minutes: MINUTES, early, late, growth, sentSoFar, total };
  }

  say(
    `\npage errors: ${pageErrors.length}${pageErrors.length ? `\n   ${pageErrors.slice(0, 10).join('\n   ')}` : ''}`,
  );
  say(`wall time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  result.pageErrors = pageErrors;
  if (values.json) console.log(JSON.stringify(result));
} finally {
  await runCleanup();
}
