/**
 * The store's history (pipeline/src/site/audit.ts): `audit` and `import` make the one same
 * check, so every way of erasing or rewriting history that `audit` reports, `import` refuses —
 * with the store unchanged — and the other way round.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyStoreHistory } from '../../pipeline/src/site/audit.ts';
import { verifyAuditLog } from '../../pipeline/src/site/store.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { brickyardInProcess } from '../helpers/cli.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { expectRefusal, importInto, makeBundle, PAIRS } from './site-fixture.ts';

const node = join(repoRoot, 'node_modules', '.bin', 'node');

let seed: string | undefined;
/** A store with two imports (two audit lines), copied fresh for each case. */
async function twoImports(): Promise<string> {
  if (!seed) {
    seed = tempDir('brickyard-seed-');
    await importInto(seed, await makeBundle());
    await importInto(seed, await makeBundle(PAIRS, { serial: 2, bundleId: 'second' }));
  }
  const store = join(tempDir('brickyard-store-'), 'store');
  cpSync(seed, store, { recursive: true, verbatimSymlinks: true });
  return store;
}

function gen(store: string): string {
  return join(store, 'generations', '2');
}

function statePatch(store: string, patch: (s: Record<string, unknown>) => void): void {
  const p = join(gen(store), 'state.json');
  const s = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  patch(s);
  writeFileSync(p, JSON.stringify(s, null, 2) + '\n');
}

const tampering: [string, (store: string) => void, RegExp][] = [
  ['generation audit.log deleted', (s) => unlinkSync(join(gen(s), 'audit.log')), /audit\.log is missing, while state\.json lists 2/],
  ['audit.log emptied', (s) => writeFileSync(join(gen(s), 'audit.log'), ''), /has 0 entries; state\.json records 2/],
  [
    'last line removed',
    (s) => writeFileSync(join(gen(s), 'audit.log'), readFileSync(join(gen(s), 'audit.log'), 'utf8').split('\n')[0]! + '\n'),
    /has 1 entry; state\.json records 2/,
  ],
  [
    'last line removed and anchor removed',
    (s) => {
      writeFileSync(join(gen(s), 'audit.log'), readFileSync(join(gen(s), 'audit.log'), 'utf8').split('\n')[0]! + '\n');
      statePatch(s, (st) => delete st['auditHead']);
    },
    /has no audit head/,
  ],
  [
    'last line edited',
    (s) => writeFileSync(join(gen(s), 'audit.log'), readFileSync(join(gen(s), 'audit.log'), 'utf8').replace(/"serial":2/, '"serial":3')),
    /the last line is not the one the store recorded/,
  ],
  ['first line edited', (s) => writeFileSync(join(gen(s), 'audit.log'), readFileSync(join(gen(s), 'audit.log'), 'utf8').replace(/"serial":1/, '"serial":9')), /:2 does not chain/],
  [
    'regular file in place of the audit.log link',
    (s) => {
      const text = readFileSync(join(s, 'audit.log'), 'utf8');
      unlinkSync(join(s, 'audit.log'));
      writeFileSync(join(s, 'audit.log'), text); // the copy stays "intact" while the real log is edited
      writeFileSync(join(gen(s), 'audit.log'), '');
    },
    /audit\.log is not the link current\/audit\.log \(a regular file is in its place\)/,
  ],
  [
    'audit.log link pointing elsewhere',
    (s) => {
      unlinkSync(join(s, 'audit.log'));
      symlinkSync('/dev/null', join(s, 'audit.log'));
    },
    /is not the link current\/audit\.log \(a link to \/dev\/null/,
  ],
  [
    'state.json link replaced by a file',
    (s) => {
      const text = readFileSync(join(s, 'state.json'), 'utf8');
      unlinkSync(join(s, 'state.json'));
      writeFileSync(join(s, 'state.json'), text);
    },
    /state\.json is not the link current\/state\.json/,
  ],
  [
    "audit entries not naming the state's bundles",
    (s) => statePatch(s, (st) => (st['bundles'] as { bundleId: string }[]).reverse()),
    /names .*, but the store's bundle 1 is second/,
  ],
  [
    'current replaced by a folder',
    (s) => {
      unlinkSync(join(s, 'current'));
      cpSync(gen(s), join(s, 'current'), { recursive: true });
    },
    /current is not a link to a generation/,
  ],
  ['state.json of another generation', (s) => statePatch(s, (st) => (st['generation'] = 1)), /is not the state of generation 2/],
];

/** The next bundle (serial 3) every tampered store is offered: made once, only read. */
let third: Promise<string> | undefined;

describe('store history', () => {
  it('an intact store: audit lists every import', async () => {
    const store = await twoImports();
    expect(verifyStoreHistory(store).map((e) => e.bundleId)).toHaveLength(2);
    const r = spawnSync(node, [join(repoRoot, 'bin', 'brickyard.js'), 'audit', '--store', store], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('audit log intact: 2 entries\n');
  });

  for (const [name, tamper, message] of tampering) {
    it(`${name}: audit reports it (exit 1) and import refuses it, the store unchanged`, async () => {
      const store = await twoImports();
      tamper(store);
      expect(() => verifyAuditLog(store)).toThrow(message);
      const cli = await brickyardInProcess(['audit', '--store', store]);
      expect(cli.status, cli.stdout + cli.stderr).toBe(1);
      expect(cli.stderr).toMatch(/\[AUDIT_LOG_INVALID\]/);
      expect(cli.stderr).not.toMatch(/internal error/);
      third ??= makeBundle(PAIRS, { serial: 3, bundleId: 'third' });
      const bundle = await third;
      const e = await expectRefusal(`history: ${name}`, 'AUDIT_LOG_INVALID', store, async () => importInto(store, bundle));
      expect(e.message).toMatch(message);
    });
  }

  it('audit on a folder that is not a store says so (exit 2), and the chain of a lone log file is still checked', async () => {
    const folder = tempDir('brickyard-home-');
    const r = await brickyardInProcess(['audit', '--store', folder]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not a Brickyard store.*\[NOT_A_STORE\]/);
    const store = await twoImports();
    const copy = join(tempDir(), 'audit.log');
    writeFileSync(copy, readFileSync(join(store, 'audit.log')));
    expect(verifyAuditLog(copy)).toHaveLength(2);
    rmSync(copy);
    expect(() => verifyAuditLog(copy)).toThrow(BrickyardError);
  });
});
