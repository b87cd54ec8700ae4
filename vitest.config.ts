import { availableParallelism } from 'node:os';
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
    // One $TMPDIR for the run, removed at its end; after every file, the folders it made.
    globalSetup: ['test/helpers/global-tmp.ts'],
    setupFiles: ['test/helpers/per-file.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // $TMPDIR in memory where there is room (test/helpers/global-tmp.ts)
          env: { BRICKYARD_TEST_PROJECT: 'unit' },
          include: ['test/**/*.test.ts'],
          exclude: E2E,
          sequence: { groupOrder: 0 },
          // A worker keeps its modules from file to file: sigstore, Ajv's compiled schemas, the
          // parsed catalogue and the TypeScript transforms are loaded once per worker, not once per
          // file (most of the project's CPU time when every file started afresh). The files leave
          // no global state behind them: $TMPDIR is restored where changed, shared fixtures make
          // what they keep once (test/site/site-fixture.ts) and clean up per file through the
          // setup file (test/helpers/per-file.ts); no file mocks modules. So a helper imported by
          // several files registers no hooks and changes no process state when it loads (it loads
          // once per worker): atEndOfEveryFile (test/helpers/fixture.ts) is the per-file hook.
          isolate: false,
          // A worker per core, also on two cores (vitest's default leaves one idle): many files
          // wait on child processes (git, bash, jq, tar, mount) and the disk meanwhile.
          maxWorkers: Math.max(2, availableParallelism()),
        },
      },
      {
        extends: true,
        // One file at a time: the e2e files share the host's Slurm ports, the registry port and the containers storage.
        test: { name: 'e2e', include: E2E, sequence: { groupOrder: 1 }, fileParallelism: false },
      },
    ],
  },
});
