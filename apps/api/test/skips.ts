import { appendFileSync } from 'node:fs';

/**
 * Notes a suite that did not run for lack of a service, so `npm test` (scripts/test.mjs) lists
 * it after turbo's summary instead of letting "successful" stand over it.
 */
export function recordSkip(title: string, reason: string): void {
  const log = process.env.LIVESTAT_SKIP_LOG;
  if (log) appendFileSync(log, `@livestat/api: ${title} — ${reason}\n`);
}
