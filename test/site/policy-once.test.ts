/**
 * The site policy is read once per import: what is enforced, what the audit log names and what
 * the admission records hash are the same bytes, whatever happens to the file after it was loaded.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importAndAdmit } from '../../pipeline/src/site/admit.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { importBundle } from '../../pipeline/src/site/store.ts';
import { tempDir } from '../helpers/fixture.ts';
import { sha256 } from '../bundle/fixture.ts';
import { keys, later, makeBundle, policyFile } from './site-fixture.ts';

/** The same policy, but no signer allowed for the manifest role's repository: it refuses the fixture's bundles. */
function refusingPolicyText(): string {
  return readFileSync(policyFile(), 'utf8').replaceAll('repository: example/brickyard', 'repository: example/other');
}

function admissionPolicyDigests(store: string, statements: string[]): string[] {
  return statements.map((s) => {
    expect(s.startsWith(store)).toBe(true);
    const st = JSON.parse(readFileSync(s, 'utf8')) as { predicate: { policy: { uri: string; digest: { sha256: string } } } };
    return st.predicate.policy.digest.sha256;
  });
}

describe('the site policy, loaded once per import', () => {
  it('a policy file replaced on disk after loading: the import enforces the loaded bytes, and the audit entry and admission records hash those bytes', async () => {
    const path = policyFile();
    const enforcedBytes = readFileSync(path);
    const loaded = loadPolicy(path);
    expect(loaded.sha256).toBe(sha256(enforcedBytes));
    // Replaced (a new inode, as an editor or a config tool would) by a policy that would refuse the bundle.
    const replacement = refusingPolicyText();
    writeFileSync(`${path}.new`, replacement);
    renameSync(`${path}.new`, path);
    expect(sha256(readFileSync(path))).not.toBe(loaded.sha256);
    // The forgery the other way round fails: loaded now, the replacement is what is enforced.
    const store = join(tempDir('brickyard-once-'), 'store');
    await expect(importBundle({ bundlePath: await makeBundle(), policy: loadPolicy(path), store, verifier: keys.verifier, now: later })).rejects.toMatchObject({
      code: 'POLICY_REFUSED',
    });

    const r = await importAndAdmit({
      bundlePath: await makeBundle(),
      policy: loaded,
      store,
      verifier: keys.verifier,
      now: later,
      siteKeyDir: join(tempDir('brickyard-once-key-'), 'key'),
    });
    expect(r.images).toBe(2);
    expect(r.policySha256).toBe(sha256(enforcedBytes));
    expect(r.auditEntry.policySha256).toBe(sha256(enforcedBytes));
    expect(r.admissions).toHaveLength(2);
    expect(
      admissionPolicyDigests(
        store,
        r.admissions.map((a) => a.statement),
      ),
    ).toEqual([sha256(enforcedBytes), sha256(enforcedBytes)]);
    expect(sha256(Buffer.from(replacement))).not.toBe(sha256(enforcedBytes));
  });

  it('the import never reads the policy file again: it succeeds with the file gone after loading', async () => {
    const dir = tempDir('brickyard-once-gone-');
    const path = policyFile({}, keys.trustedRoot, dir);
    const loaded = loadPolicy(path);
    rmSync(path);
    const store = join(dir, 'store');
    const r = await importAndAdmit({ bundlePath: await makeBundle(), policy: loaded, store, verifier: keys.verifier, now: later, siteKeyDir: join(dir, 'key') });
    expect(r.auditEntry.policySha256).toBe(loaded.sha256);
    expect(
      admissionPolicyDigests(
        store,
        r.admissions.map((a) => a.statement),
      ),
    ).toEqual(r.admissions.map(() => loaded.sha256));
    // And a load of the missing file is refused, naming it: had the import read it, it would have failed.
    expect(() => loadPolicy(path)).toThrow(new RegExp(`cannot read ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('the digest is of the bytes read, not of their decoding: bytes that are not UTF-8 in a comment hash as stored', () => {
    const path = policyFile();
    const stored = Buffer.concat([readFileSync(path), Buffer.from('# \xff\xfe\n', 'latin1')]);
    writeFileSync(path, stored);
    const loaded = loadPolicy(path);
    expect(loaded.policy.system).toBe('local');
    expect(loaded.sha256).toBe(sha256(stored));
    expect(loaded.sha256).not.toBe(sha256(stored.toString('utf8'))); // what hashing the decoded text gave
  });
});
