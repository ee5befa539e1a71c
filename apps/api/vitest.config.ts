import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@livestat/source'] },
  ssr: { resolve: { conditions: ['@livestat/source'], externalConditions: ['@livestat/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
