import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@livestat/source'] },
  ssr: { resolve: { conditions: ['@livestat/source'], externalConditions: ['@livestat/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The fault suites (minutes of real processes and outages) run apart: npm run test:faults.
    exclude: [...configDefaults.exclude, '**/*.faults.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
