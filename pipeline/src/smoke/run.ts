/**
 * `brickyard smoke`: run an image's smoke tests on a system partition, for real: the MPI
 * ping-pong (inside the container, directly or through the rendered Slurm job script), the GPU
 * check (skipped, with the reason, where there is no GPU), and the recipe's own commands.
 * The result is an in-toto test-result statement about the image's manifest digest.
 */
import { engineRoot } from '../util/engine-root.ts';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import type { MpiStrategyDoc } from '../model/types.ts';
import { renderJobScript } from '../render/jobscript.ts';
import { BrickyardError } from '../util/errors.ts';
import { run, which, type RunResult } from '../util/exec.ts';
import type { Pair, PartitionRef, Workspace } from '../workspace.ts';
import { pairDir } from '../build/build.ts';
import { pairFolder, stateLayout } from '../state/layout.ts';
import { readBuildRecord, type Launcher, type SmokeReport } from '../state/records.ts';
import { extractSifRootfs, sha256File } from '../build/sif.ts';
import { evaluateCommand, evaluateGpu, evaluatePingPong, overall, type TestResult } from './evaluate.ts';
import { parseGpuQuery, parsePingPong, type PingPongRun } from './pingpong.ts';
import { TEST_RESULT_PREDICATE_TYPE, testResultPredicate } from './predicate.ts';
import { inTotoStatement } from '../model/statement.ts';
import { performanceOf } from './performance.ts';
import { DEFAULT_TRIALS, interleave } from './stats.ts';
import { evaluateStream, looksLikeStream, parseStream, type StreamRun } from './stream.ts';
import { trialExit } from './runtime-faults.ts';
import { detectTransport, splitDebugSummary, TRANSPORT_VERBOSE_ENV } from './transport.ts';
import { smokeLaunch } from './launch.ts';

/** direct: the partition's runtime on this host; slurm: the rendered job script; sif: the SIF's root file system under ch-run. */
// Its home is state/records.ts, with the report that names it.
export type { Launcher };

export interface SmokeOptions {
  stateDir: string;
  launcher: Launcher;
  /** Environment for Slurm commands (SLURM_CONF of the test cluster). */
  slurmEnv?: NodeJS.ProcessEnv;
  timeoutSeconds?: number;
  onStage?: (stage: string, detail: string) => void;
  /**
   * Trials of each probe, container and host alternating (stats.ts); default DEFAULT_TRIALS, or
   * BRICKYARD_SMOKE_TRIALS from the environment.
   */
  trials?: number;
  /**
   * Environment for the image's commands and probes, in the container and for the host baseline
   * alike (a tune runtime variant's OMP_NUM_THREADS; the tune statement records it).
   */
  env?: Record<string, string>;
}

// Its home is state/records.ts (read back validated there); re-exported for the importers.
export type { SmokeReport };

const PROBE = '/usr/local/bin/brickyard-pingpong';

export interface ImageUnderTest {
  recipe: ResolvedRecipe;
  reference: string;
  manifestDigest: string;
  /** The SIF path: the squashfs root file system ch-run runs instead of the OCI image. */
  sifRoot?: string;
}

/** An image named by its build record, the build folder, `recipe@version`, or a local reference. */
export async function resolveImage(ws: Workspace, spec: string, where: PartitionRef, stateDir: string): Promise<ImageUnderTest> {
  const fromRecord = (path: string): ImageUnderTest => {
    const rec = readBuildRecord(path);
    return { recipe: ws.recipe(`${rec.recipe.name}@${rec.recipe.version}`), reference: rec.image.reference, manifestDigest: rec.image.manifestDigest };
  };
  if (spec.endsWith('.json') && existsSync(spec)) return fromRecord(spec);
  if (existsSync(pairFolder(spec).buildRecord)) return fromRecord(pairFolder(spec).buildRecord);
  if (!spec.includes('/')) {
    const r = ws.recipe(spec);
    const record = pairFolder(pairDir(stateDir, r, where)).buildRecord;
    if (!existsSync(record)) {
      throw new BrickyardError('IMAGE_NOT_FOUND', `${r.key} has not been built for ${where.system.doc.id}/${where.partition.id}`, {
        hint: `run: npx brickyard build ${r.key} --system ${where.system.doc.id}/${where.partition.id}`,
      });
    }
    return fromRecord(record);
  }
  // A reference in local container storage: its labels name the recipe.
  const inspect = await run('podman', ['image', 'inspect', '--format', '{{json .Labels}}', spec]);
  if (inspect.code !== 0)
    throw new BrickyardError('IMAGE_NOT_FOUND', `no image ${spec} in local container storage`, { hint: 'build it first: npx brickyard build <recipe> --system <id>' });
  const labels = JSON.parse(inspect.stdout.trim() || '{}') as Record<string, string> | null;
  const key = labels?.['dev.brickyard.recipe'];
  if (!key) throw new BrickyardError('IMAGE_NOT_FOUND', `${spec} carries no dev.brickyard.recipe label: it was not built by Brickyard`);
  // The digest to attest is the one in the OCI layout (what is bundled and signed), not container storage's.
  const recipe = ws.recipe(key);
  const record = pairFolder(pairDir(stateDir, recipe, where)).buildRecord;
  if (existsSync(record)) {
    const rec = readBuildRecord(record);
    if (rec.image.reference === spec) return { recipe, reference: spec, manifestDigest: rec.image.manifestDigest };
  }
  throw new BrickyardError(
    'IMAGE_NOT_FOUND',
    `${spec} has no build record for ${where.system.doc.id}/${where.partition.id} under ${stateDir}, so its OCI manifest digest is unknown`,
    {
      hint: `build it with: npx brickyard build ${recipe.key} --system ${where.system.doc.id}/${where.partition.id}`,
    },
  );
}

/** Smoke-test an image of the pair's recipe on the pair's partition (Workspace.pair, or a tune variant of one). */
export async function smoke(ws: Workspace, image: ImageUnderTest, where: Pair, opts: SmokeOptions): Promise<SmokeReport> {
  const startedOn = new Date().toISOString();
  const sif = await smokeLauncher(image, where, opts);
  if (sif) image = { ...image, sifRoot: sif.root };
  const tests = await runSmokeTests(ws, image, where, opts, sif !== undefined);
  return writeSmokeReport(image, where, opts, sif, tests, startedOn);
}

/** Refuse a pair the image cannot be smoke-tested on here; for the SIF launcher, the SIF's root file system to run. */
async function smokeLauncher(image: ImageUnderTest, where: Pair, opts: SmokeOptions): Promise<SifRoot | undefined> {
  const { system, partition, fit } = where;
  if (image.recipe !== where.recipe) {
    throw new BrickyardError('USAGE', `the image is of ${image.recipe.key}, the pair ${where.key} of ${where.recipe.key}`, {
      hint: 'smoke-test the image on a pair of its own recipe',
    });
  }
  if (!fit.fits) throw new BrickyardError('PAIR_DOES_NOT_FIT', `${image.recipe.key} does not fit ${system.doc.id}/${partition.id}: ${fit.reasons.join('; ')}`);
  const runtime = partition.runtime;
  // The SIF path: its root file system, copied out of the SIF the build made, run by ch-run.
  const sif = opts.launcher === 'sif' ? await sifRootOf(image, where, opts.stateDir) : undefined;
  if (!sif && runtime.type !== 'podman' && runtime.type !== 'charliecloud') {
    throw new BrickyardError('TOOL_MISSING', `smoke tests here run with podman or charliecloud; ${system.doc.id}/${partition.id} uses ${runtime.type}`, {
      hint: `run them on ${system.doc.id} itself with its runtime (the job script from \`brickyard render --format jobscript\`)`,
    });
  }
  if (!sif && !which(runtime.command)) throw new BrickyardError('TOOL_MISSING', `${runtime.command} is not installed`, { hint: 'run scripts/setup-host.sh as root' });
  return sif;
}

/** Run the recipe's smoke tests in order; every image also gets a GPU verdict. */
async function runSmokeTests(ws: Workspace, image: ImageUnderTest, where: Pair, opts: SmokeOptions, onSif: boolean): Promise<TestResult[]> {
  const tests: TestResult[] = [];
  const smokeTests = image.recipe.smoke;
  const timeoutMs = (opts.timeoutSeconds ?? 600) * 1000;
  const strategy = where.fit.strategy;

  for (const t of smokeTests) {
    if (t.type === 'mpi-pingpong') {
      opts.onStage?.('mpi', `${t.name}: ping-pong with ${opts.launcher === 'slurm' ? 'Slurm' : onSif ? 'ch-run (SIF root file system)' : where.partition.runtime.command}`);
      tests.push({ ...(await pingPong(ws, image, where, strategy, opts, t.timeoutSeconds ? t.timeoutSeconds * 1000 : timeoutMs)), name: t.name });
    } else if (t.type === 'gpu-check') {
      opts.onStage?.('gpu', t.name);
      tests.push({ ...(await gpuCheck(image, where)), name: t.name });
    } else {
      opts.onStage?.('command', t.name);
      const limit = t.timeoutSeconds ? t.timeoutSeconds * 1000 : timeoutMs;
      const command = t.run;
      if (command === undefined) throw new BrickyardError('CATALOG_INVALID', `${image.recipe.key}: smoke test ${t.name} has no run command`, { hint: 'give it run: <command>' });
      const r = await containerRun(where, image, ['sh', '-c', command], strategy, limit, opts.env);
      tests.push(evaluateCommand(t.name, { exitCode: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut }, t.expect ?? {}));
      if (r.code === 0 && looksLikeStream(r.stdout)) {
        opts.onStage?.('stream', `${t.name}: STREAM in the image against the host`);
        tests.push(await streamOverhead(image, where, t.name, command, r.stdout, strategy, opts, limit));
      }
    }
  }
  if (!smokeTests.some((t) => t.type === 'gpu-check')) {
    // Every image gets the GPU verdict for the record; CPU-only recipes are skipped with the reason.
    const reason =
      image.recipe.doc.requires.gpu?.vendor === 'none' || !image.recipe.doc.requires.gpu ? `${image.recipe.key} does not use a GPU` : 'the recipe declares no gpu-check test';
    tests.push({ ...evaluateGpu(undefined, { partitionHasGpu: false, reason }), name: 'gpu' });
  }
  return tests;
}

/** The report and its in-toto test-result statement, written into the pair's state folder. */
function writeSmokeReport(image: ImageUnderTest, where: Pair, opts: SmokeOptions, sif: SifRoot | undefined, tests: TestResult[], startedOn: string): SmokeReport {
  const { system, partition } = where;
  const runtime = partition.runtime;
  const finishedOn = new Date().toISOString();
  const result = overall(tests);
  const configuration = {
    system: system.doc.id,
    partition: partition.id,
    runtime: sif ? SIF_RUNTIME_LABEL : `${runtime.type}${runtime.version ? ` ${runtime.version}` : ''}`,
    launcher: opts.launcher,
    ...(sif ? { sif: { path: sif.path, sha256: sif.sha256 } } : {}),
    mpiStrategy: where.fit.strategy?.id ?? null,
    imageDigest: image.manifestDigest,
    imageReference: image.reference,
  };
  const predicate = testResultPredicate({ results: tests, configuration, startedOn, finishedOn });
  const statement = inTotoStatement({ name: image.reference, digest: { sha256: image.manifestDigest.replace(/^sha256:/, '') } }, TEST_RESULT_PREDICATE_TYPE, predicate);
  const dir = pairDir(opts.stateDir, image.recipe, where);
  mkdirSync(dir, { recursive: true });
  const reportPath = pairFolder(dir).smokeReport(opts.launcher);
  const report: SmokeReport = {
    kind: 'brickyard-smoke',
    version: 1,
    result,
    recipe: image.recipe.key,
    system: system.doc.id,
    partition: partition.id,
    launcher: opts.launcher,
    image: { reference: image.reference, manifestDigest: image.manifestDigest },
    tests,
    performance: performanceOf(tests),
    statement,
    startedOn,
    finishedOn,
    reportPath,
  };
  writeFileSync(reportPath, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(pairFolder(dir).testResult(opts.launcher), JSON.stringify(statement, null, 2) + '\n');
  return report;
}

/** The runtime command line for one container on this partition (rendered flags and MPI strategy env). */
function containerArgs(where: PartitionRef, image: string, argv: string[], strategy: MpiStrategyDoc | undefined, extraEnv: Record<string, string> = {}): [string, string[]] {
  const rt = where.partition.runtime;
  const env = Object.entries({ ...(strategy?.containerEnv ?? {}), ...extraEnv });
  if (rt.type === 'charliecloud') {
    return [rt.command, [...(rt.flags ?? []), ...env.map(([k, v]) => `--set-env=${k}=${v}`), image, '--', ...argv]];
  }
  const flags = rt.flags ?? [];
  // The image's ENTRYPOINT would take our command as its arguments: name the program instead.
  return [rt.command, ['run', '--rm', ...flags, ...env.flatMap(([k, v]) => ['-e', `${k}=${v}`]), `--entrypoint=${argv[0]}`, image, ...argv.slice(1)]];
}

function containerRun(
  where: PartitionRef,
  image: ImageUnderTest,
  argv: string[],
  strategy: MpiStrategyDoc | undefined,
  timeoutMs: number,
  extraEnv: Record<string, string> = {},
): Promise<RunResult> {
  if (image.sifRoot) {
    // ch-run mounts the squashfs itself (squashfuse); it needs $USER.
    const env = Object.entries({ ...(strategy?.containerEnv ?? {}), ...extraEnv }).map(([k, v]) => `--set-env=${k}=${v}`);
    return run('ch-run', [...env, image.sifRoot, '--', ...argv], { timeoutMs, env: { ...process.env, USER: process.env['USER'] || 'root' } });
  }
  const [cmd, args] = containerArgs(where, image.reference, argv, strategy, extraEnv);
  return run(cmd, args, { timeoutMs });
}

/** What the SIF path's results say they ran on: not Apptainer, which Debian cannot install. */
export const SIF_RUNTIME_LABEL = 'SIF root file system under ch-run';

/** A SIF the build made and the root file system copied out of it. */
interface SifRoot {
  path: string;
  sha256: string;
  root: string;
}

/** The squashfs root file system of the pair's SIF (from its build record), copied out for ch-run. */
async function sifRootOf(image: ImageUnderTest, where: PartitionRef, stateDir: string): Promise<SifRoot> {
  const dir = pairDir(stateDir, image.recipe, where);
  const recordPath = pairFolder(dir).buildRecord;
  const rec = existsSync(recordPath) ? readBuildRecord(recordPath) : undefined;
  if (!rec?.sif || rec.image.manifestDigest !== image.manifestDigest) {
    throw new BrickyardError('IMAGE_NOT_FOUND', `${image.recipe.key} on ${where.system.doc.id}/${where.partition.id} has no SIF for image ${image.manifestDigest}`, {
      hint: `build it with: npx brickyard build ${image.recipe.key} --system ${where.system.doc.id}/${where.partition.id} --sif`,
    });
  }
  for (const tool of ['ch-run', 'squashfuse'])
    if (!which(tool))
      throw new BrickyardError('TOOL_MISSING', `${tool} is not installed (the SIF smoke path runs the root file system with charliecloud's ch-run)`, {
        hint: 'run scripts/setup-host.sh as root',
      });
  const sha256 = await sha256File(rec.sif.path);
  if (sha256 !== rec.sif.sha256)
    throw new BrickyardError('IMAGE_NOT_FOUND', `${rec.sif.path} is not the SIF the build recorded (sha256 ${sha256}, recorded ${rec.sif.sha256})`, {
      hint: 'build the pair again',
    });
  const root = join(dir, 'sif-rootfs.sqsh');
  await extractSifRootfs(rec.sif.path, root);
  return { path: rec.sif.path, sha256, root };
}

async function pingPong(ws: Workspace, image: ImageUnderTest, where: Pair, strategy: MpiStrategyDoc | undefined, opts: SmokeOptions, timeoutMs: number): Promise<TestResult> {
  const mpi = where.partition.smoke.mpi;
  // The job script's layout (the recipe's launch on this partition), for every way of launching.
  const layout = smokeLaunch(ws.render(where).composition, strategy);
  const ranks = layout.ranks;
  // direct and sif run in this host's runtime; slurm through the rendered job script.
  const inline = opts.launcher === 'direct' || opts.launcher === 'sif';
  if (inline && layout.nodes > 1) {
    throw new BrickyardError('USAGE', `${where.system.doc.id}/${where.partition.id} runs the ping-pong across ${layout.nodes} nodes: use --launcher slurm`);
  }
  // Container and host alternate, so that a burst of load lands on both sides of the ratio.
  const containerRuns: RunResult[] = [];
  const hostRuns: PingPongRun[] = [];
  for (const side of interleave(trialCount(opts))) {
    if (side === 'container') {
      containerRuns.push(
        inline
          ? await containerRun(where, image, [...layout.inImage, PROBE], strategy, timeoutMs, { ...opts.env, ...TRANSPORT_VERBOSE_ENV })
          : await slurmJob(ws, image, where, opts, timeoutMs, layout.jobEnv),
      );
    } else {
      const host = inline ? await hostPingPong(opts.stateDir, ranks) : await hostPingPongSlurm(opts, layout.hostSrun);
      if (host) hostRuns.push(host);
    }
  }
  let parseError: string | undefined;
  const parsed = containerRuns.map((r) => {
    try {
      return parsePingPong(splitDebugSummary(r.stdout).probe);
    } catch (e) {
      parseError ??= (e as Error).message;
      return undefined;
    }
  });
  // A trial whose exit code podman lost (runtime-faults.ts) but whose report is complete and
  // clean counts, with a warning: the exit code is unknown, not the 127 podman gives.
  const exits = containerRuns.map((r, i) => trialExit(r.timedOut ? 124 : r.code, r.stderr, parsed[i], i + 1));
  const runtimeWarnings = exits.flatMap((e) => (e.warning ? [e.warning] : []));
  const codeOf = (r: RunResult): number => exits[containerRuns.indexOf(r)]?.code ?? r.code;
  // The launch checks read the first trial that went wrong, if any.
  const bad = containerRuns.findIndex((r) => codeOf(r) !== 0);
  const badRun = containerRuns[bad];
  const exitCode = badRun ? codeOf(badRun) : 0;
  const first = parsed[Math.max(bad, 0)];
  const trials = parsed.filter((t): t is PingPongRun => t !== undefined);
  const stderr = containerRuns.map((r) => r.stderr).join('\n');
  const stdout = containerRuns.map((r) => splitDebugSummary(r.stdout).summary).join('\n');
  return evaluatePingPong(parseError ? undefined : first, {
    exitCode,
    stderr,
    nodes: layout.nodes,
    interconnect: where.system.doc.interconnect.type,
    trials,
    hostTrials: hostRuns,
    runtimeWarnings,
    transport: detectTransport(stderr, stdout),
    // Sub-microsecond latencies differ by a few tenths between runs: only a real gap counts against the host.
    hostLatencySlackUs: 0.5,
    ...(parseError ? { parseError } : {}),
    expectLibrary: strategy?.expectLibrary ?? '',
    expectedRanks: ranks,
    thresholds: { latency: mpi.latency, bandwidth: mpi.bandwidth },
  });
}

function trialCount(opts: SmokeOptions): number {
  const n = opts.trials ?? Number(process.env['BRICKYARD_SMOKE_TRIALS'] ?? DEFAULT_TRIALS);
  if (!Number.isInteger(n) || n < 1 || n > 20)
    throw new BrickyardError('USAGE', `smoke trials must be a whole number from 1 to 20, got ${n}`, { hint: 'set BRICKYARD_SMOKE_TRIALS or --trials' });
  return n;
}

/** Slurm client commands, inside the test cluster's network namespace when it has one. */
function slurmCommand(opts: SmokeOptions, cmd: string, args: string[]): [string, string[]] {
  const netns = opts.slurmEnv?.['BRICKYARD_SLURM_NETNS'];
  return netns ? ['nsenter', [`--net=${netns}`, '--', cmd, ...args]] : [cmd, args];
}

/** The rendered job script, submitted with sbatch --wait to the Slurm the environment names. */
async function slurmJob(ws: Workspace, image: ImageUnderTest, where: Pair, opts: SmokeOptions, timeoutMs: number, jobEnv: Record<string, string> = {}): Promise<RunResult> {
  if (!which('sbatch')) throw new BrickyardError('TOOL_MISSING', 'sbatch is not installed', { hint: 'run scripts/setup-host.sh, then scripts/services/slurm.sh start DIR' });
  const rendered = ws.render(where);
  const dir = pairFolder(pairDir(opts.stateDir, image.recipe, where)).slurm;
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'job.sh');
  writeFileSync(script, renderJobScript(rendered.composition), { mode: 0o755 });
  const out = join(dir, 'job.out');
  const err = join(dir, 'job.err');
  // A failed submission must not leave the previous run's output to be read as this one's.
  rmSync(out, { force: true });
  rmSync(err, { force: true });
  // The verbose settings make the MPI library name the transport it chose: sbatch exports them to
  // the job, and the strategy's runtime flags forward them into the containers (OMPI_MCA_*,
  // MPIR_CVAR_*), as Apptainer passes the environment by default.
  const env = { ...process.env, ...opts.slurmEnv, ...TRANSPORT_VERBOSE_ENV, ...jobEnv, BRICKYARD_IMAGE: image.reference };
  const [cmd, args] = slurmCommand(opts, 'sbatch', ['--wait', '--parsable', `--output=${out}`, `--error=${err}`, '--export=ALL', script]);
  const r = await run(cmd, args, { env, timeoutMs, cwd: dir });
  const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  if (r.code !== 0 && !existsSync(out)) {
    throw new BrickyardError('TOOL_FAILED', `sbatch could not run the job (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`, {
      hint: 'is the test Slurm running? scripts/services/slurm.sh start DIR, then export SLURM_CONF',
    });
  }
  return { ...r, stdout: read(out), stderr: read(err) + r.stderr };
}

/** The probe built for the host (when it has an MPI compiler), in `dir`. */
async function hostProbe(dir: string): Promise<string | undefined> {
  if (!which('mpicc')) return undefined;
  const bin = join(dir, 'host-pingpong');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const src = join(engineRoot(), 'catalog', 'blocks', 'pingpong', 'files', 'pingpong.c');
    const c = await run('mpicc', ['-O2', '-std=c11', '-o', bin, src]);
    if (c.code !== 0) return undefined;
  }
  return bin;
}

function parseOrUndefined(r: RunResult): PingPongRun | undefined {
  if (r.code !== 0) return undefined;
  try {
    return parsePingPong(r.stdout);
  } catch {
    return undefined;
  }
}

/** The same probe on the host, for the container/host ratio. */
async function hostPingPong(stateDir: string, ranks: number): Promise<PingPongRun | undefined> {
  const bin = await hostProbe(stateLayout(stateDir).cache);
  if (!bin || !which('mpirun')) return undefined;
  return parseOrUndefined(await run('mpirun', ['--allow-run-as-root', '--oversubscribe', '-np', String(ranks), bin], { timeoutMs: 300_000 }));
}

/**
 * The same probe on the host through the same Slurm and placement (srun --mpi=pmix, the host's
 * Open MPI): the baseline for a multi-node run. The binary goes where every node sees it
 * (BRICKYARD_SLURM_SHARED from the test cluster: the nodes have private /tmp folders).
 */
async function hostPingPongSlurm(opts: SmokeOptions, srunArgs: string[]): Promise<PingPongRun | undefined> {
  const bin = await hostProbe(opts.slurmEnv?.['BRICKYARD_SLURM_SHARED'] ?? stateLayout(opts.stateDir).cache);
  if (!bin || !which('srun')) return undefined;
  const [cmd, args] = slurmCommand(opts, 'srun', [...srunArgs, bin]);
  return parseOrUndefined(await run(cmd, args, { env: { ...process.env, ...opts.slurmEnv }, timeoutMs: 300_000 }));
}

/**
 * A command whose output is STREAM's: run it again in the image, and the same binary copied out of
 * the image on the host with the same command line and the recipe's environment, alternating, for
 * the container/host ratio per kernel (stream.ts). The first container run counts as trial 1.
 */
async function streamOverhead(
  image: ImageUnderTest,
  where: PartitionRef,
  name: string,
  command: string,
  firstStdout: string,
  strategy: MpiStrategyDoc | undefined,
  opts: SmokeOptions,
  timeoutMs: number,
): Promise<TestResult> {
  const container: StreamRun[] = [];
  const host: StreamRun[] = [];
  const parse = (out: string, into: StreamRun[]): void => {
    try {
      into.push(parseStream(out));
    } catch {
      // a run that printed no complete table is left out; the counts in the figures show it
    }
  };
  parse(firstStdout, container);
  const program = /(?:^|\s)(\/[^\s;&|'"]+)/.exec(command)?.[1];
  let hostCommand: string | undefined;
  let hostMissing: string | undefined;
  if (!program) hostMissing = `no program path in '${command}' to copy out of the image for the host baseline`;
  else {
    const dir = join(stateLayout(opts.stateDir).cache, `stream-${image.manifestDigest.replace(/^sha256:/, '').slice(0, 12)}`);
    mkdirSync(dir, { recursive: true });
    const local = join(dir, basename(program));
    if (!existsSync(local)) {
      const cp = await run(
        where.partition.runtime.command,
        ['run', '--rm', ...(where.partition.runtime.flags ?? []), '-v', `${dir}:/brickyard-out`, '--entrypoint=cp', image.reference, program, '/brickyard-out/'],
        { timeoutMs: 120_000 },
      );
      if (cp.code !== 0) hostMissing = `could not copy ${program} out of the image: ${cp.stderr.trim().split('\n').pop()}`;
    }
    if (existsSync(local)) hostCommand = command.split(program).join(local);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(Object.entries(image.recipe.doc.environment ?? {}).map(([k, v]) => [k, String(v)])), ...opts.env };
  for (const [i, side] of interleave(trialCount(opts)).entries()) {
    if (side === 'container' && i > 0) {
      const r = await containerRun(where, image, ['sh', '-c', command], strategy, timeoutMs, opts.env);
      if (r.code === 0) parse(r.stdout, container);
    } else if (side === 'host' && hostCommand) {
      const r = await run('sh', ['-c', hostCommand], { env, timeoutMs });
      if (r.code === 0) parse(r.stdout, host);
      else hostMissing ??= `the image's ${program} failed on the host (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`;
    }
  }
  return evaluateStream({ name: `${name}-overhead`, container, host, ...(hostMissing && host.length === 0 ? { hostMissing } : {}) });
}

async function gpuCheck(image: ImageUnderTest, where: PartitionRef): Promise<TestResult> {
  const gpu = where.partition.gpu;
  const id = `${where.system.doc.id}/${where.partition.id}`;
  if (!gpu) return evaluateGpu(undefined, { partitionHasGpu: false, reason: `${id} has no GPU` });
  const devices = gpu.vendor === 'nvidia' ? ['/dev/nvidiactl', '/dev/nvidia0'] : ['/dev/kfd'];
  const present = devices.filter((d) => existsSync(d));
  if (present.length === 0) {
    return evaluateGpu(undefined, {
      partitionHasGpu: false,
      reason: `this host has no ${gpu.vendor === 'nvidia' ? 'NVIDIA' : 'AMD'} GPU device (${devices.join(', ')} missing); run the smoke test on ${id} itself`,
    });
  }
  const r = await run(
    where.partition.runtime.command,
    [
      'run',
      '--rm',
      ...(where.partition.runtime.flags ?? []),
      ...(gpu.runtimeFlags ?? []),
      ...(gpu.devices ?? []).filter((d) => !d.includes('*')).map((d) => `--device=${d}`),
      image.reference,
      '/usr/local/bin/brickyard-gpu-query',
    ],
    { timeoutMs: 120_000 },
  );
  let q;
  try {
    q = parseGpuQuery(r.stdout);
  } catch {
    q = undefined;
  }
  return evaluateGpu(q, {
    partitionHasGpu: true,
    expectDeviceCount: where.partition.smoke.gpu?.expectDeviceCount ?? gpu.count,
    expectArch: where.partition.smoke.gpu?.expectArch ?? gpu.arch,
    exitCode: r.code,
  });
}
