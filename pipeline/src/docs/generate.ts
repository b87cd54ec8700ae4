/** Generated pages of docs/: the lint rules, and one page per system template. */
import { LINT_RULES } from '../lint/rules.ts';
import type { SystemDoc } from '../model/types.ts';

export function lintRulesPage(): string {
  const lines = [
    '# Lint rules',
    '',
    '<!-- Generated from pipeline/src/lint/rules.ts by `npm run docs`; do not edit. -->',
    '',
    '`brickyard validate` applies these rules to every recipe, block, base and system template, on',
    'top of the JSON Schemas and the reference checks. Errors fail validation (exit 1); warnings are',
    'printed and do not fail it. Each finding names its rule in brackets, e.g. `[download-pinned]`.',
    '',
    '| rule | severity | what it asks |',
    '|---|---|---|',
    ...LINT_RULES.map((r) => `| [\`${r.id}\`](#${r.id}) | ${r.severity} | ${r.summary} |`),
  ];
  for (const r of LINT_RULES) lines.push('', `## ${r.id}`, '', r.summary, '', `Why: ${r.why}`);
  return lines.join('\n') + '\n';
}

export function systemPage(s: SystemDoc): string {
  const unverified = (s.provenance ?? []).filter((p) => p.unverified);
  const lines = [
    `# ${s.name} (\`${s.id}\`)`,
    '',
    `<!-- Generated from systems/${s.id}.yaml by \`npm run docs\`; do not edit. -->`,
    '',
    s.description?.trim() ?? '',
    '',
    `- Operator: ${s.operator ?? 'n/a'}`,
    `- Production system: ${s.production ? 'yes (bases must be pinned by digest)' : 'no'}`,
    `- Scheduler: ${s.scheduler.type}${s.scheduler.version ? ` ${s.scheduler.version}` : ''}`,
    `- Interconnect: ${s.interconnect.type}${s.interconnect.provider ? ` (${s.interconnect.provider})` : ''}`,
    `- Build: ${s.policy.builder}, ${s.policy.buildWhere}, runner labels \`${s.policy.runnerLabels.join(', ')}\`, image format ${s.policy.imageFormat}`,
    ...(s.storage?.length ? [`- Bound from the host at run time: ${s.storage.map((x) => `\`${x.path}\``).join(', ')}`] : []),
    '',
    '## Partitions',
  ];
  for (const p of s.partitions) {
    lines.push(
      '',
      `### ${p.id}`,
      '',
      ...(p.description ? [p.description.trim(), ''] : []),
      `- CPU: ${p.cpu.model} (${p.cpu.arch}${p.cpu.microarch ? `, ${p.cpu.microarch}` : ''}), ${p.cpu.cores} cores per node, flags \`${p.cpu.targetFlags}\``,
      `- GPU: ${
        p.gpu
          ? `${p.gpu.count}× ${p.gpu.model} (${p.gpu.vendor}, ${p.gpu.arch}), driver ${Object.entries(p.gpu.driver)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}, toolkit block \`${p.gpu.toolkit.block}\``
          : 'none'
      }`,
      `- Runtime: ${p.runtime.type}${p.runtime.version ? ` ${p.runtime.version}` : ''} (\`${p.runtime.command}\`)`,
      `- Launcher: \`${p.launcher.template}\``,
      `- MPI strategies, in order of preference:`,
      ...p.mpi.strategies.map(
        (m) =>
          `  - \`${m.id}\`: ${m.abi} ABI, block \`${m.block}\`, PMI ${m.pmi}, expects "${m.expectLibrary}"${m.description ? `. ${m.description.trim().replace(/\s+/g, ' ')}` : ''}`,
      ),
      `- Smoke thresholds: latency (8 B) warn > ${p.smoke.mpi.latency.warn} µs, fail > ${p.smoke.mpi.latency.fail} µs; bandwidth (4 MiB) warn < ${p.smoke.mpi.bandwidth.warn} MB/s, fail < ${p.smoke.mpi.bandwidth.fail} MB/s (${p.smoke.mpi.nodes} node(s) × ${p.smoke.mpi.ranksPerNode} rank(s))`,
    );
  }
  lines.push(
    '',
    '## Sources',
    '',
    ...Object.entries(s.sources).map(([id, src]) => `- \`${id}\` (${src.kind}, as of ${src.asOf}): ${src.title ? `${src.title}, ` : ''}<${src.url}>`),
  );
  if (unverified.length > 0) {
    lines.push('', '## Unverified values', '', ...unverified.map((u) => `- \`${u.path}\`${u.note ? `: ${u.note.trim().replace(/\s+/g, ' ')}` : ''}`));
  }
  return lines.join('\n') + '\n';
}
