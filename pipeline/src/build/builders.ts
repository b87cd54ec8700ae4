/**
 * Builders: the tool a system's policy names turns a build context into an image. buildah is
 * what runs here; podman, docker, apptainer and podman-hpc adapters work where those tools are
 * installed and say exactly what is missing where they are not.
 */
import type { WriteStream } from 'node:fs';
import { BrickyardError } from '../util/errors.ts';
import { run, runOk, tail, which } from '../util/exec.ts';

export interface BuildRequest {
  contextDir: string;
  containerfile: string;
  apptainerDef: string;
  /** Local image reference, e.g. localhost/brickyard/mpi-pingpong:1.0.0-1-local-debug. */
  tag: string;
  /** Seconds since the epoch for every timestamp in the image (SOURCE_DATE_EPOCH). */
  epoch: number;
  annotations: Record<string, string>;
  /** Build without the layer cache (the second build of --check-reproducible). */
  noCache: boolean;
  log: WriteStream;
  onOutput?: (chunk: string) => void;
}

export interface Builder {
  name: 'buildah' | 'podman' | 'docker' | 'apptainer' | 'podman-hpc';
  /** undefined when usable; otherwise what is missing and how to get it. */
  missing(): string | undefined;
  build(req: BuildRequest): Promise<void>;
  /** Copy the image into an OCI image layout under `refName` (blobs shared between images). */
  exportOci(tag: string, layoutDir: string, refName: string, log: WriteStream): Promise<void>;
  /** Uncompressed size in bytes. */
  imageSize(tag: string): Promise<number>;
  /** Remove the image from the builder's storage (used for failed or replaced builds). */
  remove(tag: string): Promise<void>;
}

const SETUP_HINT = 'run scripts/setup-host.sh as root (Debian/Ubuntu) to install buildah, podman, runc, skopeo and umoci';

/** buildah build flags shared with podman (same engine underneath). */
function budArgs(req: BuildRequest, extra: string[]): string[] {
  return [
    ...extra,
    '--layers',
    ...(req.noCache ? ['--no-cache'] : []),
    '--timestamp',
    String(req.epoch),
    ...Object.entries(req.annotations).flatMap(([k, v]) => ['--annotation', `${k}=${v}`]),
    '-t',
    req.tag,
    '-f',
    req.containerfile,
    req.contextDir,
  ];
}

async function buildOrExplain(cmd: string, args: string[], req: BuildRequest): Promise<void> {
  const r = await run(cmd, args, { cwd: req.contextDir, log: req.log, onOutput: req.onOutput, env: { ...process.env, SOURCE_DATE_EPOCH: String(req.epoch) } });
  if (r.code !== 0) {
    throw new BrickyardError('BUILD_FAILED', `${cmd} could not build ${req.tag} (exit ${r.code}); the end of the build log:\n${tail(r.stdout + r.stderr, 30)}`, {
      hint: `the whole log is in ${req.log.path as string}`,
    });
  }
}

class Buildah implements Builder {
  readonly name = 'buildah' as const;
  missing(): string | undefined {
    return which('buildah') ? undefined : `buildah is not installed: ${SETUP_HINT}`;
  }
  async build(req: BuildRequest): Promise<void> {
    // chroot isolation: no OCI runtime or cgroups needed (crun fails on these hosts' hybrid cgroups).
    await buildOrExplain('buildah', budArgs(req, ['bud', '--isolation', 'chroot']), req);
  }
  async exportOci(tag: string, layoutDir: string, refName: string, log: WriteStream): Promise<void> {
    await runOk('buildah', ['push', '--quiet', tag, `oci:${layoutDir}:${refName}`], { log, what: `buildah push ${tag} to the OCI layout` });
  }
  async imageSize(tag: string): Promise<number> {
    // buildah prints sizes for people ("870 MB"); podman reads the same storage and gives bytes.
    if (which('podman')) {
      const r = await run('podman', ['image', 'inspect', '--format', '{{.Size}}', tag]);
      if (r.code === 0 && /^\d+$/.test(r.stdout.trim())) return Number(r.stdout.trim());
    }
    const r = await runOk('buildah', ['images', '--json', tag]);
    const size = (JSON.parse(r.stdout) as { size?: string | number }[])[0]?.size;
    return typeof size === 'number' ? size : parseHumanSize(String(size));
  }
  async remove(tag: string): Promise<void> {
    await run('buildah', ['rmi', tag]);
  }
}

class Podman implements Builder {
  readonly name: 'podman' | 'podman-hpc';
  private readonly cmd: string;
  constructor(name: 'podman' | 'podman-hpc') {
    this.name = name;
    this.cmd = name;
  }
  missing(): string | undefined {
    if (which(this.cmd)) return undefined;
    return this.name === 'podman-hpc'
      ? "podman-hpc is NERSC's wrapper and exists only on Perlmutter login nodes: build there, or build with buildah elsewhere and transfer the image"
      : `podman is not installed: ${SETUP_HINT}`;
  }
  async build(req: BuildRequest): Promise<void> {
    await buildOrExplain(this.cmd, budArgs(req, ['build', '--isolation', 'chroot']), req);
  }
  async exportOci(tag: string, layoutDir: string, refName: string, log: WriteStream): Promise<void> {
    await runOk(this.cmd, ['push', '--quiet', tag, `oci:${layoutDir}:${refName}`], { log });
  }
  async imageSize(tag: string): Promise<number> {
    const r = await runOk(this.cmd, ['image', 'inspect', '--format', '{{.Size}}', tag]);
    return Number(r.stdout.trim());
  }
  async remove(tag: string): Promise<void> {
    await run(this.cmd, ['rmi', tag]);
  }
}

class Docker implements Builder {
  readonly name = 'docker' as const;
  missing(): string | undefined {
    if (!which('docker')) return 'docker is not installed (the build hosts use buildah; install docker.io and start dockerd to use this builder)';
    return undefined;
  }
  async build(req: BuildRequest): Promise<void> {
    const args = ['build', '--network', 'host', ...(req.noCache ? ['--no-cache'] : []), '--build-arg', `SOURCE_DATE_EPOCH=${req.epoch}`];
    for (const [k, v] of Object.entries(req.annotations)) args.push('--label', `${k}=${v}`);
    args.push('-t', req.tag, '-f', req.containerfile, req.contextDir);
    const r = await run('docker', args, { log: req.log, onOutput: req.onOutput, env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    if (r.code !== 0) {
      const daemon = r.stderr.includes('Cannot connect to the Docker daemon');
      throw new BrickyardError(
        daemon ? 'TOOL_MISSING' : 'BUILD_FAILED',
        daemon ? 'docker is installed but no Docker engine is running' : `docker build of ${req.tag} failed:\n${tail(r.stdout + r.stderr, 30)}`,
        {
          hint: daemon ? 'start dockerd, or use buildah (the default builder on the build hosts)' : `the whole log is in ${req.log.path as string}`,
        },
      );
    }
  }
  async exportOci(tag: string, layoutDir: string, refName: string, log: WriteStream): Promise<void> {
    if (!which('skopeo')) throw new BrickyardError('TOOL_MISSING', 'exporting a docker image to an OCI layout needs skopeo', { hint: SETUP_HINT });
    await runOk('skopeo', ['copy', `docker-daemon:${tag}`, `oci:${layoutDir}:${refName}`], { log });
  }
  async imageSize(tag: string): Promise<number> {
    const r = await runOk('docker', ['image', 'inspect', '--format', '{{.Size}}', tag]);
    return Number(r.stdout.trim());
  }
  async remove(tag: string): Promise<void> {
    await run('docker', ['rmi', tag]);
  }
}

class Apptainer implements Builder {
  readonly name = 'apptainer' as const;
  private cmd(): string | undefined {
    return which('apptainer') ? 'apptainer' : which('singularity') ? 'singularity' : undefined;
  }
  missing(): string | undefined {
    if (this.cmd()) return undefined;
    return 'apptainer is not installed, and Debian does not package it: build the OCI image with buildah here and convert it on the site (apptainer build x.sif oci-archive:x.tar), or install Apptainer from its releases where that is allowed';
  }
  async build(req: BuildRequest): Promise<void> {
    // Apptainer builds a SIF file from the definition, in the context folder (its %files paths are relative).
    const sif = `${req.contextDir}/image.sif`;
    await buildOrExplain(this.cmd() ?? 'apptainer', ['build', '--force', '--fakeroot', sif, req.apptainerDef], { ...req, contextDir: req.contextDir });
  }
  exportOci(tag: string): Promise<void> {
    return Promise.reject(
      new BrickyardError('USAGE', `${tag} is a SIF file, not an OCI image: it is not added to the OCI layout`, { hint: 'build with buildah for an OCI layout' }),
    );
  }
  imageSize(): Promise<number> {
    return Promise.resolve(Number.NaN);
  }
  remove(): Promise<void> {
    return Promise.resolve(); // the SIF file lives in the context folder, which goes with it
  }
}

/** "870 MB", "1.2 GB" (decimal units, as containers/storage prints them) to bytes. */
export function parseHumanSize(s: string): number {
  const m = /^([0-9.]+)\s*(B|kB|KB|MB|GB|TB)$/.exec(s.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[m[2] as 'B'];
}

export function builderFor(name: string): Builder {
  switch (name) {
    case 'buildah':
      return new Buildah();
    case 'podman':
    case 'podman-hpc':
      return new Podman(name);
    case 'docker':
      return new Docker();
    case 'apptainer':
      return new Apptainer();
    default:
      throw new BrickyardError('USAGE', `unknown builder ${name}`, { hint: 'one of buildah, podman, podman-hpc, docker, apptainer' });
  }
}

/** The builder for a system's policy, or a clear error saying what is missing. */
export function usableBuilder(name: string): Builder {
  const b = builderFor(name);
  const missing = b.missing();
  if (missing) throw new BrickyardError('TOOL_MISSING', missing); // each adapter's message says what to do
  return b;
}
