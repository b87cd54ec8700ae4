/**
 * The one home of the state folder's layout (default <root>/.brickyard): every path the engine
 * writes there and reads back. Build, smoke, sign, bundle, the site generator and the CLI ask this
 * module for a path instead of joining names of their own.
 *
 *   <state>/builds/<recipe>/<system>-<partition>/   one pair (pairLayout)
 *   <state>/oci/                                    the shared OCI image layout (index.json, blobs/)
 *   <state>/cache/                                  fetched sources, host probes, STREAM builds
 *   <state>/dev-signer/                             the development signer's keys (sign/dev-signer.ts)
 *   <state>/tune/<recipe>/<system>-<partition>/     a tuning run's signed choice (tune.intoto.json)
 *   <state>/publish/<system>/                       what `publish` pushed (actions/publish)
 *   <state>/bundle/manifest.json, <state>/bundles/  bundles written for transfer
 *   <state>/bundle-serials.json                     the last bundle serial per repository (transfer/serial.ts)
 */
import { join } from 'node:path';

/** The folder a workspace keeps its state in when none is named. */
export const DEFAULT_STATE_DIR = '.brickyard';

/** The state folder of a workspace at `root` when none is named. */
export function defaultStateDir(root: string): string {
  return join(root, DEFAULT_STATE_DIR);
}

export interface StateLayout {
  root: string;
  /** builds/<recipe>/<system>-<partition>/ for every built pair. */
  builds: string;
  /** The OCI image layout every build exports into. */
  oci: string;
  ociIndex: string;
  cache: string;
  devSigner: string;
  /** tune/<recipe>/<system>-<partition>/ per tuned pair. */
  tune: string;
  /** publish/<system>/: the publish action's output. */
  publish: string;
  /** A bundle written into the state folder, and the folder of named bundles. */
  bundleManifest: string;
  bundles: string;
  bundleSerials: string;
}

export function stateLayout(stateDir: string): StateLayout {
  const oci = join(stateDir, 'oci');
  return {
    root: stateDir,
    builds: join(stateDir, 'builds'),
    oci,
    ociIndex: join(oci, 'index.json'),
    cache: join(stateDir, 'cache'),
    devSigner: join(stateDir, 'dev-signer'),
    tune: join(stateDir, 'tune'),
    publish: join(stateDir, 'publish'),
    bundleManifest: join(stateDir, 'bundle', 'manifest.json'),
    bundles: join(stateDir, 'bundles'),
    bundleSerials: join(stateDir, 'bundle-serials.json'),
  };
}

/** The names inside a pair folder, for code that lists one (a bundle, a received artifact). */
export const PAIR_FILES = {
  buildRecord: 'build.json',
  buildLog: 'build.log',
  lock: 'lock.json',
  sbom: 'sbom.spdx.json',
  containerfile: 'Containerfile',
  apptainerDef: 'apptainer.def',
  jobScript: 'job.sh',
  provenance: 'provenance.intoto.json',
  sbomStatement: 'sbom.intoto.json',
  context: 'context',
  slurm: 'slurm',
  sifWork: 'sif-work',
  sifWorkSecond: 'sif-work-second',
} as const;

/** smoke-<launcher>.json: the smoke report of one launcher. */
export const SMOKE_REPORT_NAME = /^smoke-([a-z0-9-]+)\.json$/;

export interface PairLayout {
  dir: string;
  buildRecord: string;
  buildLog: string;
  lock: string;
  sbom: string;
  containerfile: string;
  apptainerDef: string;
  jobScript: string;
  provenance: string;
  sbomStatement: string;
  context: string;
  slurm: string;
  sifWork: string;
  sifWorkSecond: string;
  /** The SIF made from the image: <refName>.sif. */
  sif: (refName: string) => string;
  smokeReport: (launcher: string) => string;
  /** test-result-<launcher>.intoto.json: the statement made from that smoke report. */
  testResult: (launcher: string) => string;
}

/** A pair folder's layout; `dir` is builds/<recipe>/<system>-<partition> or a received copy of one. */
export function pairFolder(dir: string): PairLayout {
  const at = (name: string): string => join(dir, name);
  return {
    dir,
    buildRecord: at(PAIR_FILES.buildRecord),
    buildLog: at(PAIR_FILES.buildLog),
    lock: at(PAIR_FILES.lock),
    sbom: at(PAIR_FILES.sbom),
    containerfile: at(PAIR_FILES.containerfile),
    apptainerDef: at(PAIR_FILES.apptainerDef),
    jobScript: at(PAIR_FILES.jobScript),
    provenance: at(PAIR_FILES.provenance),
    sbomStatement: at(PAIR_FILES.sbomStatement),
    context: at(PAIR_FILES.context),
    slurm: at(PAIR_FILES.slurm),
    sifWork: at(PAIR_FILES.sifWork),
    sifWorkSecond: at(PAIR_FILES.sifWorkSecond),
    sif: (refName) => at(`${refName}.sif`),
    smokeReport: (launcher) => at(`smoke-${launcher}.json`),
    testResult: (launcher) => at(`test-result-${launcher}.intoto.json`),
  };
}

/** The folder of one pair: builds/<recipe key>/<system>-<partition>. */
export function pairLayout(stateDir: string, pair: { recipe: string; system: string; partition: string }): PairLayout {
  return pairFolder(join(stateLayout(stateDir).builds, pair.recipe, `${pair.system}-${pair.partition}`));
}

/** The launcher a smoke report's file name names, or undefined for any other name. */
export function smokeLauncherOf(name: string): string | undefined {
  return SMOKE_REPORT_NAME.exec(name)?.[1];
}

/** The signed choice of a tuning run, in its tune folder. */
export const TUNE_RECORD = 'tune.intoto.json';

/** The folder of one pair's tuning record: tune/<recipe key>/<system>-<partition>. */
export function tuneFolder(stateDir: string, pair: { recipe: string; system: string; partition: string }): string {
  return join(stateLayout(stateDir).tune, pair.recipe, `${pair.system}-${pair.partition}`);
}
