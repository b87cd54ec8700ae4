/** What the site's pages share: the pair model, paths, badges and small formatters. */
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import type { Fit } from '../check/fit.ts';
import type { PartitionDoc, SystemDoc } from '../model/types.ts';
import type { Rendered } from '../render/index.ts';
import { InternalError } from '../util/errors.ts';
import type { Workspace } from '../workspace.ts';
import { html, slug, type Html } from './html.ts';
import { pairKey, type BuildInfo, type Signature, type SiteState, type SmokeInfo } from './state.ts';

export interface Pair {
  recipe: ResolvedRecipe;
  system: SystemDoc;
  partition: PartitionDoc;
  fit: Fit;
  rendered: Rendered | undefined;
  renderError: string | undefined;
  builds: BuildInfo[];
  smokes: SmokeInfo[];
  signatures: Signature[];
}

export interface Ctx {
  ws: Workspace;
  state: SiteState;
  recipes: ResolvedRecipe[];
  partitions: { system: SystemDoc; partition: PartitionDoc }[];
  pairs: Map<string, Pair>;
  footer: Html;
}

/** The pair of a recipe and a partition: buildSite makes one for every recipe × partition. */
export function pairOf(pairs: ReadonlyMap<string, Pair>, recipe: ResolvedRecipe, system: SystemDoc, partition: PartitionDoc): Pair {
  const pair = pairs.get(pairKey(recipe.key, system.id, partition.id));
  if (!pair) throw new InternalError(`the site has no pair for ${recipe.key} on ${system.id}/${partition.id}`);
  return pair;
}

export function recipeDir(r: ResolvedRecipe): string {
  return `recipes/${slug(r.doc.name)}/${slug(r.doc.version)}`;
}

export function pairSlug(s: SystemDoc, p: PartitionDoc): string {
  return `${slug(s.id)}-${slug(p.id)}`;
}

export function verdictClass(v: string): string {
  return { PASSED: 'ok', WARNED: 'warn', FAILED: 'bad', SKIPPED: 'skip' }[v] ?? 'skip';
}

export function badge(text: string, cls: string, title?: string): Html {
  return html`<span class="badge ${cls}"${title ? html` title="${title}"` : ''}>${text}</span>`;
}

export function fmtNumber(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A date and time as `2026-11-28 19:23 UTC` (the records hold ISO 8601). */
export function fmtWhen(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function shortDigest(d: string): string {
  return d.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, '$1…');
}

/** The smoke report that speaks for a pair: the one through the scheduler when there is one. */
export function mainSmoke(smokes: SmokeInfo[]): SmokeInfo | undefined {
  return smokes.find((s) => s.launcher === 'slurm') ?? smokes[0];
}

export function mpiFigures(s: SmokeInfo): string | undefined {
  const t = s.tests.find((x) => x.latencyUs !== undefined || x.bandwidthMBps !== undefined);
  if (!t) return undefined;
  const parts = [];
  if (t.latencyUs !== undefined) parts.push(`${fmtNumber(t.latencyUs)} µs`);
  if (t.bandwidthMBps !== undefined) parts.push(`${fmtNumber(t.bandwidthMBps, 0)} MB/s`);
  return parts.join(' · ');
}

export function gpuVerdict(s: SmokeInfo): string | undefined {
  return s.tests.find((t) => t.kind === 'gpu-check')?.verdict;
}

export function gpuText(p: PartitionDoc): string {
  return p.gpu ? `${p.gpu.count}× ${p.gpu.model} (${p.gpu.arch})` : 'no GPU';
}

/** The status of a pair for the index's filter: fits nowhere / not built / the smoke result. */
export function pairStatus(p: Pair): 'no-fit' | 'not-built' | 'built' | 'passed' | 'warned' | 'failed' {
  if (!p.fit.fits) return 'no-fit';
  if (p.builds.length === 0) return 'not-built';
  const s = mainSmoke(p.smokes);
  return s ? (({ PASSED: 'passed', WARNED: 'warned', FAILED: 'failed' } as Record<string, 'passed' | 'warned' | 'failed' | undefined>)[s.result] ?? 'built') : 'built';
}

/**
 * A description as paragraphs: blank lines separate them, indented blocks stay preformatted,
 * `code` becomes <code>. Everything else is plain, escaped text (no Markdown beyond this).
 */
export function prose(text: string): Html {
  const inline = (t: string): Html => html`${t.split('`').map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : part))}`;
  return html`${text
    .trim()
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((l) => /^ {2,}/.test(l))) {
        const indent = Math.min(...lines.map((l) => l.search(/[^ ]|$/)));
        return html`<pre class="block">${lines.map((l) => l.slice(indent)).join('\n')}</pre>`;
      }
      return html`<p>${inline(lines.map((l) => l.trim()).join(' '))}</p>`;
    })}`;
}

/** A command to copy: a labelled <pre> and a button that site.js wires to the clipboard. */
export function copyable(label: string, text: string): Html {
  return html`<div class="copy"><pre class="cmd" aria-label="${label}"><code>${text}</code></pre><button type="button" class="copy-btn" hidden>Copy</button></div>`;
}
