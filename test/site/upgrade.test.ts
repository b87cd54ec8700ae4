/**
 * `brickyard upgrade`: the site executable travels inside a signed bundle (role `tool`), is
 * verified by the import like every entry, and is installed from the store only when newer than
 * the running one and still matching the signed manifest.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { importBundle } from '../../pipeline/src/site/store.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { findTool, toolName, upgradeTool } from '../../pipeline/src/site/upgrade.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';
import { ISSUER, makeKeys, makeState, NOW, sha256, signState, SOURCE } from '../bundle/fixture.ts';
import { exitCodeFor } from '../../pipeline/src/cli/exit-codes.ts';

const keys = await makeKeys();
const later = new Date(NOW.getTime() + 3600_000);

function policy(): string {
  const file = join(tempDir('brickyard-policy-'), 'site-policy.yaml');
  writeFileSync(
    file,
    [
      'version: 2',
      'system: local',
      `trustedRoot:\n  sha256: ${sha256(readFileSync(keys.trustedRoot))}\n  path: ${keys.trustedRoot}`,
      'signers:' +
        ['manifest', 'provenance', 'sbom', 'testResult']
          .map((role) => `\n  ${role}:\n    - identity: {repository: example/brickyard, workflow: .github/workflows/main.yml, ref: refs/heads/main}\n      issuer: ${ISSUER}`)
          .join(''),
      'require:\n  provenance: true\n  sbom: true\n  smoke: true',
      'licenses: [Apache-2.0, MIT]',
      'maxAgeDays: 30',
    ].join('\n') + '\n',
  );
  return file;
}

/** A store holding one imported bundle (serial `serial`) that carries an executable of `version`. */
async function storeWithTool(version: string, store = tempDir('brickyard-store-'), serial = 1): Promise<{ store: string; bytes: Buffer }> {
  const exe = join(tempDir('brickyard-exe-'), toolName(process.arch));
  const bytes = Buffer.from(`#!/bin/sh\necho ${version}\n`);
  writeFileSync(exe, bytes);
  const out = join(tempDir('brickyard-bundle-'), 'b.tar');
  const state = makeState('local', [{ recipe: 'demo', version: '1.0', layer: String(serial) }]);
  await signState(state, keys.dev);
  await writeBundle({ stateDir: state, system: 'local', out, signer: keys.signer, serial, source: SOURCE, now: NOW, tools: [{ path: exe, version }] });
  await importBundle({ bundlePath: out, policy: loadPolicy(policy()), store, verifier: keys.verifier, now: later });
  return { store, bytes };
}

function refusal(f: () => unknown): BrickyardError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BrickyardError);
    return e as BrickyardError;
  }
  throw new Error('expected a refusal');
}

describe('upgrade of the site executable', () => {
  it('installs the newer executable from the newest bundle, atomically, as signed', async () => {
    const { store, bytes } = await storeWithTool('0.2.0');
    const found = findTool(store, process.arch)!;
    expect(found.entry).toMatchObject({ path: `tool/${toolName(process.arch)}`, role: 'tool', version: '0.2.0', sha256: sha256(bytes) });
    const target = join(tempDir('brickyard-bin-'), 'brickyard');
    writeFileSync(target, 'the old tool');
    const r = upgradeTool(store, { to: target, currentVersion: '0.1.0' });
    expect(r).toMatchObject({ from: '0.1.0', to: '0.2.0', serial: 1, sha256: sha256(bytes), installed: target });
    expect(readFileSync(target)).toEqual(bytes);
    expect(statSync(target).mode & 0o777).toBe(0o755);
  });

  it('refuses an executable that is not newer (rollback), leaving the installed one', async () => {
    const { store } = await storeWithTool('0.1.0');
    const target = join(tempDir('brickyard-bin-'), 'brickyard');
    writeFileSync(target, 'the installed tool');
    for (const current of ['0.1.0', '0.2.0']) {
      const e = refusal(() => upgradeTool(store, { to: target, currentVersion: current }));
      expect(e.code).toBe('ROLLBACK');
      expect(exitCodeFor(e.code)).toBe(1);
    }
    expect(readFileSync(target, 'utf8')).toBe('the installed tool');
  });

  it('refuses an executable changed in the store after the import (nearest forgery), leaving the installed one', async () => {
    const { store } = await storeWithTool('0.2.0');
    const { file } = findTool(store, process.arch)!;
    chmodSync(file, 0o644);
    const forged = readFileSync(file);
    forged[forged.length - 2]! ^= 1;
    writeFileSync(file, forged);
    const target = join(tempDir('brickyard-bin-'), 'brickyard');
    writeFileSync(target, 'the installed tool');
    const e = refusal(() => upgradeTool(store, { to: target, currentVersion: '0.1.0' }));
    expect(e.code).toBe('BUNDLE_MISMATCH');
    expect(readFileSync(target, 'utf8')).toBe('the installed tool');
  });

  it('says clearly when no imported bundle carries an executable for this architecture', async () => {
    const { store } = await storeWithTool('0.2.0');
    const e = refusal(() => upgradeTool(store, { to: join(tempDir(), 'x'), currentVersion: '0.1.0', arch: 'riscv64' }));
    expect(e.code).toBe('TOOL_NOT_IN_STORE');
    expect(e.message).toContain('brickyard-linux-riscv64');
  });
});
