/**
 * The docs' shell commands run as written. Every fenced sh/bash/console block of README.md and
 * docs/*.md is split into commands (test/docs/doc-commands.ts) and run in order, one shell per
 * document, as its reader would: in a scratch copy of this checkout (its tracked and untracked
 * files, a git repository on `main` with `origin/main`, node_modules linked). README.md goes first
 * and its quick start runs `npm start` once; the main job's state (`.brickyard/`: the build, the
 * signed bundle, the store, the development policy) then moves from one document's copy to the
 * next, so later documents use it instead of building again. Blocks marked in the Markdown as
 * needing GitHub, a real centre or a GPU, or as illustrative, are counted as skipped with their
 * reason. Each document must have no failing command.
 *
 * Every document runs by default (CI too). What makes that affordable: the build is made once
 * (npm start) and later `build` commands find buildah's layer cache; and the reader's shell has
 * BRICKYARD_SMOKE_TRIALS=1 (docs/build-and-smoke.md), so each smoke (npm start's two and the docs'
 * four `smoke` commands) runs the ping-pong once in the container and once on the host instead of
 * three times each, a third of the time: the docs are checked for commands that run, not for
 * measurements, which test/e2e and test/smoke cover. The commands themselves are as written.
 *
 * Heavy (a build, smoke tests through podman and Slurm, bundles): run it alone, under the e2e
 * lock. Logs, the per-command results with their durations, and a summary with the slowest
 * commands go to test-artifacts/docs/.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readDoc, resultsOf, scriptFor, type CommandResult } from './doc-commands.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(repo, 'test-artifacts', 'docs');
// Short: Slurm's state folder under .brickyard/services/ must stay within 72 characters (socket paths).
const scratch = mkdtempSync(join(tmpdir(), 'bdc-'));

/** README.md first (its quick start makes the state the others use), then docs/*.md by name. */
const documents = [
  'README.md',
  ...readdirSync(join(repo, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .sort()
    .map((n) => `docs/${n}`),
];
/**
 * DOC_TEST_ONLY=docs/recipes.md,docs/blocks.md runs only those (the others are reported as skipped
 * tests); BRICKYARD_DOC_TEST=light, only the documents that build nothing (a minute or two).
 */
const LIGHT = ['docs/blocks.md', 'docs/recipes.md', 'docs/system-templates.md'];
const only =
  process.env['DOC_TEST_ONLY']
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean) ?? (process.env['BRICKYARD_DOC_TEST'] === 'light' ? LIGHT : undefined);

const summary: { document: string; works: number; fails: number; skipped: number; seconds: number; results: CommandResult[] }[] = [];

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${cwd}: ${r.stderr}`);
  return r.stdout;
}

/** A fresh copy of the checkout's files (tracked and untracked, not ignored) as a git repository on main, with origin/main. */
function copyCheckout(to: string): void {
  const files = git(repo, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean);
  for (const f of files) {
    const from = join(repo, f);
    if (f === 'node_modules' || !existsSync(from)) continue; // linked below; or deleted in the working tree
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(from, join(to, f), { verbatimSymlinks: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(to, 'node_modules'));
  const when = git(repo, ['log', '-1', '--format=%cI']).trim();
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'doc test',
    GIT_AUTHOR_EMAIL: 'doc-test@brickyard.invalid',
    GIT_COMMITTER_NAME: 'doc test',
    GIT_COMMITTER_EMAIL: 'doc-test@brickyard.invalid',
    GIT_AUTHOR_DATE: when,
    GIT_COMMITTER_DATE: when,
  };
  git(to, ['init', '-q', '-b', 'main']);
  git(to, ['add', '-A']);
  git(to, ['commit', '-q', '-m', 'doc test copy'], env);
  git(to, ['update-ref', 'refs/remotes/origin/main', 'HEAD']);
}

/** The reader's environment: no test runner variables, no node_modules/.bin on PATH (npx finds it). */
function readerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|NODE_OPTIONS|NODE_ENV|TEST|npm_)/i.test(k)) continue;
    env[k] = v;
  }
  env['PATH'] = (process.env['PATH'] ?? '')
    .split(':')
    .filter((p) => !p.includes('node_modules'))
    .join(':');
  // One ping-pong trial per side: see the header. A value from outside wins.
  env['BRICKYARD_SMOKE_TRIALS'] ??= '1';
  return env;
}

mkdirSync(artifacts, { recursive: true });
let previous: string | undefined;

describe('the shell commands of README.md and docs/*.md', () => {
  afterAll(() => {
    const lines = summary.map(
      (s) =>
        `${s.document.padEnd(26)} works ${String(s.works).padStart(3)}  fails ${String(s.fails).padStart(3)}  skipped ${String(s.skipped).padStart(3)}  ${s.seconds.toFixed(0)} s`,
    );
    const total = summary.reduce((a, s) => ({ works: a.works + s.works, fails: a.fails + s.fails, skipped: a.skipped + s.skipped }), { works: 0, fails: 0, skipped: 0 });
    const seconds = summary.reduce((a, s) => a + s.seconds, 0);
    lines.push(
      `${'total'.padEnd(26)} works ${String(total.works).padStart(3)}  fails ${String(total.fails).padStart(3)}  skipped ${String(total.skipped).padStart(3)}  ${seconds.toFixed(0)} s`,
    );
    const slowest = summary
      .flatMap((s) => s.results.map((r) => ({ where: `${s.document}:${r.line}`, text: (r.text.split('\n')[0] ?? '').replace(/\s+#.*$/, ''), seconds: r.seconds ?? 0 })))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, 8);
    lines.push('', 'slowest commands:', ...slowest.map((c) => `${c.seconds.toFixed(1).padStart(7)} s  ${c.where}  ${c.text}`));
    const skipped = summary.flatMap((s) => s.results.filter((r) => r.outcome === 'skipped').map((r) => `  ${s.document}:${r.line}: ${r.skip}`));
    lines.push('', 'skipped:', ...skipped);
    writeFileSync(join(artifacts, 'summary.txt'), lines.join('\n') + '\n');
    writeFileSync(join(artifacts, 'commands.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(lines.join('\n'));
    // Stop what a document may have left running, then drop the copies.
    spawnSync('bash', [
      '-c',
      `for d in ${scratch}/*/.brickyard/services/*; do [ -d "$d" ] && bash ${repo}/scripts/services/$(basename "$d").sh stop "$d" >/dev/null 2>&1; done; true`,
    ]);
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const [n, doc] of documents.entries()) {
    const blocks = readDoc(join(repo, doc), doc);
    const runnable = blocks.some((b) => b.commands.length > 0);
    it.runIf(runnable && (!only || only.includes(doc)))(
      `${doc}: every runnable command exits 0`,
      () => {
        const copy = join(scratch, String(n).padStart(2, '0'));
        mkdirSync(copy, { recursive: true });
        copyCheckout(copy);
        if (previous && existsSync(join(previous, '.brickyard'))) renameSync(join(previous, '.brickyard'), join(copy, '.brickyard'));
        const { script, commands } = scriptFor(blocks);
        const scriptPath = join(scratch, `${doc.replace(/\W+/g, '_')}.sh`);
        writeFileSync(scriptPath, script);
        const logPath = join(artifacts, `${doc.replace(/\W+/g, '_')}.log`);
        const reportPath = join(scratch, `${doc.replace(/\W+/g, '_')}.codes`);
        const log = openSync(logPath, 'w');
        const report = openSync(reportPath, 'w');
        const t0 = performance.now();
        try {
          spawnSync('bash', [scriptPath], { cwd: copy, env: readerEnv(), stdio: ['ignore', log, log, report], timeout: 40 * 60_000, killSignal: 'SIGKILL' });
        } finally {
          closeSync(log);
          closeSync(report);
        }
        const seconds = (performance.now() - t0) / 1000;
        previous = copy;
        const results = resultsOf(commands, readFileSync(reportPath, 'utf8'));
        const count = (o: CommandResult['outcome']): number => results.filter((r) => r.outcome === o).length;
        summary.push({ document: doc, works: count('works'), fails: count('fails'), skipped: count('skipped'), seconds, results });
        const failed = results.filter((r) => r.outcome === 'fails').map((r) => `${doc}:${r.line}: exit ${r.exitCode ?? 'never finished'}: ${r.text}`);
        expect(failed, `see ${logPath}`).toEqual([]);
        // Every skip says why, and at least one command ran: a document of nothing but skips proves nothing.
        for (const r of results) if (r.outcome === 'skipped') expect(r.skip).toMatch(/\w/);
        expect(count('works')).toBeGreaterThan(0);
        // The README's quick start and tour write only under .brickyard/ (ignored): nothing new in the reader's checkout.
        if (doc === 'README.md') expect(git(copy, ['status', '--porcelain', '--untracked-files=all']), 'files the README left in the checkout').toBe('');
      },
      45 * 60_000,
    );
  }
});
