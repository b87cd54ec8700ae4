/** state/layout.ts: the one spelling of the state folder's paths, and the engine's writers using it. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairDir } from '../../pipeline/src/build/build.ts';
import { devSignerDir } from '../../pipeline/src/sign/dev-signer.ts';
import { tuneDir } from '../../pipeline/src/smoke/tune.ts';
import { defaultStateDir, pairFolder, pairLayout, smokeLauncherOf, stateLayout, tuneFolder, TUNE_RECORD } from '../../pipeline/src/state/layout.ts';
import { recipe, where } from '../helpers/received-build.ts';

describe('the state folder layout', () => {
  it('spells every top-level folder under the state folder', () => {
    expect(stateLayout('/s')).toEqual({
      root: '/s',
      builds: '/s/builds',
      oci: '/s/oci',
      ociIndex: '/s/oci/index.json',
      cache: '/s/cache',
      devSigner: '/s/dev-signer',
      tune: '/s/tune',
      publish: '/s/publish',
      bundleManifest: '/s/bundle/manifest.json',
      bundles: '/s/bundles',
      bundleSerials: '/s/bundle-serials.json',
    });
    expect(defaultStateDir('/repo')).toBe('/repo/.brickyard');
  });

  it("spells a pair's folder and every file in it", () => {
    const p = pairLayout('/s', { recipe: 'mpi-pingpong@1.0.0', system: 'local', partition: 'debug' });
    const dir = '/s/builds/mpi-pingpong@1.0.0/local-debug';
    expect(p.dir).toBe(dir);
    expect([p.buildRecord, p.buildLog, p.lock, p.sbom, p.containerfile, p.apptainerDef, p.jobScript]).toEqual(
      ['build.json', 'build.log', 'lock.json', 'sbom.spdx.json', 'Containerfile', 'apptainer.def', 'job.sh'].map((f) => join(dir, f)),
    );
    expect([p.provenance, p.sbomStatement, p.context, p.slurm, p.sifWork, p.sifWorkSecond]).toEqual(
      ['provenance.intoto.json', 'sbom.intoto.json', 'context', 'slurm', 'sif-work', 'sif-work-second'].map((f) => join(dir, f)),
    );
    expect(p.sif('x_1.0-1_local-debug')).toBe(join(dir, 'x_1.0-1_local-debug.sif'));
    expect(p.smokeReport('slurm')).toBe(join(dir, 'smoke-slurm.json'));
    expect(p.testResult('sif')).toBe(join(dir, 'test-result-sif.intoto.json'));
    expect(pairFolder(dir)).toMatchObject({ dir, buildRecord: p.buildRecord });
  });

  it('is what build, sign and tune use', () => {
    expect(pairDir('/s', recipe, where)).toBe(pairLayout('/s', { recipe: recipe.key, system: where.system.doc.id, partition: where.partition.id }).dir);
    expect(devSignerDir('/s')).toBe(stateLayout('/s').devSigner);
    expect(tuneDir('/s', recipe, where)).toBe(tuneFolder('/s', { recipe: recipe.key, system: 'local', partition: 'debug' }));
    expect(join(tuneDir('/s', recipe, where), TUNE_RECORD)).toBe(`/s/tune/${recipe.key}/local-debug/tune.intoto.json`);
  });

  it('reads the launcher from a smoke report name, and nothing from any other name', () => {
    expect(smokeLauncherOf('smoke-direct.json')).toBe('direct');
    expect(smokeLauncherOf('smoke-slurm.json')).toBe('slurm');
    for (const name of ['smoke-.json', 'smoke-direct.json.bak', 'smoke-../x.json', 'smoke-Direct.json', 'test-result-direct.intoto.json', 'build.json']) {
      expect(smokeLauncherOf(name)).toBeUndefined();
    }
  });
});
