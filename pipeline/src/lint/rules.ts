/**
 * Lint rules from HPC centres' practice. Each has an id, a severity and the reason it exists;
 * docs/lint-rules.md is generated from this table.
 */
import type { Catalog } from '../catalog/load.ts';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import type { SourceFile } from '../catalog/source.ts';
import type { FittedPair } from '../check/fit.ts';
import type { PrimitiveDoc } from '../model/types.ts';
import { resolveBase } from '../systems/base.ts';
import type { Diagnostic, Severity } from '../util/diagnostics.ts';
import { group } from '../util/match.ts';
import { parseSize } from '../util/units.ts';

export interface LintRule {
  id: string;
  severity: Severity;
  summary: string;
  why: string;
}

export const LINT_RULES: readonly LintRule[] = [
  {
    id: 'no-data-in-image',
    severity: 'error',
    summary: 'No data files or data folders copied into the image.',
    why: 'Images are copied to every node and kept for years; data belongs on the parallel file system, bound at run time. Large images also slow down job start on thousands of nodes.',
  },
  {
    id: 'no-install-into-host-mounts',
    severity: 'error',
    summary: 'Nothing is installed under a folder a system binds from the host at run time ($HOME, scratch, project paths).',
    why: 'The bind mount hides whatever the image put there: the software silently disappears on the system (LUMI binds /scratch, /project; Alps binds /capstor, /users).',
  },
  {
    id: 'download-pinned',
    severity: 'error',
    summary: 'Every download is declared under `sources` with a sha256 and brought in by a `fetch` step; no curl, wget or git clone in run steps.',
    why: 'An unpinned download changes under you: the same recipe no longer builds the same image, and a compromised mirror goes unnoticed. Pinned sources are also what a secure site needs to rebuild offline.',
  },
  {
    id: 'pip-hashes',
    severity: 'warning',
    summary: '`pip install` pins versions and hashes (`--require-hashes` with a requirements file).',
    why: 'PyPI packages are downloads too; hashes make the Python layer reproducible and tamper-evident.',
  },
  {
    id: 'no-curl-pipe-shell',
    severity: 'error',
    summary: 'No `curl … | sh` (or wget) installers.',
    why: 'It runs whatever the server sends at build time, unverified and unrecorded.',
  },
  {
    id: 'no-latest-tag',
    severity: 'error',
    summary: 'No `latest` tags and no untagged, undigested image references.',
    why: '`latest` moves: two builds of the same revision get different bases.',
  },
  {
    id: 'base-pinned-by-digest',
    severity: 'error',
    summary: 'On production systems the base image is pinned by digest (`@sha256:…`).',
    why: 'A tag can be re-pointed; a digest cannot. Production images must be rebuildable bit for bit and their provenance must name the exact base.',
  },
  {
    id: 'license-present',
    severity: 'error',
    summary: 'Recipes state the licence of what they package (an SPDX expression, not NOASSERTION); blocks should too.',
    why: 'Sites must know what they may redistribute and run; secure sites check licences in their import policy.',
  },
  {
    id: 'size-budget',
    severity: 'error',
    summary: 'Every recipe declares a size budget (`sizeBudget`), at most 64 GiB.',
    why: 'Image size drives transfer time across the air gap, node start-up time and storage quotas; a budget makes growth visible in review.',
  },
];

const DATA_EXT = /\.(h5|hdf5|nc|nc4|netcdf|csv|tsv|parquet|npy|npz|pt|pth|ckpt|safetensors|bin|dat|raw|tar|tar\.gz|tgz|zip|sqlite|db|fits|grib2?|vtk|vtu)$/i;
const DATA_DIR = /(^|\/)(data|datasets|dataset|inputs|input-data)(\/|$)/i;
const DOWNLOAD = /\b(curl|wget)\b|\bgit\s+clone\b|\bgit\s+fetch\b/;
const PIPE_SHELL = /\b(curl|wget)\b[^\n|;]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b/;
const PIP_INSTALL = /\bpip3?\s+install\b/;
const PATHS = /(?:^|[\s=:"'])((?:\/|\$HOME|\$\{HOME\}|~\/)[A-Za-z0-9_./${}-]*)/g;

interface Mount {
  prefix: string;
  system: string;
}

/** Static prefixes of every system's host-bound storage: /scratch/{project} → /scratch. */
export function hostMounts(cat: Catalog): Mount[] {
  const mounts: Mount[] = [{ prefix: '/home', system: 'every system ($HOME)' }];
  for (const { doc } of cat.systems.values()) {
    for (const s of doc.storage ?? []) {
      const prefix = s.path.replace(/[{$][\s\S]*$/, '').replace(/\/+$/, '');
      if (prefix === '' || prefix === '/') continue;
      mounts.push({ prefix, system: `${doc.id} (${s.name})` });
    }
  }
  return mounts;
}

export function lintCatalog(cat: Catalog, resolved: Map<string, ResolvedRecipe>, pairs: readonly FittedPair[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const mounts = hostMounts(cat);
  for (const entry of cat.blocks.values()) {
    out.push(...lintSteps(entry.file, entry.doc.steps, ['steps'], mounts));
    if (!entry.doc.license)
      out.push(entry.file.diagnostic([], 'warning', 'license-present', `block ${entry.doc.name} does not state the licence of what it installs (add license: <SPDX>)`));
  }
  for (const entry of cat.recipes.values()) {
    out.push(...lintSteps(entry.file, entry.doc.steps ?? [], ['steps'], mounts));
    for (const [k, v] of Object.entries(entry.doc.environment ?? {})) {
      const hit = mountHit(String(v), mounts);
      if (hit)
        out.push(
          entry.file.diagnostic(['environment', k], 'error', 'no-install-into-host-mounts', `${k} points into ${hit.prefix}, which ${hit.system} binds from the host at run time`),
        );
    }
  }
  for (const r of resolved.values()) {
    const file = r.entry.file;
    const license = r.doc.license;
    if (license === undefined) out.push(file.diagnostic([], 'error', 'license-present', 'no licence: add license: <SPDX expression> for the software this recipe packages'));
    else if (/^(NOASSERTION|NONE)$/i.test(license))
      out.push(file.diagnostic(['license'], 'error', 'license-present', `licence ${license} tells a site nothing: give the SPDX expression of the packaged software`));
    if (r.doc.sizeBudget === undefined) out.push(file.diagnostic([], 'error', 'size-budget', 'no size budget: add sizeBudget, e.g. "2 GiB"'));
    else if (parseSize(r.doc.sizeBudget) > 64 * 2 ** 30) out.push(file.diagnostic(['sizeBudget'], 'error', 'size-budget', `size budget ${r.doc.sizeBudget} is over 64 GiB`));
  }
  // Images pinned: bases.yaml, system overrides.
  if (cat.basesFile) {
    for (const [name, base] of cat.bases) {
      for (const [arch, ref] of Object.entries(base.images)) {
        const problem = tagProblem(ref);
        if (problem) out.push(cat.basesFile.diagnostic(['bases', name, 'images', arch], 'error', 'no-latest-tag', `${ref}: ${problem}`));
      }
    }
  }
  for (const { file, doc } of cat.systems.values()) {
    for (const [name, o] of Object.entries(doc.bases ?? {})) {
      const refs = 'images' in o ? Object.entries(o.images) : [['hostBuilt', o.hostBuilt.reference] as const];
      for (const [k, ref] of refs) {
        const problem = tagProblem(ref);
        if (problem) out.push(file.diagnostic(['bases', name, ...('images' in o ? ['images', k] : ['hostBuilt', 'reference'])], 'error', 'no-latest-tag', `${ref}: ${problem}`));
      }
    }
  }
  // Production systems: the base a fitting pair would use must carry a digest.
  for (const { recipe: r, system, partition: part, fit } of pairs) {
    if (!fit.fits) continue;
    const sys = system.doc;
    if (!sys.production) continue;
    const base = resolveBase(cat, sys, r.doc.base, part.cpu.arch);
    if (!('error' in base) && !base.digest) {
      const message = `base ${r.doc.base} resolves to ${base.reference} on production system ${fit.system}/${fit.partition}: pin it by digest (@sha256:…) in ${base.from}`;
      if (base.from.startsWith('systems/')) {
        // The site's own mirror is unpinned: one finding on the system template, where the fix goes.
        out.push(
          system.file.diagnostic(
            ['bases', r.doc.base],
            'error',
            'base-pinned-by-digest',
            `base ${r.doc.base} resolves to ${base.reference} on this production system: pin it by digest (@sha256:…)`,
          ),
        );
      } else {
        const own = r.entry.doc.base !== undefined;
        out.push(r.entry.file.diagnostic(own ? ['base'] : ['extends'], 'error', 'base-pinned-by-digest', message));
      }
    }
  }
  return out;
}

function lintSteps(file: SourceFile, steps: readonly PrimitiveDoc[], at: (string | number)[], mounts: Mount[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  steps.forEach((step, i) => {
    const here = [...at, i];
    if (step.run !== undefined) {
      const script = step.run;
      const download = DOWNLOAD.exec(script);
      if (PIPE_SHELL.test(script))
        out.push(
          file.diagnostic(
            [...here, 'run'],
            'error',
            'no-curl-pipe-shell',
            'pipes a download into a shell: declare the file under sources (with its sha256), fetch it, and run it from disk',
          ),
        );
      else if (download)
        out.push(
          file.diagnostic([...here, 'run'], 'error', 'download-pinned', `downloads in a run step (${download[0]}): declare it under sources with a sha256 and use a fetch step`),
        );
      if (PIP_INSTALL.test(script) && !script.includes('--require-hashes'))
        out.push(file.diagnostic([...here, 'run'], 'warning', 'pip-hashes', 'pip install without --require-hashes: pin versions and hashes in a requirements file'));
      if (/:latest\b/.test(script)) out.push(file.diagnostic([...here, 'run'], 'error', 'no-latest-tag', 'refers to a :latest tag: pin a version or a digest'));
      for (const m of script.matchAll(PATHS)) {
        const path = group(m, 1);
        const hit = mountHit(path, mounts);
        if (hit)
          out.push(
            file.diagnostic(
              [...here, 'run'],
              'error',
              'no-install-into-host-mounts',
              `writes to ${path}, under ${hit.prefix}, which ${hit.system} binds from the host at run time: install under /opt or /usr/local`,
            ),
          );
      }
    }
    const dests: [string, (string | number)[]][] = [];
    if (step.copy) dests.push([step.copy.dest, [...here, 'copy', 'dest']]);
    if (step.fetch) dests.push([step.fetch.dest, [...here, 'fetch', 'dest']]);
    if (step.workdir) dests.push([step.workdir, [...here, 'workdir']]);
    for (const [k, v] of Object.entries(step.env ?? {})) dests.push([String(v), [...here, 'env', k]]);
    for (const [p, path] of dests) {
      for (const part of p.split(':')) {
        const hit = mountHit(part, mounts);
        if (hit) {
          out.push(
            file.diagnostic(
              path,
              'error',
              'no-install-into-host-mounts',
              `${part} is under ${hit.prefix}, which ${hit.system} binds from the host at run time: install under /opt or /usr/local`,
            ),
          );
          break;
        }
      }
    }
    if (step.copy) {
      const src = step.copy.src;
      if (DATA_EXT.test(src) || DATA_DIR.test(src)) {
        out.push(
          file.diagnostic([...here, 'copy', 'src'], 'error', 'no-data-in-image', `copies ${src}, which looks like data: keep data on the file system and bind it at run time`),
        );
      }
    }
  });
  return out;
}

function mountHit(path: string, mounts: Mount[]): Mount | undefined {
  const p = path.replace(/^(\$HOME|\$\{HOME\}|~)(?=\/|$)/, '/home');
  return mounts.find((m) => p === m.prefix || p.startsWith(m.prefix + '/'));
}

function tagProblem(ref: string): string | undefined {
  if (/:latest(@|$)/.test(ref)) return 'uses the latest tag: pin a release tag and a digest';
  const afterSlash = ref.slice(ref.lastIndexOf('/') + 1);
  if (!afterSlash.includes(':') && !ref.includes('@sha256:')) return 'has neither a tag nor a digest';
  return undefined;
}

// Its home is util/units.ts; re-exported until the importers (cli/, actions/) import it from there.
export { parseSize };
