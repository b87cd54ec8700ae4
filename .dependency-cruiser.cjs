/**
 * Import rules, checked by `npm run lint:deps` (part of `npm run check`, so of `npm test`).
 *
 * Layers, lowest first: util/ < model/ < catalog/ < the engine areas (check, render, build, sign,
 * bundle, site, ...) < cli/. A module imports only its own layer or lower; the CLI and the
 * GitHub actions are thin shells over the library, and nothing but bin/ (and tests) imports cli/.
 * Type-only imports count: a cycle through types is still a cycle for a reader.
 *
 * No exceptions: there is no known-violations baseline; a new violation fails `npm test`.
 */
const SRC = '^pipeline/src/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'util-is-a-leaf',
      comment: 'util/ holds shared helpers and imports no other area.',
      severity: 'error',
      from: { path: `${SRC}util/` },
      to: { path: SRC, pathNot: `${SRC}util/` },
    },
    {
      name: 'model-imports-only-util',
      comment: 'model/ (parameters, capabilities, templates) sits below the catalogue: it imports only util/.',
      severity: 'error',
      from: { path: `${SRC}model/` },
      to: { path: SRC, pathNot: `${SRC}(model|util)/` },
    },
    {
      name: 'catalog-imports-only-model-and-util',
      comment: 'catalog/ (loading, schemas, semantics) sits below every engine area.',
      severity: 'error',
      from: { path: `${SRC}catalog/` },
      to: { path: SRC, pathNot: `${SRC}(catalog|model|util)/` },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ is a shell over the library (parse, call, print): only bin/, the scripts that package the CLI and tests import it.',
      severity: 'error',
      from: { pathNot: `^(bin/|test/|scripts/build-|${SRC}cli/)` }, // the CLI's own build scripts package it
      to: { path: `${SRC}cli/` },
    },
    {
      name: 'library-imports-no-shell',
      comment: 'The library does not reach up into the actions, bin/, scripts/ or tests.',
      severity: 'error',
      from: { path: SRC },
      to: { path: '^(actions|bin|scripts|test)/' },
    },
    {
      name: 'nothing-imports-tests',
      comment: 'Test helpers stay in test/.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
