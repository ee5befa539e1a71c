import { setFlagsFromString } from 'node:v8';

// V8 sized for a small footprint rather than peak speed: smaller young generations and heap
// growth steps, the difference a monitor's 1 Hz work does not feel. Set by main.ts's first
// import, before the PGlite thread starts: a thread's heap takes its sizes when it is created
// (the main thread's own only takes the growth steps). `--optimize-for-size` on node's command
// line would do the same; NODE_OPTIONS refuses it. bench/RESULTS.md, bench/footprint: a fresh
// start's peak RSS 186 -> 171 MB, PSS -2 to -4 MB, CPU unchanged.
setFlagsFromString('--optimize-for-size');
