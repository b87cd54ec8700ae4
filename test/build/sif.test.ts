/**
 * SIF header normalisation with the real siftool: two SIFs of the same objects made at different
 * times (siftool writes a random ID and the current time) become the same bytes, and siftool
 * still reads them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseSifHeader } from '../../pipeline/src/build/sif.ts';
import { tempDir } from '../helpers/fixture.ts';
import { missingTools } from '../helpers/services.ts';

const missing = missingTools(['siftool']);
if (missing.length && process.env['CI']) throw new Error('siftool is missing: run scripts/setup-host.sh');

function makeSif(dir: string, name: string): string {
  const def = join(dir, 'apptainer.def');
  writeFileSync(def, 'Bootstrap: docker\nFrom: debian:12\n');
  const sif = join(dir, name);
  execFileSync('siftool', ['new', sif]);
  execFileSync('siftool', ['add', sif, def, '--datatype', '1', '--filename', 'apptainer.def']);
  return sif;
}

describe.skipIf(missing.length > 0)(`SIF header normalisation${missing.length ? ' (skipped: no siftool)' : ''}`, () => {
  it('makes two SIFs of the same objects identical, with the epoch as their time, and siftool still reads them', async () => {
    const dir = tempDir('brickyard-sif-');
    const a = makeSif(dir, 'a.sif');
    await new Promise((r) => setTimeout(r, 1100)); // a different second in the header
    const b = makeSif(dir, 'b.sif');
    expect(readFileSync(a).equals(readFileSync(b))).toBe(false);
    await normaliseSifHeader(a, 1700000000);
    await normaliseSifHeader(b, 1700000000);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const header = execFileSync('siftool', ['header', a], { encoding: 'utf8' });
    expect(header).toMatch(/Created At:\s+2023-11-14 22:13:20 \+0000 UTC/);
    expect(header).toMatch(/Modified At:\s+2023-11-14 22:13:20 \+0000 UTC/);
    expect(execFileSync('siftool', ['list', a], { encoding: 'utf8' })).toMatch(/Def\.FILE/);
    expect(execFileSync('siftool', ['info', '1', a], { encoding: 'utf8' })).toMatch(/2023-11-14/);
    // The ID follows the content: another epoch gives another ID.
    await normaliseSifHeader(b, 1700000001);
    expect(/ID:\s+(\S+)/.exec(execFileSync('siftool', ['header', b], { encoding: 'utf8' }))![1]).not.toBe(/ID:\s+(\S+)/.exec(header)![1]);
  });

  it('refuses a file that is not a SIF', async () => {
    const f = join(tempDir('brickyard-sif-'), 'x.sif');
    writeFileSync(f, Buffer.alloc(4096));
    await expect(normaliseSifHeader(f, 0)).rejects.toThrow(/not a SIF file/);
  });
});
