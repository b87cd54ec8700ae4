import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintRulesPage, systemPage } from '../../pipeline/src/docs/generate.ts';
import { LINT_RULES } from '../../pipeline/src/lint/rules.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot } from '../helpers/fixture.ts';

describe('generated docs', () => {
  it('docs/lint-rules.md is up to date and lists every rule', () => {
    const page = lintRulesPage();
    for (const r of LINT_RULES) expect(page).toContain(`## ${r.id}`);
    expect(readFileSync(join(repoRoot, 'docs', 'lint-rules.md'), 'utf8'), 'run npm run docs').toBe(page);
  });

  it('one up-to-date page per system template, with its sources and unverified values', () => {
    const ws = Workspace.open(repoRoot);
    for (const { doc } of ws.catalog.systems.values()) {
      const page = systemPage(doc);
      expect(page).toContain(`# ${doc.name} (\`${doc.id}\`)`);
      expect(readFileSync(join(repoRoot, 'docs', 'systems', `${doc.id}.md`), 'utf8'), `run npm run docs (${doc.id})`).toBe(page);
    }
    expect(systemPage(ws.catalog.systems.get('juwels-booster')!.doc)).toContain('## Unverified values');
  });
});
