/**
 * `npm run bench:site`: what a person at a site waits for, whole process, against the plain
 * tool in the same run, pairs alternated, medians:
 *   --version, --help          ms and peak RSS (goal < 80 ms, < 60 MiB), yardstick `node -e 0` for
 *                              the npm CLI, a one-line single executable of the same Node for the
 *                              executable (its floor before any of our code)
 *   check-bundle               vs `openssl dgst -sha256` of the same file (goal ≥ 0.6× on the
 *                              main job's bundle, ≥ 0.8× on 2 GiB)
 *   import into an empty store vs `tar -xf && sync` of the same tar (goal ≥ 0.9×), peak RSS < 256 MiB
 * for the npm CLI (node bin/brickyard.js, running dist/cli) and the site executable.
 * The main job's bundle: BENCH_BUNDLE and BENCH_POLICY, else .brickyard/bundles/local-N.tar of
 * this checkout (after `npm start`), else one made here of the same size (BENCH_MAIN_MIB, 378).
 * Beside it, one made here of BENCH_ISSUE_MIB (378: the main job's bundle when issue 11 set the
 * goals; 0 to skip) and of BENCH_LARGE_MIB (2048; 0 to skip). BENCH_RUNS (5) pairs per figure;
 * BENCH_SEA an already built executable (default: built now).
 *
 * The executables are measured as a site runs them: installed with `install -m 0755` (as
 * docs/site-admin.md says), not where they were built. Peak RSS counts the file pages a process
 * maps, and a file just written in one piece (postject writes the executable with one write)
 * sits in the page cache in large folios, mapped whole where one byte is touched: the one-line
 * executable peaked at 62 MiB run from postject's file and at 42 MiB, like `node -e 0`, from the
 * same bytes installed (copy_file_range) or read back from disk (Linux 6.18, 2026-12-03).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildCli, repo } from './build-cli.ts';
import { buildHelloSea, buildSea } from './build-sea.ts';
import { makeSiteBundle } from './lib/bench-state.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const MAIN_MIB = Number(process.env['BENCH_MAIN_MIB'] ?? 378);
const ISSUE_MIB = Number(process.env['BENCH_ISSUE_MIB'] ?? 378);
const LARGE_MIB = Number(process.env['BENCH_LARGE_MIB'] ?? 2048);
const node = join(repo, 'node_modules', '.bin', 'node');

type Tool = 'npm CLI' | 'executable';

interface Sample {
  seconds: number;
  rssMiB: number;
  /** User + system CPU seconds of the process and its children: on a busy host the wall-time ratio follows this one. */
  cpuSeconds: number;
}

/** One whole process: wall time, and peak RSS (%M, KiB) and CPU time (%U + %S) from GNU time. */
function measure(cmd: string[], cwd: string): Sample {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', ...cmd], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [user, sys, kib] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { seconds, rssMiB: (kib ?? NaN) / 1024, cpuSeconds: (user ?? NaN) + (sys ?? NaN) };
}

const cpu = (s: Sample): string => `cpu ${s.cpuSeconds.toFixed(2)} s`;

function median(xs: number[]): number {
  const m = [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  if (m === undefined) throw new Error('a median of no runs (BENCH_RUNS must be at least 1)');
  return m;
}

/** Alternate A and B RUNS times (each preceded by `before`), medians of each. */
function pairs(a: () => Sample, b: () => Sample, before: () => void = () => undefined): { a: Sample; b: Sample } {
  const as: Sample[] = [];
  const bs: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    before();
    as.push(a());
    before();
    bs.push(b());
  }
  return {
    a: { seconds: median(as.map((s) => s.seconds)), rssMiB: median(as.map((s) => s.rssMiB)), cpuSeconds: median(as.map((s) => s.cpuSeconds)) },
    b: { seconds: median(bs.map((s) => s.seconds)), rssMiB: median(bs.map((s) => s.rssMiB)), cpuSeconds: median(bs.map((s) => s.cpuSeconds)) },
  };
}

const rows: string[][] = [];
function row(what: string, tool: string, ours: string, yardstick: string, ratio: string, goal: string, met: boolean | undefined): void {
  const cells = [what, tool, ours, yardstick, ratio, goal, met === undefined ? '' : met ? 'yes' : 'NO'];
  rows.push(cells);
  process.stderr.write(`${cells.join(' | ')}\n`);
}

function mainJobBundle(work: string): Promise<{ tar: string; policy: string }> | { tar: string; policy: string } {
  if (process.env['BENCH_BUNDLE'] && process.env['BENCH_POLICY']) return { tar: process.env['BENCH_BUNDLE'], policy: process.env['BENCH_POLICY'] };
  const state = join(repo, '.brickyard');
  const bundles = existsSync(join(state, 'bundles'))
    ? readdirSync(join(state, 'bundles'))
        .filter((n) => /^local-\d+\.tar$/.test(n))
        .sort()
    : [];
  const newest = bundles.at(-1);
  if (newest !== undefined && existsSync(join(state, 'site-policy.yaml'))) return { tar: join(state, 'bundles', newest), policy: join(state, 'site-policy.yaml') };
  mkdirSync(join(work, 'main'), { recursive: true });
  return makeSiteBundle(join(work, 'main'), { baseMiB: MAIN_MIB - 8, images: 2 });
}

type Tools = [Tool, string[]][];

/** --version and --help of each tool against its floor: Node doing nothing, or a one-line single executable. */
async function startUpRows(tools: Tools, work: string): Promise<void> {
  // The yardstick of the npm CLI is Node doing nothing; of the executable, a one-line single
  // executable of the same Node (what any SEA costs before its first line runs).
  const hello = installed(await buildHelloSea(join(work, 'hello')), work);
  const floors: Record<Tool, [string, string[]]> = { 'npm CLI': ['node -e 0', [node, '-e', '0']], executable: ['one-line SEA', [hello]] };
  for (const args of [['--version'], ['--help']]) {
    for (const [name, cmd] of tools) {
      const [floorName, floor] = floors[name];
      const { a, b } = pairs(
        () => measure([...cmd, ...args], work),
        () => measure(floor, work),
      );
      row(
        args.join(' '),
        name,
        `${(a.seconds * 1000).toFixed(0)} ms, ${a.rssMiB.toFixed(0)} MiB, ${cpu(a)}`,
        `${floorName}: ${(b.seconds * 1000).toFixed(0)} ms, ${b.rssMiB.toFixed(0)} MiB, ${cpu(b)}`,
        '',
        '< 80 ms, < 60 MiB',
        a.seconds < 0.08 && a.rssMiB < 60,
      );
    }
  }
}

/** `built` installed as a site installs it (see above), into `<work>/bin/`. */
function installed(built: string, work: string): string {
  const to = join(work, 'bin', basename(built));
  mkdirSync(join(work, 'bin'), { recursive: true });
  execFileSync('install', ['-m', '0755', built, to]);
  return to;
}

/** check-bundle of one bundle against openssl's digest of the same file. */
function checkBundleRows(tools: Tools, work: string, label: string, bundle: { tar: string; policy: string }, goal: number): void {
  const mib = statSync(bundle.tar).size / 2 ** 20;
  execFileSync('sync');
  for (const [name, cmd] of tools) {
    const { a, b } = pairs(
      () => measure([...cmd, 'check-bundle', bundle.tar, '--policy', bundle.policy], work),
      () => measure(['openssl', 'dgst', '-sha256', bundle.tar], work),
    );
    row(
      `check-bundle, ${label} (${mib.toFixed(0)} MiB)`,
      name,
      `${a.seconds.toFixed(2)} s, ${a.rssMiB.toFixed(0)} MiB, ${cpu(a)}`,
      `openssl dgst -sha256: ${b.seconds.toFixed(2)} s, ${cpu(b)}`,
      `${(b.seconds / a.seconds).toFixed(2)}×`,
      `≥ ${goal}×, < 256 MiB`,
      b.seconds / a.seconds >= goal && a.rssMiB < 256,
    );
  }
}

/** import of one bundle into an empty store against `tar -xf && sync` of the same tar (import is crash-safe, so the yardstick syncs too). */
function importRows(tools: Tools, work: string, label: string, bundle: { tar: string; policy: string }): void {
  for (const [name, cmd] of tools) {
    const store = join(work, 'store');
    const untar = join(work, 'untar');
    const clean = (): void => {
      rmSync(store, { recursive: true, force: true });
      rmSync(untar, { recursive: true, force: true });
      mkdirSync(untar);
      execFileSync('sync');
    };
    const { a, b } = pairs(
      () => measure([...cmd, 'import', bundle.tar, '--policy', bundle.policy, '--store', store], work),
      () => measure(['sh', '-c', 'tar -xf "$0" -C "$1" && sync', bundle.tar, untar], work),
      clean,
    );
    clean();
    row(
      `import, ${label}`,
      name,
      `${a.seconds.toFixed(2)} s, ${a.rssMiB.toFixed(0)} MiB, ${cpu(a)}`,
      `tar -xf && sync: ${b.seconds.toFixed(2)} s, ${cpu(b)}`,
      `${(b.seconds / a.seconds).toFixed(2)}×`,
      '≥ 0.9×, < 256 MiB',
      b.seconds / a.seconds >= 0.9 && a.rssMiB < 256,
    );
  }
}

/** The rows as an aligned table, with how they were measured. */
function printTable(): void {
  const head = ['figure', 'tool', 'brickyard (median)', 'yardstick (median)', 'ratio', 'goal', 'met'];
  const all = [head, ...rows];
  // A column as wide as its widest cell (a row without the cell counts as empty there).
  const width = (col: number): number => Math.max(...all.map((r) => r[col]?.length ?? 0));
  for (const r of all)
    process.stdout.write(
      r
        .map((c, i) => c.padEnd(width(i)))
        .join('  ')
        .trimEnd() + '\n',
    );
  process.stdout.write(
    `(${RUNS} pairs per figure, alternated; ratio = yardstick time / brickyard time, higher is faster; cpu = user + system time of the process tree (the write-out a sync waits for runs in kernel threads, not counted); host load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the end)\n`,
  );
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'brickyard-bench-site-'));
  try {
    await buildCli();
    const sea = installed(process.env['BENCH_SEA'] ?? (await buildSea(process.arch as 'x64' | 'arm64', join(work, 'sea'))), work);
    const tools: Tools = [
      ['npm CLI', [node, join(repo, 'bin', 'brickyard.js')]],
      ['executable', [sea]],
    ];
    row('executable size', 'executable', `${(statSync(sea).size / 2 ** 20).toFixed(1)} MiB`, '', '', '', undefined);
    await startUpRows(tools, work);

    const sizes: [string, { tar: string; policy: string }, number][] = [['main job bundle', await mainJobBundle(work), 0.6]];
    if (ISSUE_MIB > 0) {
      mkdirSync(join(work, 'issue'));
      sizes.push([`${ISSUE_MIB} MiB bundle`, await makeSiteBundle(join(work, 'issue'), { baseMiB: ISSUE_MIB - 8, images: 2 }), 0.6]);
    }
    if (LARGE_MIB > 0) {
      mkdirSync(join(work, 'large'));
      sizes.push([`${LARGE_MIB} MiB bundle`, await makeSiteBundle(join(work, 'large'), { baseMiB: LARGE_MIB - 8, images: 2 }), 0.8]);
    }
    for (const [label, bundle, goal] of sizes) {
      checkBundleRows(tools, work, label, bundle, goal);
      importRows(tools, work, label, bundle);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  printTable();
}

await main();
