/**
 * Checked before a build: does the base image's compiler accept the partition's target flags,
 * and does the vendor publish the chosen toolkit release for the base image? Both answers come
 * from catalog/toolchains.yaml (data), never from code here.
 */
import type { Catalog } from '../catalog/load.ts';
import type { BaseDoc, ParamValue, PartitionDoc, ToolchainsDoc } from '../model/types.ts';

const TARGET_FLAG = /^-m(arch|cpu|tune)=/;

/** Why a compiler refuses some flags, or nothing when it accepts them all. */
export function refusedFlags(toolchains: ToolchainsDoc, compiler: NonNullable<BaseDoc['compiler']>, flags: string): string[] {
  const table = toolchains.compilers[compiler.name]?.targets ?? {};
  const out: string[] = [];
  for (const flag of flags.split(/\s+/).filter((f) => TARGET_FLAG.test(f))) {
    const ranges = table[flag];
    if (!ranges) out.push(`${flag} is not in catalog/toolchains.yaml for ${compiler.name}: add the releases that accept it, with a source`);
    else if (!ranges.some((r) => inRange(compiler.version, r))) {
      out.push(`${flag} is not accepted by ${compiler.name} ${compiler.version} (accepted by ${ranges.join(', ')})`);
    }
  }
  return out;
}

export interface TargetChoice {
  /** The flags to build with: the first of targetFlags and targetFlagsFallback the compiler accepts. */
  flags: string;
  /** Set when none is accepted: what the compiler refuses in targetFlags. */
  problem: string | undefined;
}

/** The partition's target flags for a base, falling back in the template's order. */
export function chooseTargetFlags(cat: Catalog, part: PartitionDoc, baseName: string, cpuTarget: 'partition' | 'portable' = 'partition'): TargetChoice {
  const compiler = cat.bases.get(baseName)?.compiler;
  const portable = cpuTarget === 'portable' ? cat.toolchains?.portable?.[part.cpu.arch] : undefined;
  if (cpuTarget === 'portable' && portable === undefined) {
    return { flags: part.cpu.targetFlags, problem: `cpuTarget: portable, but catalog/toolchains.yaml has no portable flags for ${part.cpu.arch}` };
  }
  const wanted = portable ?? part.cpu.targetFlags;
  if (!cat.toolchains || !compiler) return { flags: wanted, problem: undefined };
  const candidates = [wanted, ...(portable ? [] : (part.cpu.targetFlagsFallback ?? []))];
  const toolchains = cat.toolchains;
  const accepted = candidates.find((f) => refusedFlags(toolchains, compiler, f).length === 0);
  if (accepted !== undefined) return { flags: accepted, problem: undefined };
  const why = refusedFlags(cat.toolchains, compiler, wanted).join('; ');
  return {
    flags: wanted,
    problem: `target flags "${wanted}" of this partition cannot be built in base ${baseName} (${why})${
      candidates.length > 1 ? ', nor can its targetFlagsFallback' : ''
    }: use a base with a newer compiler, or give the partition a targetFlagsFallback the compiler accepts`,
  };
}

/** A toolkit block whose release the vendor does not publish for the base, or undefined. */
export function toolkitProblem(cat: Catalog, block: string, params: Record<string, ParamValue>, baseName: string): string | undefined {
  const kit = cat.toolchains?.toolkits[block];
  const version = params['version'];
  if (!kit || version === undefined) return undefined;
  const bases = kit.releases[String(version)];
  if (!bases) return `${block} ${String(version)} is not in catalog/toolchains.yaml: add the bases its vendor publishes it for, with a source`;
  if (!bases.includes(baseName)) {
    const others = Object.entries(kit.releases)
      .filter(([, b]) => b.includes(baseName))
      .map(([v]) => v);
    return `${block} ${String(version)} is not published for base ${baseName} (only for ${bases.join(', ') || 'no base'})${
      others.length ? `; releases for ${baseName}: ${others.join(', ')}` : ''
    }`;
  }
  return undefined;
}

/** `12.2` in `12.0:12.2.99`, `12.3:` or `11.4:11.99` (archspec ranges, inclusive). */
export function inRange(version: string, range: string): boolean {
  const [from = '', to = ''] = range.split(':');
  // Component-wise, so that "11.99" bounds the 11 series.
  return compareDotted(version, from) >= 0 && (to === '' || compareDotted(version, to) <= 0);
}

function compareDotted(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
