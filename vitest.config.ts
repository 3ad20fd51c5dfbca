import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// The examples import the package by name, as a user's program does; tests load it from source.
const packageAlias = [{ find: /^token-rotator$/, replacement: resolve(__dirname, 'index.ts') }];

// Three projects: unit (mocks only, fast), integration (moto + loopback issuers), e2e (the real
// pulumi CLI). `npm test` runs all three; each prints its own name in the report.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        resolve: { alias: packageAlias },
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // Pulumi stacks are heavy on 2 cores; run e2e files one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
