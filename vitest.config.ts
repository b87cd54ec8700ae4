import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit`: no root, no network, no containers, well under a minute
 * (`npm run test:unit`). `e2e`: real builders, Slurm, the registry and Chromium, in files named
 * `*.e2e.test.ts` (real tools) or `*.browser.test.ts` (Chromium). `npm test` runs both, unit
 * first, so that a broken unit fails fast.
 */
const E2E = ['test/**/*.e2e.test.ts', 'test/**/*.browser.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: E2E, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // One file at a time: the e2e files share the host's Slurm ports, the registry port and the containers storage.
        test: { name: 'e2e', include: E2E, sequence: { groupOrder: 1 }, fileParallelism: false },
      },
    ],
  },
});
