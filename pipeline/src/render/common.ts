/** Helpers shared by the output formats: step markers, quoting, headers. */
import type { Composition, Op, Step } from './compose.ts';

/** `# [3/9] block:openmpi: run` — written in every format, so they can be compared step by step. */
export function marker(step: Step, index: number, total: number): string {
  const note = step.comment ? ` (${oneLine(step.comment)})` : '';
  return `# [${index + 1}/${total}] ${step.origin}: ${describe(step.op)}${note}`;
}

export function describe(op: Op): string {
  switch (op.kind) {
    case 'run':
      return 'run';
    case 'packages':
      return `packages (${op.manager}${op.standIns?.length ? `; left out: ${op.standIns.join(', ')}` : ''})`;
    case 'fetch':
      return `fetch ${op.source.name} -> ${op.dest}`;
    case 'copy':
      return `copy ${op.src} -> ${op.dest}`;
    case 'env':
      return `env ${Object.keys(op.vars).join(' ')}`;
    case 'label':
      return 'labels';
    case 'user':
      return `user ${op.name}`;
    case 'workdir':
      return `workdir ${op.path}`;
    case 'entrypoint':
      return 'entrypoint';
    case 'keep':
      return `keep ${op.paths.join(' ')} (from the build stage)`;
  }
}

/** The shell commands of a step that runs at build time (run, packages, fetch check), or undefined. */
export function shellOf(op: Extract<Op, { kind: 'run' | 'packages' | 'fetch' }>): string;
export function shellOf(op: Op): string | undefined;
export function shellOf(op: Op): string | undefined {
  switch (op.kind) {
    case 'run':
      return op.script;
    case 'packages':
      return installCommand(op.manager, op.packages, op.standIns);
    case 'fetch':
      return `echo "${op.source.sha256}  ${op.dest}" | sha256sum -c -`;
    case 'copy':
      return op.mode ? `chmod ${op.mode} ${shQuote(op.dest)}` : undefined;
    default:
      return undefined;
  }
}

export function installCommand(manager: string, packages: string[], standIns: readonly string[] = []): string {
  const list = packages.join(' ');
  switch (manager) {
    // Lists, caches and logs go in the same layer: they are large, and the logs and caches hold
    // times and inode numbers that would make two builds of the same inputs differ.
    case 'apt':
      return `${standIns.map(standInCommand).join(' && ')}${standIns.length > 0 ? ' && ' : ''}apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${list} && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/cache/ldconfig/aux-cache`;
    case 'dnf':
      return `dnf install -y --setopt=install_weak_deps=False ${list} && dnf clean all && rm -rf /var/log/dnf* /var/log/hawkey.log /var/cache/ldconfig/aux-cache`;
    default:
      return `zypper --non-interactive install --no-recommends ${list} && zypper clean --all`;
  }
}

/**
 * An empty Debian package `brickyard-stand-in-NAME` that provides NAME, installed with dpkg before
 * apt runs: an unversioned hard dependency on NAME is then met without NAME and what it pulls in.
 * The stand-in stays in the package database (and so in the SBOM) and says what it replaces.
 */
export function standInCommand(name: string): string {
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(name)) throw new Error(`not a Debian package name: ${JSON.stringify(name)}`);
  const control = [
    `Package: brickyard-stand-in-${name}`,
    'Version: 1',
    'Architecture: all',
    'Maintainer: Brickyard <brickyard@localhost>',
    `Provides: ${name}`,
    `Description: empty stand-in for ${name}, left out of this image by Brickyard (leaveOut in a block runtime part)`,
  ];
  const d = `/tmp/brickyard-stand-in-${name}`;
  return `mkdir -p ${d}/DEBIAN && printf '%s\\n' ${control.map(shQuote).join(' ')} > ${d}/DEBIAN/control && dpkg-deb --root-owner-group --build ${d} ${d}.deb >/dev/null && dpkg -i ${d}.deb && rm -rf ${d} ${d}.deb`;
}

/** Stage names of a multi-stage render. */
export const BUILD_STAGE = 'build';
export const RUNTIME_STAGE = 'runtime';

/** Every step in render order: the build stage's, then the runtime stage's (markers number them as one list). */
export function allSteps(c: Composition): Step[] {
  return [...c.steps, ...(c.runtime ?? [])];
}

/** The header line of the formats that build the image (not the job script). */
export function stagesLine(c: Composition): string[] {
  return c.runtime ? [`# stages: ${BUILD_STAGE} (every step), ${RUNTIME_STAGE} (the image: runtime packages and the paths kept from ${BUILD_STAGE})`] : [];
}

export function header(c: Composition, format: string): string[] {
  const r = c.recipe;
  return [
    `# ${format} rendered by Brickyard from ${r.entry.file.rel}. Do not edit: change the recipe and render again.`,
    `# recipe: ${r.key} (revision ${r.doc.revision})${
      r.chain.length > 1
        ? `, extends ${r.chain
            .slice(1)
            .map((e) => `${e.doc.name}@${e.doc.version}`)
            .join(' -> ')}`
        : ''
    }`,
    `# system: ${c.system.id}/${c.partition.id} (${c.target.arch}, ${c.partition.cpu.model}${c.partition.gpu ? `, ${c.partition.gpu.count}x ${c.partition.gpu.model}` : ''})`,
    `# base: ${c.base.name} = ${c.base.reference}${c.base.hostBuilt ? ' (built on the build host)' : ''}`,
    ...(c.strategy ? [`# MPI: ${c.strategy.id} (${c.strategy.abi} ABI, block ${c.strategy.block})`] : []),
    `# target flags: ${c.target.cflags}`,
  ];
}

export function shQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Double-quoted, for values where $VAR expansion is wanted (ENV PATH=/opt/x/bin:$PATH). */
export function dq(s: string): string {
  return `"${s.replace(/(["\\`])/g, '\\$1')}"`;
}

export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
