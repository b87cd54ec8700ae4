/** Render one (recipe, system partition) pair into every format. */
import type { Catalog, Entry } from '../catalog/load.ts';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import type { MpiStrategyDoc, PartitionDoc, SystemDoc } from '../model/types.ts';
import { renderApptainer } from './apptainer.ts';
import { compose, type Composition } from './compose.ts';
import { renderContainerfile } from './containerfile.ts';
import { renderDiagram } from './diagram.ts';
import { renderJobScript } from './jobscript.ts';
import { renderLock } from './lock.ts';
import { FILE_NAMES, FORMATS, type Format } from './formats.ts';

export { FILE_NAMES, FORMATS, type Format };

export interface Rendered {
  composition: Composition;
  files: Record<Format, string>;
}

export function renderPair(cat: Catalog, recipe: ResolvedRecipe, system: Entry<SystemDoc>, partition: PartitionDoc, strategy: MpiStrategyDoc | undefined): Rendered {
  const composition = compose(cat, recipe, system, partition, strategy);
  const containerfile = renderContainerfile(composition);
  const apptainer = renderApptainer(composition);
  const jobscript = renderJobScript(composition);
  const lock = renderLock(composition, { containerfile, apptainer, jobscript });
  const diagram = renderDiagram(composition);
  return { composition, files: { containerfile, apptainer, jobscript, lock, diagram } };
}

export { compose, type Composition };
