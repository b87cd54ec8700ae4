/** The one serial rule (pipeline/src/transfer/serial.ts) behind `brickyard bundle`, the main job and the publish action. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextSerial, runNumberFloor, SERIALS_FILE } from '../../pipeline/src/transfer/serial.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';

const LOCAL = {};
const ACTIONS = (run: string) => ({ GITHUB_ACTIONS: 'true', GITHUB_RUN_NUMBER: run });

describe('nextSerial', () => {
  it('outside GitHub Actions: one more than the state folder counter, per repository, recorded', () => {
    const state = tempDir('brickyard-serial-');
    expect(nextSerial(state, 'example/a', LOCAL)).toBe(1);
    expect(nextSerial(state, 'example/a', LOCAL)).toBe(2);
    expect(nextSerial(state, 'example/b', LOCAL)).toBe(1);
    expect(JSON.parse(readFileSync(join(state, SERIALS_FILE), 'utf8'))).toEqual({ 'example/a': 2, 'example/b': 1 });
    // a run number outside Actions counts for nothing
    expect(nextSerial(state, 'example/a', { GITHUB_RUN_NUMBER: '500' })).toBe(3);
  });

  it('in GitHub Actions a fresh state folder starts at the run number; a second bundle in the same job still grows', () => {
    const state = tempDir('brickyard-serial-');
    expect(nextSerial(state, 'example/a', ACTIONS('17'))).toBe(17);
    expect(nextSerial(state, 'example/a', ACTIONS('17'))).toBe(18);
    // a later run whose number is below the counter: the counter wins (serials never go back)
    expect(nextSerial(state, 'example/a', ACTIONS('5'))).toBe(19);
    expect(nextSerial(state, 'example/a', ACTIONS('40'))).toBe(40);
  });

  it('a run number that is not a positive whole number is no floor', () => {
    for (const bad of ['0', '-3', '1e3', '', 'x', '007', '99999999999999999']) expect(runNumberFloor(ACTIONS(bad)), bad).toBe(0);
    expect(runNumberFloor(ACTIONS('12'))).toBe(12);
    expect(runNumberFloor({ GITHUB_ACTIONS: 'false', GITHUB_RUN_NUMBER: '12' })).toBe(0);
  });

  it('a counter file that is not JSON is refused, naming it, and left as it was', () => {
    const state = tempDir('brickyard-serial-');
    writeFileSync(join(state, SERIALS_FILE), '{"example/a": 4');
    expect(() => nextSerial(state, 'example/a', LOCAL)).toThrow(BrickyardError);
    expect(() => nextSerial(state, 'example/a', LOCAL)).toThrow(new RegExp(`${SERIALS_FILE.replace('.', '\\.')} is not a valid bundle serials file: it is not JSON`));
    expect(readFileSync(join(state, SERIALS_FILE), 'utf8')).toBe('{"example/a": 4');
  });

  it('a counter that is not a whole number is refused, naming the repository, and left as it was', () => {
    const state = tempDir('brickyard-serial-');
    writeFileSync(join(state, SERIALS_FILE), '{"example/a": "41"}');
    expect(() => nextSerial(state, 'example/a', LOCAL)).toThrow(/bundle-serials\.json is not a valid bundle serials file: field example\/a must be integer/);
    expect(readFileSync(join(state, SERIALS_FILE), 'utf8')).toBe('{"example/a": "41"}');
  });
});
