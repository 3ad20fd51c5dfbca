import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// The examples import the package by name, as a user's program does; tests load it from source.
const packageAlias = [{ find: /^token-rotator$/, replacement: resolve(__dirname, 'index.ts') }];

// Six projects: unit (mocks only, fast), integration (moto + loopback issuers), e2e (the real
// pulumi CLI), reliability (soak in simulated time, concurrency, bad input, leaks), consumer (the
// packed package as a user installs it, under the real CLI and language host), plugin (the
// provider plugin's archive installed as a user installs it, YAML and Python programs under the
// real CLI and their language hosts).
// `npm test` runs all six; each prints its own name in the report.
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
          globalSetup: ['test/support/global-setup.ts', 'test/support/build-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // Pulumi stacks are heavy on 2 cores; run e2e files one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        test: {
          name: 'reliability',
          include: ['test/reliability/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts', 'test/support/build-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 300_000,
          // A day of simulated rotation and a real `pulumi up`: one file at a time on 2 cores.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        test: {
          // The packed package installed as README tells a user, under the pulumi CLI and the
          // Node.js language host, on the oldest and newest Node the package supports.
          name: 'consumer',
          include: ['test/consumer/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts', 'test/support/build-setup.ts', 'test/consumer/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        test: {
          name: 'plugin',
          include: ['test/plugin/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts', 'test/support/build-setup.ts', 'test/plugin/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          // One pulumi program at a time on 2 cores.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
