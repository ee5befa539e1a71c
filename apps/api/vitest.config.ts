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
    // Set-up hooks start real databases: a fresh PGlite (initdb and every migration in
    // WebAssembly) takes 2-3 s idle but over 10 s, vitest's default, on a busy 2-core machine.
    hookTimeout: 60_000,
  },
});
