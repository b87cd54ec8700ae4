/**
 * The main job (`npm start`): validate the catalogue, check every pair, render every pair that
 * fits; then, on this host, build mpi-pingpong for the `local` system, smoke-test it directly and
 * through a single-node Slurm, sign its attestations with the development signer, pack a signed
 * bundle, and verify and import it offline into a site store under the project folder.
 */
import { engineRoot } from '../util/engine-root.ts';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import parseSpdx from 'spdx-expression-parse';
import { buildPair, formatBytes, type BuildRecord } from '../build/build.ts';
import { attestPair } from '../sign/pair.ts';
import { writeDevPolicy } from '../site/dev-policy.ts';
import { loadPolicy } from '../site/policy.ts';
import { importAndAdmit } from '../site/admit.ts';
import { bundleSystem } from '../transfer/bundle-system.ts';
import { nextSerial } from '../transfer/serial.ts';
import { sourceOf } from '../transfer/source.ts';
import { siteVerifier } from '../transfer/site-trust.ts';
import { Change } from '../plan/change.ts';
import { FILE_NAMES, FORMATS } from '../render/index.ts';
import { smoke, type SmokeReport } from '../smoke/run.ts';
import { startService, stopService } from '../smoke/services.ts';
import { formatDiagnostic } from '../util/diagnostics.ts';
import { BrickyardError } from '../util/errors.ts';
import { which } from '../util/exec.ts';
import type { Pair, ValidationReport, Workspace } from '../workspace.ts';
import type { Io } from './io.ts';
import { byteProgress } from './progress.ts';
import { table } from './table.ts';

const HOST_TOOLS = ['buildah', 'podman', 'skopeo', 'mmdebstrap', 'sbatch', 'munged'];

export interface MainJobOptions {
  outDir: string;
  json: boolean;
  /** Recipes to build and smoke-test on the local system. */
  build: string[];
  /** Stop after rendering. */
  renderOnly: boolean;
}

/** Seconds per stage, and progress lines stamped with the time since the job started. */
interface Clock {
  seconds: Record<string, number>;
  t0: number;
  lap: (name: string, since: number) => void;
  say: (s: string) => void;
}

function startClock(io: Io): Clock {
  const seconds: Record<string, number> = {};
  const t0 = performance.now();
  return {
    seconds,
    t0,
    lap: (name, since) => {
      seconds[name] = Math.round(performance.now() - since) / 1000;
    },
    say: (s) => io.err(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}\n`),
  };
}

interface PairBuild {
  record?: BuildRecord;
  smokes: SmokeReport[];
  error?: string;
  recipe: string;
}

/** What the steps after rendering did: each build, the bundle and import, and whether any failed. */
interface HostSteps {
  builds: PairBuild[];
  transfer?: Transfer;
  failed: boolean;
}

export async function runMainJob(ws: Workspace, io: Io, opts: MainJobOptions): Promise<number> {
  const clock = startClock(io);
  const { say, lap, t0 } = clock;
  say('validate + check every recipe × partition pair');
  const report = ws.validate();
  lap('validateAndCheck', t0);
  for (const d of report.diagnostics) io.err(formatDiagnostic(d) + '\n');
  if (report.errors > 0) {
    io.err(`validate: ${report.errors} error(s); fix them and run again (nothing was rendered)\n`);
    return 1;
  }
  const t1 = performance.now();
  const renderDir = join(opts.outDir, 'render');
  const rendered = renderFitting(ws, renderDir);
  lap('render', t1);
  say(`rendered ${rendered} of ${report.fits.length} pairs into ${relative(ws.root, renderDir) || renderDir}/`);
  const planned = planWorkingTree(ws);
  if (planned) say(`plan: ${planned}`);

  const steps: HostSteps = opts.renderOnly ? { builds: [], failed: false } : await runOnHost(ws, io, opts, clock);
  lap('total', t0);
  const summary = mainJobSummary(ws, opts, report, rendered, steps, clock.seconds);
  if (opts.json) io.out(JSON.stringify(summary, null, 2) + '\n');
  else printMainJob(ws, io, opts, summary, steps);
  return steps.failed ? 1 : 0;
}

/** Every pair that fits, rendered into `renderDir` (emptied first: a rerun leaves no stale pairs behind). Returns how many. */
function renderFitting(ws: Workspace, renderDir: string): number {
  rmSync(renderDir, { recursive: true, force: true });
  let rendered = 0;
  for (const pair of ws.pairs()) {
    if (!pair.fit.fits) continue;
    const r = ws.render(pair);
    const dir = join(renderDir, pair.recipe.key, `${pair.system.doc.id}-${pair.partition.id}`);
    mkdirSync(dir, { recursive: true });
    for (const f of FORMATS) writeFileSync(join(dir, FILE_NAMES[f]), r.files[f]);
    rendered++;
  }
  return rendered;
}

/** On this host: build, smoke-test and attest each recipe for `local`, then bundle and import; the host's tools checked first. */
async function runOnHost(ws: Workspace, io: Io, opts: MainJobOptions, clock: Clock): Promise<HostSteps> {
  const ready = hostReady(clock.say);
  if (ready !== true) {
    io.err(`${ready}\nThe main job stops after rendering.\n`);
    return { builds: [], failed: true };
  }
  const local = ws.partitionsOf('local')[0];
  if (!local) throw new BrickyardError('PARTITION_NOT_FOUND', 'the system local has no partitions', { hint: 'give systems/local.yaml a partition' });
  const slurm: { state: string; env?: Record<string, string> } = { state: join(opts.outDir, 'services', 'slurm') };
  const builds: PairBuild[] = [];
  try {
    for (const spec of opts.build) builds.push(await buildSmokeAttest(ws, io, ws.pairAt(spec, local), opts.outDir, clock, slurm));
  } finally {
    if (slurm.env) stopService('slurm', slurm.state);
  }
  let failed = builds.some((b) => b.error !== undefined || b.smokes.some((s) => s.result === 'FAILED'));
  let transfer: Transfer | undefined;
  if (!failed && builds.length > 0) {
    try {
      transfer = await bundleAndImport(ws, opts.outDir, clock.say, clock.lap);
    } catch (e) {
      failed = true;
      io.err(`bundle/import: ${(e as Error).message}\n`);
    }
  }
  return { builds, failed, ...(transfer ? { transfer } : {}) };
}

/** One recipe: built, smoke-tested directly and through Slurm (started on first use), attested; an error is recorded, not thrown. */
async function buildSmokeAttest(
  ws: Workspace,
  io: Io,
  pair: Pair,
  stateDir: string,
  { say, lap }: Clock,
  slurm: { state: string; env?: Record<string, string> },
): Promise<PairBuild> {
  const recipe = pair.recipe;
  const entry: PairBuild = { recipe: recipe.key, smokes: [] };
  try {
    const tb = performance.now();
    const record = await buildPair(ws, pair, { stateDir, onStage: (s, d) => say(`${recipe.key}: ${s}: ${d}`) });
    entry.record = record;
    lap(`build ${recipe.key}`, tb);
    const ts = performance.now();
    const image = { recipe, reference: record.image.reference, manifestDigest: record.image.manifestDigest };
    entry.smokes.push(await smoke(ws, image, pair, { stateDir, launcher: 'direct', onStage: (s, d) => say(`${recipe.key}: smoke: ${s}: ${d}`) }));
    slurm.env ??= startSlurm(slurm.state, say);
    entry.smokes.push(await smoke(ws, image, pair, { stateDir, launcher: 'slurm', slurmEnv: slurm.env, onStage: (s, d) => say(`${recipe.key}: smoke via Slurm: ${s}: ${d}`) }));
    lap(`smoke ${recipe.key}`, ts);
    const ta = performance.now();
    say(`${recipe.key}: attest: provenance, SBOM and test-results, signed by the development signer`);
    await attestPair(ws, pair, { stateDir });
    lap(`attest ${recipe.key}`, ta);
  } catch (e) {
    entry.error = (e as Error).message;
    io.err(`${recipe.key}: ${entry.error}\n`);
  }
  return entry;
}

/** The table row of one build: image, size, ping-pong figures per launcher, GPU check. */
function buildRow(b: PairBuild): string[] {
  const mpi = (s: SmokeReport | undefined): string => {
    const t = s?.tests.find((x) => x.kind === 'mpi-pingpong');
    return t ? `${t.verdict} ${t.figures?.['latency_8B_us'] ?? '?'} µs, ${t.figures?.['bandwidth_4MiB_MBps'] ?? '?'} MB/s` : '-';
  };
  const gpu = b.smokes[0]?.tests.find((x) => x.kind === 'gpu-check');
  return [
    b.recipe,
    'local/debug',
    b.record ? `${b.record.image.manifestDigest.slice(0, 19)}…` : `failed: ${b.error?.split('\n')[0] ?? ''}`,
    b.record ? formatBytes(b.record.sizes.uncompressedBytes) : '-',
    mpi(b.smokes.find((s) => s.launcher === 'direct')),
    mpi(b.smokes.find((s) => s.launcher === 'slurm')),
    gpu ? gpu.verdict : '-',
  ];
}

/** The main job's result, as `--json` prints it. */
function mainJobSummary(ws: Workspace, opts: MainJobOptions, report: ValidationReport, rendered: number, steps: HostSteps, seconds: Record<string, number>) {
  const { builds, transfer } = steps;
  return {
    recipes: ws.recipes.size,
    systems: ws.catalog.systems.size,
    pairs: report.fits.length,
    rendered,
    warnings: report.warnings,
    out: relative(ws.root, opts.outDir) || opts.outDir,
    builds: builds.map((b) => ({
      recipe: b.recipe,
      image: b.record?.image ?? null,
      sizeBytes: b.record?.sizes.uncompressedBytes ?? null,
      error: b.error ?? null,
      smoke: b.smokes.map((s) => ({ launcher: s.launcher, result: s.result, report: s.reportPath })),
    })),
    seconds,
    transfer: transfer ?? null,
    stages: {
      validate: 'done',
      render: 'done',
      build: opts.renderOnly ? 'skipped' : builds.length ? 'done' : 'not run',
      smoke: opts.renderOnly ? 'skipped' : builds.length ? 'done' : 'not run',
      sign: transfer ? 'done' : 'not run',
      bundle: transfer ? 'done' : 'not run',
      import: transfer ? 'done' : 'not run',
    },
  };
}

/** The main job's result for a person: counts, the builds' table, the bundle and the store, the seconds per stage. */
function printMainJob(ws: Workspace, io: Io, opts: MainJobOptions, summary: ReturnType<typeof mainJobSummary>, { builds, transfer }: HostSteps): void {
  io.out(`\nValidated ${summary.recipes} recipes on ${summary.systems} systems; rendered ${summary.rendered} of ${summary.pairs} pairs (${summary.warnings} warning(s)).\n`);
  if (builds.length > 0) {
    io.out('\n' + table(['recipe', 'system', 'image', 'size', 'ping-pong (podman)', 'ping-pong (Slurm)', 'GPU'], builds.map(buildRow)));
  }
  if (transfer) {
    io.out(
      `\nBundle ${transfer.bundleId} (serial ${transfer.serial}, ${formatBytes(transfer.bundleBytes)}) signed by ${transfer.identity}: ${relative(ws.root, transfer.bundlePath)}\n` +
        `Verified offline and imported into ${relative(ws.root, transfer.store)}/ (generation ${transfer.generation}) under ${relative(ws.root, transfer.policy)}\n`,
    );
  }
  io.out(
    `\n${Object.entries(summary.seconds)
      .map(([k, v]) => `${k} ${v}s`)
      .join(', ')}\n`,
  );
  io.out(`Everything is under ${relative(ws.root, opts.outDir) || opts.outDir}/: render/, builds/ (records, SBOMs, smoke reports, attestations), oci/, bundles/, store/.\n`);
}

interface Transfer {
  bundleId: string;
  serial: number;
  bundlePath: string;
  bundleBytes: number;
  identity: string;
  store: string;
  policy: string;
  generation: number;
}

/** Sign and pack what was built for `local`, then verify it offline and import it into the project's site store. */
async function bundleAndImport(ws: Workspace, outDir: string, say: (s: string) => void, lap: (name: string, since: number) => void): Promise<Transfer> {
  const bundlesDir = join(outDir, 'bundles');
  mkdirSync(bundlesDir, { recursive: true });
  // Only the newest bundle is kept: each holds every image again (the store keeps what was imported).
  for (const old of readdirSync(bundlesDir).filter((n) => /^local-\d+\.tar$/.test(n))) rmSync(join(bundlesDir, old), { force: true });
  const tb = performance.now();
  // The serial first (the same rule as `brickyard bundle` and the publish action): it names the file.
  const serial = nextSerial(outDir, sourceOf(ws.root).repository);
  const bundlePath = join(bundlesDir, `local-${serial}.tar`);
  say(`bundle: signing the manifest and packing ${bundlePath}`);
  const bundleBar = byteProgress('bundle');
  const written = await bundleSystem(ws, { stateDir: outDir, system: 'local', out: bundlePath, serial, onProgress: bundleBar.update }).finally(bundleBar.stop);
  const dev = written.backend;
  if (dev.kind !== 'dev') throw new BrickyardError('SIGNING_FAILED', 'the main job signs with the development signer, not keylessly');
  lap('bundle', tb);
  const licenses = [
    ...new Set(
      [...ws.recipes.values()]
        .map((r) => r.doc.license)
        .filter((l): l is string => !!l)
        .flatMap(licenseIds),
    ),
  ].sort();
  const policy = join(outDir, 'site-policy.yaml');
  const trustedRootPath = join(dev.dir, 'trusted_root.json');
  writeDevPolicy(policy, { system: 'local', identity: dev.identity, issuer: dev.issuer, trustedRootPath, licenses });
  const ti = performance.now();
  say('import: verifying offline against the site policy, then importing atomically');
  const store = join(outDir, 'store');
  mkdirSync(store, { recursive: true });
  const importBar = byteProgress('verify');
  const imported = await importAndAdmit({
    bundlePath,
    policy: loadPolicy(policy),
    store,
    verifier: await siteVerifier(trustedRootPath),
    now: new Date(),
    trustedRootPath,
    onStage: (s) => say(`import: ${s}`),
    onProgress: importBar.update,
  }).finally(importBar.stop);
  lap('import', ti);
  return {
    bundleId: written.manifest.bundleId,
    serial,
    bundlePath,
    bundleBytes: written.sizes.bundleBytes,
    identity: written.identity,
    store,
    policy,
    generation: imported.generation,
  };
}

/** The licences an SPDX expression names (`+` kept, exceptions left out), as a site policy lists them. */
export function licenseIds(expression: string): string[] {
  let ast: parseSpdx.Info;
  try {
    ast = parseSpdx(expression);
  } catch {
    return [expression]; // not SPDX: allowed only verbatim (as licenseAllowed does)
  }
  const ids = (n: parseSpdx.Info): string[] => ('conjunction' in n ? [...ids(n.left), ...ids(n.right)] : [n.license + (n.plus ? '+' : '')]);
  return ids(ast);
}

/** What the uncommitted changes affect, as a pull request would see it (nothing outside a git checkout). */
function planWorkingTree(ws: Workspace): string | undefined {
  try {
    using change = new Change(ws.root, { base: 'HEAD' });
    const plan = change.plan();
    return plan.changed.length === 0 ? 'no uncommitted changes' : `${plan.changed.length} uncommitted file(s) affect ${plan.pairs.length} pair(s) (${plan.skipped.length} skipped)`;
  } catch {
    return undefined;
  }
}

/** true, or what is missing. As root on Debian/Ubuntu the host is set up on the way. */
function hostReady(say: (s: string) => void): true | string {
  const missing = HOST_TOOLS.filter((t) => !which(t));
  if (missing.length === 0) return true;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && which('apt-get')) {
    say(`setting up this host for builds (missing: ${missing.join(', ')}): scripts/setup-host.sh`);
    try {
      execFileSync('bash', [join(engineRoot(), 'scripts', 'setup-host.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    } catch {
      return 'scripts/setup-host.sh failed (see its output above)';
    }
    const still = HOST_TOOLS.filter((t) => !which(t));
    return still.length === 0 ? true : `still missing after setup: ${still.join(', ')}`;
  }
  return `building needs ${missing.join(', ')}: run \`sudo scripts/setup-host.sh\` (Debian/Ubuntu), then npm start again`;
}

function startSlurm(state: string, say: (s: string) => void): Record<string, string> {
  if (existsSync(state)) stopService('slurm', state);
  mkdirSync(state, { recursive: true });
  say('starting a single-node Slurm with munge on 127.0.0.1');
  return startService('slurm', state);
}
