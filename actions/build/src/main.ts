/** Brickyard build action: build one pair, report the image digest and a job summary. */
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { buildPair, formatBytes, pairDir } from '../../../pipeline/src/build/build.ts';
import { escapeHtml } from '../../../pipeline/src/pr/annotate.ts';
import { Workspace } from '../../../pipeline/src/workspace.ts';

export interface Inputs {
  recipe: string;
  system: string;
  root: string;
  stateDir: string;
  checkReproducible: boolean;
  workspace: string;
}

export async function run(inputs: Inputs): Promise<void> {
  try {
    const ws = Workspace.open(resolve(inputs.workspace, inputs.root));
    const where = ws.pairOn(inputs.recipe, inputs.system);
    const recipe = where.recipe;
    const stateDir = resolve(inputs.workspace, inputs.stateDir);
    const record = await core.group(`build ${recipe.key} for ${where.system.doc.id}/${where.partition.id}`, () =>
      buildPair(ws, where, { stateDir, checkReproducible: inputs.checkReproducible, onStage: (s, d) => core.info(`${s}: ${d}`) }),
    );
    core.setOutput('digest', record.image.manifestDigest);
    core.setOutput('image', record.image.reference);
    core.setOutput('oci-layout', record.image.ociLayout);
    core.setOutput('record', join(pairDir(stateDir, recipe, where), 'build.json'));
    core.setOutput('sbom', record.sbom.path);
    await core.summary
      .addHeading(`Build: ${escapeHtml(recipe.key)} for ${escapeHtml(`${where.system.doc.id}/${where.partition.id}`)}`, 3)
      .addTable([
        [
          { data: 'image', header: true },
          { data: 'digest', header: true },
          { data: 'size', header: true },
          { data: 'budget', header: true },
          { data: 'SBOM packages', header: true },
          { data: 'build time', header: true },
          { data: 'reproducible', header: true },
        ],
        [
          escapeHtml(record.image.reference),
          record.image.manifestDigest,
          formatBytes(record.sizes.uncompressedBytes),
          escapeHtml(record.sizes.budget),
          String(record.sbom.packages),
          `${record.durations['build'] ?? '?'} s`,
          record.reproducible.checked ? (record.reproducible.identical ? 'yes' : 'no') : 'not checked',
        ],
      ])
      .write();
  } catch (e) {
    core.setFailed(`brickyard build: ${(e as Error).message}`);
  }
}
