import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:faults`: the API as real processes through SIGTERM, SIGKILL, a database
// outage, a Redis restart and a reconnect storm. Each scenario takes a minute or more and
// measures the process, so files run one at a time, never beside each other.
export default defineConfig({
  resolve: base.resolve,
  ssr: base.ssr,
  test: {
    include: ['test/faults/**/*.faults.test.ts'],
    exclude: [...configDefaults.exclude],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
