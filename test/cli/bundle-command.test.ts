/**
 * The site commands as a site runs them (`brickyard import`, `check-bundle`), through the CLI's
 * main in this process with a Sigstore-signed bundle (development CA): each fault of issue 17
 * ends with its code, its exit status and a hint — never "internal error" — and the store hashes
 * the same. What is about the process (exit statuses as a shell sees them, a policy given as a
 * FIFO) or needs root (a read-only store, a full disk) is in bundle-command.e2e.test.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, it } from 'vitest';
import { tempDir } from '../helpers/fixture.ts';
import { sha256 } from '../bundle/fixture.ts';
import { refusedBy, siteFixture } from './site-cli-fixture.ts';

let policy: string;
let bundle: string;

beforeAll(async () => {
  ({ policy, bundle } = await siteFixture());
}, 120_000);

describe('brickyard import / check-bundle under faults', () => {
  it('a trusted root that is a folder, or not JSON though pinned: TRUSTED_ROOT_INVALID, exit 2', async () => {
    const dir = tempDir('brickyard-cli-');
    mkdirSync(join(dir, 'root-folder'));
    await refusedBy(['check-bundle', bundle, '--policy', policy, '--trusted-root', join(dir, 'root-folder')], 'TRUSTED_ROOT_INVALID', 2, dir);
    writeFileSync(join(dir, 'trusted_root.json'), 'not json at all');
    const p2 = join(dir, 'site-policy.yaml');
    writeFileSync(
      p2,
      readFileSync(policy, 'utf8')
        .replace(/sha256: .*/, `sha256: ${sha256('not json at all')}`)
        .replace(/path: .*/, 'path: trusted_root.json'),
    );
    const store = join(dir, 'store');
    await refusedBy(['import', bundle, '--policy', p2, '--store', store], 'TRUSTED_ROOT_INVALID', 2, dir);
    await refusedBy(['import', bundle, '--policy', policy, '--store', store, '--trusted-root', join(dir, 'missing.json')], 'TRUSTED_ROOT_INVALID', 2, dir);
  }, 60_000);

  it('a YAML alias bomb in the policy: POLICY_INVALID, exit 2', async () => {
    const dir = tempDir('brickyard-cli-');
    const bomb = join(dir, 'site-policy.yaml');
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)];
    writeFileSync(bomb, readFileSync(policy, 'utf8') + lines.join('\n') + '\n');
    await refusedBy(['import', bundle, '--policy', bomb, '--store', join(dir, 'store')], 'POLICY_INVALID', 2, dir);
  }, 60_000);
});
