// typescript-eslint, type-aware and strict (`npm run lint`, part of `npm test`). Formatting is
// Prettier's (`npm run format:check`), so no stylistic rule here fights it. `npm run lint` caches
// per file content (node_modules/.cache/eslint): a file left unchanged keeps its result even when a
// type it imports changed, so run `npx eslint .` after changing exported types; CI starts cold.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Files over 400 lines of code (blank lines and comments aside), each with its reason. A file
// leaves this list when it is split; a new entry needs a reason a reviewer accepts.
const LONG_FILES_WITH_REASON = {
  'pipeline/src/bundle/read.ts': 'one reader for the three bundle forms (tar, split parts, folder) and the entry sinks that confine each entry; next seam: the sinks',
  'pipeline/src/bundle/write.ts': 'planning and writing a bundle share the entry table; next seam: planning',
  'pipeline/src/render/compose.ts': 'block composition into build and runtime stages; next seam: the runtime stage',
  'pipeline/src/sign/dev-signer.ts': 'the development CA, timestamp authority and log entry together, so the dev trust root cannot drift from what it signs',
  'pipeline/src/site/store.ts': "import's crash-safe steps in one file, so the order of writes, syncs and renames reads in one place",
  'pipeline/src/smoke/evaluate.ts': 'ping-pong, GPU and command evaluation; next seam: ping-pong',
  'pipeline/src/smoke/run.ts': 'the three launchers (direct, Slurm, SIF) and their shared report; next seam: the Slurm launcher',
};

export default defineConfig(
  {
    ignores: ['actions/*/dist/**', 'dist/**', 'node_modules/**', 'coverage/**', 'site/**', '.brickyard/**', 'out/**', 'test-artifacts/**', 'test/fixtures/**', 'test/golden/**'],
  },
  eslint.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.cjs', 'bin/*.js', 'scripts/*.mjs', 'pipeline/src/web/assets/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Numbers and booleans in messages are fine; objects printed as [object Object] are not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // Records (index signatures) are read with brackets on purpose: `r['key']` says "may be absent".
      '@typescript-eslint/dot-notation': ['error', { allowIndexSignaturePropertyAccess: true }],
      // `_`-prefixed names are deliberately unused (callback positions).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `onStage: (s) => say(s)` hands a void callback on; braces around every such arrow add nothing.
      // `return voidCall()` and `const x = voidCall()` are still refused.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `s || fallback` on strings treats '' as absent on purpose (an empty USER, an empty last path segment).
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
    },
  },
  {
    // Production code, not tests: a test's setup and its table of cases read best in one place.
    files: ['pipeline/src/**/*.ts', 'actions/*/src/**/*.ts', 'bin/**/*.js', 'scripts/**/*.ts', 'scripts/**/*.mjs'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: Object.keys(LONG_FILES_WITH_REASON),
    rules: { 'max-lines': 'off' },
  },
  {
    // Tests: a `!` that is wrong throws inside the test and fails it, which is the check we want;
    // narrowing every fixture lookup first would only add noise. `() => {}` no-op callbacks are the
    // idiom of the test runner. Reports parsed with JSON.parse are read through `expect`: a wrong
    // path reads undefined and fails the assertion, so member access, assignment and calls on those
    // values are allowed; passing or returning `any` into typed code is still refused.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // Plain JavaScript (bin/, these configs): no type information to check against.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', module: 'writable', require: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The catalogue site's one script runs in the browser.
    files: ['pipeline/src/web/assets/*.js'],
    languageOptions: {
      globals: { document: 'readonly', window: 'readonly', navigator: 'readonly', localStorage: 'readonly', setTimeout: 'readonly', IntersectionObserver: 'readonly' },
    },
  },
);
