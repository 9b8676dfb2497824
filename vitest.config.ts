import { defineConfig } from 'vitest/config';

const floor = { lines: 90, branches: 90 };

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 400_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['spec/**/*.ts', 'model/**/*.ts', 'impl/**/*.ts', 'properties/**/*.ts', 'cli/**/*.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: {
        'spec/**/*.ts': floor,
        'model/**/*.ts': floor,
        'impl/**/*.ts': floor,
      },
    },
  },
});
