/** Small catalogues written into temporary folders, and copies of the shipped one to break. */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The unit project runs its files one after another in a worker that keeps its modules
 * (`isolate: false`), so a hook registered when this module loads would run after the first file
 * only. The setup file (test/helpers/per-file.ts) calls `endOfFile` after every file instead.
 */
const made: string[] = [];
const atEnd: (() => void)[] = [];

/** Run `fn` after every test file (from now on, in this worker): e.g. to print and clear a shared table. */
export function atEndOfEveryFile(fn: () => void): void {
  atEnd.push(fn);
}

/** Remove the temporary folders this file made; run what shared fixtures asked for. */
export function endOfFile(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const fn of atEnd) fn();
}

export function tempDir(prefix = 'brickyard-test-', base = tmpdir()): string {
  const d = mkdtempSync(join(base, prefix));
  made.push(d);
  return d;
}

/** Write files (path → text) under a new temporary root. */
export function writeTree(files: Record<string, string>, root = tempDir()): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** A copy of the shipped catalog/ and systems/ to break in a test. */
export function copyOfShipped(): string {
  const root = tempDir('brickyard-copy-');
  cpSync(join(repoRoot, 'catalog'), join(root, 'catalog'), { recursive: true });
  cpSync(join(repoRoot, 'systems'), join(root, 'systems'), { recursive: true });
  return root;
}

/** A minimal, valid catalogue: one base, two blocks, one recipe, one system with one partition. */
export function miniCatalog(overrides: Record<string, string> = {}): string {
  return writeTree({ ...MINI, ...overrides });
}

export const MINI: Record<string, string> = {
  'catalog/bases.yaml': `bases:
  debian-12:
    distro: debian
    release: "12"
    packageManager: apt
    provides: [shell]
    images:
      x86_64: docker.io/library/debian:12@sha256:${'a'.repeat(64)}
      aarch64: docker.io/library/debian:12@sha256:${'a'.repeat(64)}
`,
  'catalog/blocks/cc/block.yaml': `name: cc
summary: C compiler
license: GPL-3.0-or-later
provides: [compiler:c]
steps:
  - packages: {apt: [gcc, libc6-dev], dnf: [gcc]}
`,
  'catalog/blocks/ompi/block.yaml': `name: ompi
summary: Open MPI
license: BSD-3-Clause-Open-MPI
parameters:
  version: {type: string, default: "4.1.6", enum: ["4.1.6", "5.0.5"], description: release}
  method: {type: string, default: source, enum: [source, distro], description: how}
provides: [mpi, mpi-abi:openmpi]
requires: [compiler:c]
conflicts: [mpi]
sources:
  - {name: tarball, version: "4.1.6", url: "https://example.org/openmpi-4.1.6.tar.bz2", sha256: "${'1'.repeat(64)}"}
  - {name: tarball, version: "5.0.5", url: "https://example.org/openmpi-5.0.5.tar.bz2", sha256: "${'2'.repeat(64)}"}
steps:
  - packages: {apt: [libopenmpi-dev], dnf: [openmpi-devel]}
    when: {method: distro}
  - fetch: {source: tarball, dest: /tmp/ompi.tar.bz2}
    when: {method: source}
  - run: |
      cd /tmp && tar xf ompi.tar.bz2
      cd openmpi-{{ version }} && ./configure CFLAGS="{{ target.cflags }}" --prefix=/opt/ompi && make install
    when: {method: source}
  - env: {PATH: "/opt/ompi/bin:$PATH"}
    when: {method: source}
`,
  'catalog/blocks/probe/block.yaml': `name: probe
summary: ping-pong
license: Apache-2.0
provides: [probe]
requires: [mpi, compiler:c]
steps:
  - copy: {src: files/probe.c, dest: /opt/probe/probe.c}
  - run: mpicc {{ target.cflags }} -o /usr/local/bin/probe /opt/probe/probe.c
`,
  'catalog/blocks/probe/files/probe.c': 'int main(void) { return 0; }\n',
  'catalog/recipes/demo/1.0/recipe.yaml': `name: demo
version: "1.0"
revision: 1
summary: Demo
maintainers: [{name: Test}]
license: Apache-2.0
base: debian-12
blocks:
  - use: cc
  - use: "@mpi"
  - use: probe
requires:
  architectures: [x86_64]
  gpu: {vendor: none}
  mpi: any
entrypoint: [/usr/local/bin/probe]
sizeBudget: 1 GiB
`,
  'systems/box.yaml': `schemaVersion: 1
id: box
name: Box
production: false
sources:
  me: {url: "https://example.org/box", kind: doc, asOf: "2026-01-01"}
provenance:
  - {path: /partitions/0/cpu, sources: [me]}
scheduler: {type: slurm}
interconnect: {type: loopback}
storage:
  - {name: scratch, path: "/scratch/{project}"}
policy: {builder: buildah, buildWhere: ci, runnerLabels: [ubuntu-24.04], imageFormat: oci}
partitions:
  - id: cpu
    directives: ["--partition=cpu"]
    cpu: {arch: x86_64, model: Test CPU, cores: 4, targetFlags: "-O2 -march=x86-64-v2"}
    memoryGiB: 8
    runtime: {type: podman, command: podman, flags: ["--network=host"]}
    launcher: {type: srun, template: "srun --nodes={nodes} --ntasks-per-node={ranks_per_node} {mpi_flag} {container}"}
    mpi:
      strategies:
        - {id: hybrid-pmix, abi: openmpi, block: ompi, with: {method: distro}, pmi: pmix, expectLibrary: Open MPI}
    smoke:
      mpi:
        nodes: 1
        ranksPerNode: 2
        latency: {messageBytes: 8, warn: 5, fail: 50, source: test}
        bandwidth: {messageBytes: 4194304, warn: 1000, fail: 100, source: test}
`,
};
