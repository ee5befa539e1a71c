import { setFlagsFromString } from 'node:v8';
import type { Config } from './config.js';

/**
 * V8's flags for the process's footprint, by where its database lives.
 *
 * With the embedded PGlite, V8 is sized for a small footprint rather than peak speed
 * (`--optimize-for-size`: smaller young generations and heap growth steps), the budget being
 * the whole database in this process. It must be set before the PGlite thread starts: a thread's
 * heap takes its sizes when it is created (the main thread's own only takes the growth steps).
 * bench/RESULTS.md, bench/footprint: a fresh start's peak RSS 186 -> 171 MB, PSS -2 to -4 MB.
 *
 * With `DATABASE_URL` the process holds no database and its memory has room (~0.8× Netdata's),
 * while the flag's tight old-generation limit brings a full mark-compact every ~30 s instead of
 * every ~100–130 s: 11–15 % of the process's CPU for 5–8 MB (bench/RESULTS.md, branch cpu4).
 * There it is left off. `--optimize-for-size` on node's command line would do the same;
 * NODE_OPTIONS refuses it.
 */
export function memoryFlags(config: Pick<Config, 'databaseUrl'>): string[] {
  return config.databaseUrl ? [] : ['--optimize-for-size'];
}

/** Sets {@link memoryFlags}; main.ts calls it right after reading the configuration. */
export function applyMemoryFlags(config: Pick<Config, 'databaseUrl'>): void {
  for (const flag of memoryFlags(config)) setFlagsFromString(flag);
}
