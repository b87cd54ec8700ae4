/**
 * The site executable (scripts/build-sea.ts), built for this machine and run the way a secure
 * site runs it: from a folder holding nothing else, with no Node on PATH, offline (`unshare -n`).
 * It verifies and imports the main job's bundle (.brickyard/bundles/local-N.tar with its
 * .brickyard/site-policy.yaml, when `npm start` has run in this checkout; otherwise a bundle
 * made here the same way: development Sigstore signer, site policy), and on bad input it says
 * what the npm CLI says, with the same exit code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSiteBundle } from '../../scripts/lib/bench-state.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { canUnshare, expectCheckAndImportAsNpm, siteTools, type SiteTools } from '../helpers/sea.ts';

let work: string;
let sea: SiteTools['sea'];
let npm: SiteTools['npm'];
let binDir: string;
let bundle: string;
let policy: string;

/** The main job's bundle and policy, when this checkout has them. */
function mainJobBundle(): { tar: string; policy: string } | undefined {
  const state = join(repoRoot, '.brickyard');
  const policyPath = join(state, 'site-policy.yaml');
  const bundles = existsSync(join(state, 'bundles')) ? readdirSync(join(state, 'bundles')).filter((n) => /^local-\d+\.tar$/.test(n)) : [];
  if (!existsSync(policyPath) || bundles.length === 0) return undefined;
  return { tar: join(state, 'bundles', bundles.sort().at(-1)!), policy: policyPath };
}

describe.skipIf(!canUnshare)('the site executable (Node SEA)', () => {
  beforeAll(async () => {
    work = tempDir('brickyard-sea-');
    ({ sea, npm, binDir } = await siteTools(work));
    const main = mainJobBundle();
    if (main) ({ tar: bundle, policy } = main);
    else ({ tar: bundle, policy } = await makeSiteBundle(work, { baseMiB: 24, images: 2 }));
  }, 600_000);

  it('runs with no Node anywhere on PATH: --version and --help list only the site commands', () => {
    expect(spawnSync('unshare', ['-n', 'env', '-i', `PATH=${binDir}`, '/bin/sh', '-c', 'command -v node || echo none'], { encoding: 'utf8' }).stdout.trim()).toBe('none');
    const v = sea(['--version']);
    expect(v).toMatchObject({ code: 0, stdout: /"version": "([^"]+)"/.exec(readFileSync(join(repoRoot, 'package.json'), 'utf8'))![1]! + '\n' });
    const help = sea(['--help']).stdout;
    for (const c of ['verify', 'check-bundle', 'import', 'inventory', 'audit', 'admit', 'smoke', 'site']) expect(help).toMatch(new RegExp(`^  ${c} `, 'm'));
    for (const c of ['build', 'bundle', 'render', 'run']) expect(help).not.toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('check-bundle and import the bundle offline, as the npm CLI does', () => {
    expectCheckAndImportAsNpm({ sea, npm, binDir }, bundle, policy);
    const audit = sea(['audit', '--store', 'store-sea']);
    expect(audit).toMatchObject({ code: 0, stdout: expect.stringMatching(/^audit log intact: 1 entry\n$/) });
    expect(audit).toEqual(npm(['audit', '--store', 'store-npm']));
    expect(JSON.parse(sea(['inventory', '--store', 'store-sea']).stdout).blobs).toEqual(JSON.parse(npm(['inventory', '--store', 'store-npm']).stdout).blobs);
    // The same bundle again is a rollback for both.
    const again = sea(['import', bundle, '--policy', policy, '--store', 'store-sea']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/\[ROLLBACK\]/);
  });

  it("refuses a bundle with one byte changed, with the npm CLI's error and exit code", () => {
    const forged = join(work, 'forged.tar');
    const bytes = readFileSync(bundle);
    bytes[Math.floor(bytes.length / 2)]! ^= 1;
    writeFileSync(forged, bytes);
    const r = sea(['check-bundle', forged, '--policy', policy]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^brickyard: .*\[BUNDLE_MISMATCH\]/);
    expect(r).toEqual(npm(['check-bundle', forged, '--policy', policy]));
  });

  it("bad input: an unreadable bundle, a policy with a typo, a full disk — the npm CLI's errors and exit codes", () => {
    const missing = sea(['check-bundle', 'no-such.tar', '--policy', policy]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such\.tar/);
    expect(missing).toEqual(npm(['check-bundle', 'no-such.tar', '--policy', policy]));

    mkdirSync(join(work, 'site'), { recursive: true }); // made here only with a bundle made here
    const typo = join(work, 'site', 'typo-policy.yaml');
    writeFileSync(typo, readFileSync(policy, 'utf8').replace('signers:', 'singers:'));
    const t = sea(['check-bundle', bundle, '--policy', typo]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/typo-policy\.yaml:\d+/);
    expect(t.stderr).toMatch(/singers/);
    expect(t).toEqual(npm(['check-bundle', bundle, '--policy', typo]));

    const full = join(work, 'full');
    mkdirSync(full);
    const f = sea(['import', bundle, '--policy', policy, '--store', join(full, 'store')], full);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/\[DISK_FULL\]\n {2}hint: free space there/);
    expect(f).toEqual(npm(['import', bundle, '--policy', policy, '--store', join(full, 'store')], full));
  });
});
