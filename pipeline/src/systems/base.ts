/** The image a logical base becomes on one system and architecture: the catalogue's pin, a site mirror, or a host-built base. */
import type { Catalog } from '../catalog/load.ts';
import type { Arch, PackageManager, SystemDoc } from '../model/types.ts';

export interface ResolvedBase {
  name: string;
  distro: string;
  release: string;
  packageManager: PackageManager;
  provides: string[];
  /** The image reference written after FROM / From:. */
  reference: string;
  /** sha256:… when the reference is pinned by digest. */
  digest: string | undefined;
  /** Set when the build host makes this base itself (the `local` system). */
  hostBuilt: { reference: string; how: string } | undefined;
  /** Where the mapping comes from: `catalog/bases.yaml` or `systems/<id>.yaml`. */
  from: string;
}

export function resolveBase(cat: Catalog, system: SystemDoc, name: string, arch: Arch): ResolvedBase | { error: string } {
  const base = cat.bases.get(name);
  if (!base) return { error: `base ${name} is not in catalog/bases.yaml` };
  const common = {
    name,
    distro: base.distro,
    release: base.release,
    packageManager: base.packageManager,
    provides: base.provides ?? [],
  };
  const override = system.bases?.[name];
  if (override && 'hostBuilt' in override) {
    return { ...common, reference: override.hostBuilt.reference, digest: undefined, hostBuilt: override.hostBuilt, from: `systems/${system.id}.yaml` };
  }
  const images = override?.images ?? base.images;
  const reference = images[arch];
  if (!reference) {
    return { error: `base ${name} has no ${arch} image${override ? ` in systems/${system.id}.yaml` : ' in catalog/bases.yaml'}` };
  }
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(reference)?.[1];
  return { ...common, reference, digest, hostBuilt: undefined, from: override ? `systems/${system.id}.yaml` : 'catalog/bases.yaml' };
}
