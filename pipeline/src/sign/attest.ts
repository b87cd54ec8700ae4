/**
 * Attesting: an in-toto Statement v1 signed as a DSSE envelope (payloadType
 * `application/vnd.in-toto+json`) into a Sigstore bundle v0.3. The statement's subject carries
 * the artifact digest, so no artifact is ever read here (a multi-GB image is hashed once, by
 * whoever builds the statement).
 *
 * Two back ends share everything but how the Signer and the witnesses are made:
 * - `loadOrCreateDevSigner()` (dev-signer.ts): local CA, local TSA and fake log, offline;
 * - `keylessSigner()` (keyless.ts): Sigstore keyless signing in CI;
 * - `loadOrCreateSiteKey()` (site-key.ts): a site's own key, for its admission records.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BUNDLE_V03_MEDIA_TYPE, bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
// The DSSE builder alone: @sigstore/sign's index also loads the Fulcio, Rekor and TSA clients and
// their fetch stack (tens of ms), which only keyless signing in CI uses (keyless.ts).
import { DSSEBundleBuilder } from '@sigstore/sign/dist/bundler/dsse.js';
import { STATEMENT_TYPE } from '../model/statement.ts';
import { BrickyardError } from '../util/errors.ts';
import type { DevSigner, SigningBackend } from './dev-signer.ts';
import type { KeylessSigner } from './keyless.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;
export const BUNDLE_SUFFIX = '.sigstore.json';

/** The checks an in-toto Statement v1 must pass before it is signed. */
export function assertStatement(statement: unknown): void {
  const bad = (why: string): never => {
    throw new BrickyardError('SIGNING_FAILED', `refusing to sign: ${why}`);
  };
  if (typeof statement !== 'object' || statement === null || Array.isArray(statement)) bad('the statement is not a JSON object');
  const s = statement as Record<string, unknown>;
  if (s['_type'] !== STATEMENT_TYPE) bad(`_type must be ${STATEMENT_TYPE}, got ${JSON.stringify(s['_type'])}`);
  if (typeof s['predicateType'] !== 'string' || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(s['predicateType'])) bad('predicateType must be a URI');
  if (!Array.isArray(s['subject']) || s['subject'].length === 0) bad('the statement has no subject');
  for (const [i, sub] of (s['subject'] as unknown[]).entries()) {
    const d = (sub as { digest?: unknown } | null)?.digest;
    if (typeof d !== 'object' || d === null || Object.keys(d).length === 0) bad(`subject ${i} has no digest`);
    for (const [alg, value] of Object.entries(d as Record<string, unknown>)) {
      if (typeof value !== 'string' || !/^[0-9a-f]+$/.test(value)) bad(`subject ${i} digest ${alg} is not lower-case hex`);
      if (alg === 'sha256' && (value as string).length !== 64) bad(`subject ${i} sha256 digest is not 64 hex digits`);
    }
  }
  if (typeof s['predicate'] !== 'object' || s['predicate'] === null) bad('the predicate must be a JSON object');
}

/** Sign `statement` as DSSE; the Sigstore bundle v0.3, as JSON. (A site key signs through here too: see site-key.ts.) */
/** A site key (site-key.ts) as attest() sees it; named structurally, as site-key.ts imports this module. */
type SiteKeyBackend = SigningBackend & { kind: 'site' };

export async function attest(statement: object, backend: DevSigner | KeylessSigner | SiteKeyBackend): Promise<SerializedBundle> {
  assertStatement(statement);
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  let bundle;
  try {
    bundle = await new DSSEBundleBuilder({ signer: backend.signer, witnesses: backend.witnesses }).create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE });
  } catch (e) {
    if (e instanceof BrickyardError) throw e;
    const where = backend.kind === 'keyless' ? ` (${backend.plan.instance}: ${backend.plan.fulcioURL})` : backend.kind === 'site' ? ' (site key)' : ' (development signer)';
    throw new BrickyardError('SIGNER_FAILED', `signing failed${where}: ${(e as Error).message}`, { cause: e });
  }
  const json = bundleToJSON(bundle);
  if (json.mediaType !== BUNDLE_MEDIA_TYPE) throw new BrickyardError('SIGNING_FAILED', `expected a ${BUNDLE_MEDIA_TYPE} bundle, got ${json.mediaType}`);
  return json;
}

/** `<artifact>.sigstore.json`. */
export function bundlePathFor(artifactPath: string): string {
  return artifactPath + BUNDLE_SUFFIX;
}

/** Write a bundle (atomically: a temporary file renamed into place). */
export function writeBundle(path: string, bundle: SerializedBundle | object): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(bundle) + '\n', { mode: 0o644 });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
