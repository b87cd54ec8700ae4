/**
 * `npm run build`: the CLI bundled with esbuild, so that it starts at once.
 *  - dist/cli/: ESM split at each dynamic import(), what bin/brickyard.js runs. A command loads
 *    only its own chunks; `--version` and `--help` load commander and the command table.
 *    dist/cli/inputs.json lists the sources it was built from: bin/brickyard.js runs the
 *    sources instead when any is newer.
 *  - with --sea: dist/sea/brickyard.cjs, one CommonJS file for the single executable
 *    (scripts/build-sea.ts), the site commands only.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { build, type Metafile, type Plugin } from 'esbuild';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Modules find engine files (scripts/, web assets) next to themselves via import.meta.url.
 * In a bundle that URL is the chunk's: point it back at the source file's place in the checkout.
 * In the CommonJS single executable there is no checkout: sea.ts names the folder it unpacks to.
 */
function sourceUrls(kind: 'esm' | 'sea', outdir: string): Plugin {
  return {
    name: 'source-urls',
    setup(b) {
      b.onLoad({ filter: /pipeline[\\/]src[\\/].*\.ts$/ }, async (args) => {
        const { readFile } = await import('node:fs/promises');
        let contents = await readFile(args.path, 'utf8');
        if (contents.includes('import.meta.url')) {
          const rel = relative(kind === 'esm' ? outdir : repo, args.path)
            .split('\\')
            .join('/');
          const url =
            kind === 'esm'
              ? `new URL(${JSON.stringify(rel)}, import.meta.url).href`
              : `require('node:url').pathToFileURL(require('node:path').join(globalThis.__brickyardEngineRoot ?? process.cwd(), ${JSON.stringify(rel)})).href`;
          contents = contents.replaceAll('import.meta.url', url);
        }
        // A module-level `= await import('x')` (dev-x509.ts loads @peculiar/x509 after its
        // polyfill so) becomes the require() esbuild bundles, in place: CommonJS has no top-level
        // await, and esbuild's import() of a CommonJS package gives only its default export.
        contents = contents.replace(/^((?:export )?const [^\n]*?= )await import\(('[^']+')\)/gm, '$1require($2)');
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * The site's JSON-Schema validators precompiled (pipeline/src/util/site-validators.ts compiles
 * them at run time from the sources): the module is replaced by Ajv's standalone code for the
 * same schemas and options, each validator its own virtual module.
 */
const VALIDATED_SCHEMAS = [
  'pipeline/schemas/build-record.schema.json',
  'pipeline/schemas/manifest.schema.json',
  'pipeline/schemas/site-policy.schema.json',
  'pipeline/schemas/state/build-record.schema.json',
  'pipeline/schemas/state/bundle-serials.schema.json',
  'pipeline/schemas/state/lock.schema.json',
  'pipeline/schemas/state/oci.schema.json',
  'pipeline/schemas/state/smoke-report.schema.json',
  'pipeline/schemas/state/tune-statement.schema.json',
];

/** The modules replaced: each exports a table of schemas and one function that hands out their validators. */
const VALIDATOR_MODULES: { filter: RegExp; module: string; table: string; fn: string }[] = [
  { filter: /pipeline[\\/]src[\\/]util[\\/]site-validators\.ts$/, module: '../pipeline/src/util/site-validators.ts', table: 'SITE_SCHEMAS', fn: 'siteValidator' },
  { filter: /pipeline[\\/]src[\\/]state[\\/]validators\.ts$/, module: '../pipeline/src/state/validators.ts', table: 'STATE_SCHEMAS', fn: 'stateValidator' },
];

type SchemaTable = Record<string, { ajv: (extra: object) => Ajv2020; schema: object }>;

async function schemaTable(i: number): Promise<SchemaTable> {
  const m = VALIDATOR_MODULES[i];
  if (!m) throw new Error(`no validator module ${i}`);
  return ((await import(m.module)) as Record<string, SchemaTable>)[m.table] ?? {};
}

function precompiledValidators(): Plugin {
  return {
    name: 'precompiled-validators',
    setup(b) {
      for (const [i, m] of VALIDATOR_MODULES.entries()) {
        b.onLoad({ filter: m.filter }, async () => {
          const names = Object.keys(await schemaTable(i));
          return {
            contents: [
              ...names.map((n) => `import ${n} from 'brickyard-validator:${i}/${n}';`),
              `const validators = { ${names.join(', ')} };`,
              `export function ${m.fn}(name) { return validators[name]; }`,
            ].join('\n'),
            loader: 'js',
            resolveDir: repo,
          };
        });
      }
      b.onResolve({ filter: /^brickyard-validator:/ }, (args) => ({ path: args.path.slice('brickyard-validator:'.length), namespace: 'brickyard-validator' }));
      b.onLoad({ filter: /.*/, namespace: 'brickyard-validator' }, async (args) => {
        const [i = '', name = ''] = args.path.split('/');
        const [table, standalone] = await Promise.all([schemaTable(Number(i)), import('ajv/dist/standalone/index.js')]);
        const entry = table[name];
        if (!entry) throw new Error(`no schema ${args.path}`);
        const ajv = entry.ajv({ code: { source: true, esm: true } });
        // A CommonJS module: its function is the default export (Node) or that export's default (types).
        const mod = standalone.default as unknown as { default?: unknown };
        const standaloneCode = (typeof mod === 'function' ? mod : mod.default) as (a: typeof ajv, v: ReturnType<typeof ajv.compile>) => string;
        return { contents: standaloneCode(ajv, ajv.compile(entry.schema)), loader: 'js', resolveDir: repo };
      });
    },
  };
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
} as const;

/** The sources (not dependencies) a build read, relative to the repository, plus the lock file. */
function localInputs(meta: Metafile): string[] {
  // Virtual modules (the precompiled validators) stand for the schemas they were made from.
  const local = Object.keys(meta.inputs).filter((f) => !f.includes('node_modules') && !f.startsWith('..') && !f.startsWith('brickyard-validator:'));
  return [...new Set([...local, ...VALIDATED_SCHEMAS, 'package-lock.json'])].sort();
}

export async function buildCli(outdir = join(repo, 'dist', 'cli')): Promise<string[]> {
  rmSync(outdir, { recursive: true, force: true });
  const r = await build({
    ...common,
    absWorkingDir: repo,
    entryPoints: { entry: join(repo, 'pipeline', 'src', 'cli', 'entry.ts') },
    outdir,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // Some CommonJS dependencies call require(); give the ESM chunks one.
    banner: { js: "import { createRequire as __brickyardCreateRequire } from 'node:module'; const require = __brickyardCreateRequire(import.meta.url);" },
    plugins: [precompiledValidators(), sourceUrls('esm', outdir)],
  });
  const inputs = localInputs(r.metafile);
  writeFileSync(join(outdir, 'inputs.json'), JSON.stringify({ inputs }, null, 1) + '\n');
  return inputs;
}

export async function buildSeaScript(outfile = join(repo, 'dist', 'sea', 'brickyard.cjs')): Promise<string> {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    ...common,
    absWorkingDir: repo,
    entryPoints: [join(repo, 'pipeline', 'src', 'cli', 'sea.ts')],
    outfile,
    format: 'cjs',
    // Smaller script, smaller code cache: the executable starts in less memory. keepNames: error
    // classes and functions keep the names messages and instanceof checks rely on.
    minify: true,
    keepNames: true,
    plugins: [precompiledValidators(), sourceUrls('sea', dirname(outfile))],
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const inputs = await buildCli();
  process.stdout.write(`bundled dist/cli from ${inputs.length} sources\n`);
  if (process.argv.includes('--sea')) process.stdout.write(`bundled ${relative(repo, await buildSeaScript())}\n`);
}
