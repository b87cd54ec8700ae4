/**
 * Admission records: for every image a site store holds, a SLSA Verification Summary signed with
 * the site's own key, saying which policy admitted it. Written after an import commits, and by
 * `brickyard admit` for any image that lacks one (after a crash between the two, say): each
 * record is its own file, renamed into place, so a rerun completes what is missing.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { vsaStatement } from '../sign/provenance.ts';
import { confined } from './confine.ts';
import { fileSystemFault } from './faults.ts';
import { requireStore } from './layout.ts';
import { exportInventory, importBundle, type ImportOptions, type ImportResult } from './store.ts';

export const SITE_VERIFIER_ID = 'https://brickyard.dev/site-verifier/v1';

export interface Admission {
  refName: string;
  statement: string;
  bundle: string;
}

/** `policy`: the policy file as loaded and enforced (its path and the sha256 of the bytes that were checked). */
export async function admit(store: string, opts: { policy: { path: string; sha256: string }; siteKeyDir?: string; now?: Date }): Promise<Admission[]> {
  const abs = resolve(store);
  requireStore(abs); // it writes into the store: never into a folder that is not one
  try {
    return await admitAll(abs, opts);
  } catch (e) {
    throw (
      fileSystemFault(e, { what: 'admit', folder: abs, unchanged: 'Imported bundles stay imported; run `brickyard admit` again to write the admission records still missing.' }) ??
      e
    );
  }
}

/**
 * The signing stack (@sigstore/sign and what it pulls in: ~0.1 s to load), loaded when first
 * asked for; an import asks at its start, so that it loads while the bundle is read and hashed.
 */
let signing: Promise<[typeof import('../sign/attest.ts'), typeof import('../sign/site-key.ts')]> | undefined;
const signingStack = (): NonNullable<typeof signing> => (signing ??= Promise.all([import('../sign/attest.ts'), import('../sign/site-key.ts')]));

async function admitAll(abs: string, opts: { policy: { path: string; sha256: string }; siteKeyDir?: string; now?: Date }): Promise<Admission[]> {
  const [{ attest, writeBundle }, { loadOrCreateSiteKey }] = await signingStack();
  const key = loadOrCreateSiteKey(opts.siteKeyDir ?? join(abs, '.site-key'));
  const policy = { uri: pathToFileURL(resolve(opts.policy.path)).href, digest: { sha256: opts.policy.sha256 } };
  const written: Admission[] = [];
  for (const image of exportInventory(abs).images) {
    // The names come from the store's state (checked against the schema's patterns at import); confined all the same.
    const dir = confined(abs, 'admissions', image.bundleId);
    const statementPath = confined(dir, `${image.refName}.vsa.intoto.json`);
    const bundlePath = confined(dir, `${image.refName}.vsa.sigstore.json`);
    if (existsSync(bundlePath)) continue;
    const hex = image.manifestDigest.replace(/^sha256:/, '');
    const statement = vsaStatement(
      { name: image.refName, digest: { sha256: hex } },
      {
        verifier: { id: SITE_VERIFIER_ID },
        timeVerified: (opts.now ?? new Date()).toISOString(),
        resourceUri: `pkg:oci/${image.recipe}@sha256%3A${hex}`,
        policy,
        verificationResult: 'PASSED',
        verifiedLevels: ['BRICKYARD_SITE_POLICY'],
      },
    );
    mkdirSync(dir, { recursive: true });
    writeFileSync(statementPath, JSON.stringify(statement, null, 2) + '\n');
    writeBundle(bundlePath, await attest(statement, key));
    written.push({ refName: image.refName, statement: statementPath, bundle: bundlePath });
  }
  return written;
}

/**
 * Import a bundle, then sign an admission record for each image it admitted, against the very
 * policy bytes the import enforced (the one LoadedPolicy both are given; the file is not read
 * again): the one use case behind `import`, the main job and actions.
 */
export async function importAndAdmit(opts: ImportOptions & { siteKeyDir?: string }): Promise<ImportResult & { admissions: Admission[] }> {
  signingStack().catch(() => undefined); // loads alongside the import; a failure shows where it is awaited
  const result = await importBundle(opts);
  const admissions = await admit(opts.store, {
    policy: { path: opts.policy.path, sha256: opts.policy.sha256 },
    ...(opts.siteKeyDir ? { siteKeyDir: opts.siteKeyDir } : {}),
    now: opts.now,
  });
  return { ...result, admissions };
}
