/**
 * What a site checks before it admits anything, on signed content only:
 *
 * 1. the manifest (checkManifest): its signer is one the policy allows for the manifest role
 *    (identity and issuer as a pair, certificate extensions); the bundle is for this site's
 *    system; it is fresh by its *verified* signing time; its serial is newer than the last one
 *    from the same verified signer and repository; a delta's prerequisites are in the store;
 * 2. every pair of this site's system (admitImages): each attestation's Sigstore bundle verifies
 *    (chain, timestamps, payload type), its predicate type is its role's, its subject is the
 *    image's digest, and its signer is allowed for that role (test results: for this system);
 *    provenance, SBOM and a PASSED test result for this system, partition and image are there
 *    as the policy requires; any FAILED test refuses; the licence comes from the signed SBOM;
 * 3. only the admitted images get references; every other entry of the bundle's index is
 *    skipped, with the reason.
 *
 * Unsigned files beside the signatures (`*.intoto.json`, `smoke-*.json`) decide nothing.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BundleError } from '../bundle/errors.ts';
import type { Manifest, ManifestEntry } from '../bundle/manifest.ts';
import type { VerifiedBundle } from '../bundle/read.ts';
import type { AttestationVerifier, VerifiedSignatureInfo } from '../bundle/signing.ts';
import { checkStateRecord, StateRecordError, type OciDescriptor } from '../state/records.ts';
import { objectAt, stringAt } from '../util/untrusted-json.ts';
import { repositoryUri } from '../sign/fulcio-extensions.ts';
import { readImagePolicyFacts, type ImagePolicyFacts } from '../sign/image-policy-facts.ts';
import { ROLE_LABEL, ROLE_PREDICATE_TYPE, roleOfAttestationFile, type AttestationRole } from '../sign/roles.ts';
import { readSignedTestResult, type SignedTestResult } from '../smoke/predicate.ts';
import { licenseAllowed } from '../util/spdx.ts';
import { checkBuildRecord, MAX_JSON_ENTRY_BYTES } from './confine.ts';
import { matchSigner, type SignerRule, type SitePolicy } from './policy.ts';

const REF_NAME = 'org.opencontainers.image.ref.name';
/** Allowed lead of a signing time over the site's clock, and of `created` over the signing time. */
const CLOCK_SKEW_MS = 5 * 60_000;

function refuse(reason: string, message: string, entry?: string, hint?: string): never {
  throw new BundleError('POLICY_REFUSED', reason, message, entry, hint ? { hint } : {});
}

/**
 * The key under which a source's serials must increase: the verified issuer and repository (from
 * the certificate, or the repository of the rule that matched), never the manifest's own claim.
 * The ref is left out on purpose: every release tag is a new identity, and an older tag's bundle
 * must still count as older.
 */
export function rollbackKey(signer: VerifiedSignatureInfo, rule: SignerRule): string {
  const repo = signer.extensions.sourceRepositoryUri ?? ('repository' in rule.identity ? repositoryUri(rule.identity.repository) : signer.identity);
  return `${signer.issuer} ${repo}`;
}

export interface ManifestVerdict {
  rollbackKey: string;
  signedAt: Date;
}

/** Checks that need only the verified manifest and its signer (done before any entry is read). */
export function checkManifest(
  policy: SitePolicy,
  m: Manifest,
  signer: VerifiedSignatureInfo,
  lastSerial: Record<string, number>,
  now: Date,
  storeBlobs: (hex: string) => boolean,
): ManifestVerdict {
  const match = matchSigner(policy, 'manifest', signer);
  if ('refused' in match)
    refuse('identity', match.refused, 'manifest.sigstore.json', 'the policy allows, per role, the signers listed under signers.<role>, each identity with its issuer');
  // The repository the manifest claims must be the one the certificate vouches for.
  const verifiedRepo = signer.extensions.sourceRepositoryUri ?? ('repository' in match.rule.identity ? repositoryUri(match.rule.identity.repository) : undefined);
  if (verifiedRepo !== undefined && repositoryUri(m.source.repository) !== verifiedRepo) {
    refuse('source', `the manifest says it comes from ${m.source.repository}, but its signer's certificate is for ${verifiedRepo}`, 'manifest.json');
  }
  if (!m.systems.includes(policy.system)) refuse('system', `the bundle is for ${m.systems.join(', ')}, not for this site's system ${policy.system}`);

  // Freshness from the verified signing time: the manifest's own `created` is only a claim.
  const signedAt = new Date(Math.min(...signer.signedAt.map((t) => t.getTime())));
  const ageDays = (now.getTime() - signedAt.getTime()) / 86_400_000;
  if (ageDays > policy.maxAgeDays)
    refuse(
      'too-old',
      `the bundle was signed ${ageDays.toFixed(1)} days ago (${signedAt.toISOString()}, verified timestamp); the site accepts bundles up to ${policy.maxAgeDays} days old`,
    );
  const created = Date.parse(m.created);
  if (created - Math.max(...signer.signedAt.map((t) => t.getTime())) > CLOCK_SKEW_MS) {
    refuse('future', `the manifest claims it was created at ${m.created}, after it was signed (${signedAt.toISOString()})`, 'manifest.json');
  }

  const key = rollbackKey(signer, match.rule);
  const last = lastSerial[key] ?? 0;
  if (m.serial <= last) {
    throw new BundleError(
      'ROLLBACK',
      'rollback',
      `refusing serial ${m.serial} from ${key}: the store already holds serial ${last} from that signer and repository (rollback)`,
      undefined,
      {
        hint: 'bundles from one source must arrive with increasing serials; get the newest bundle',
      },
    );
  }
  const missing = m.prerequisites.filter((hex) => !storeBlobs(hex));
  if (missing.length) {
    throw new BundleError(
      'PREREQUISITE_MISSING',
      'prerequisite',
      `this delta bundle relies on ${missing.length} blob(s) the store does not hold: ${missing
        .slice(0, 5)
        .map((h) => `sha256:${h}`)
        .join(', ')}${missing.length > 5 ? ', …' : ''}`,
      undefined,
      {
        hint: 'import the bundle it was made against first, or ask for a full bundle',
      },
    );
  }
  return { rollbackKey: key, signedAt };
}

export interface AdmittedImage {
  recipe: string;
  version: string;
  system: string;
  partition: string;
  refName: string;
  manifestDigest: string;
  descriptor: OciDescriptor;
  /** The signed test results this admission rests on. */
  tests: (SignedTestResult & { file: string; signer: string })[];
  /** The image policy facts the signer found on the image (user, setuid files, size, and what the system's policies say), read from the verified SBOM statement. */
  imagePolicy?: ImagePolicyFacts;
}

export interface SkippedRef {
  ref: string | null;
  digest: string;
  reason: string;
}

interface VerifiedAttestation {
  role: AttestationRole;
  file: string;
  signer: VerifiedSignatureInfo;
  predicate: unknown;
}

function readJson(dir: string, e: ManifestEntry, what: string): unknown {
  // Bounded before it is parsed: a JSON record is small (the manifest already bounds its size; this says why).
  if (e.size > MAX_JSON_ENTRY_BYTES) refuse('oversize', `${e.path} is ${e.size} bytes; a JSON record is at most ${MAX_JSON_ENTRY_BYTES}`, e.path);
  try {
    return JSON.parse(readFileSync(join(dir, e.path), 'utf8'));
  } catch (err) {
    return refuse(what, `${e.path} is not JSON: ${(err as Error).message}`, e.path);
  }
}

/** The bundle's oci/index.json: its descriptors, held to the OCI image index schema. */
function readImageIndex(dir: string, e: ManifestEntry): OciDescriptor[] {
  try {
    return checkStateRecord('ociIndex', readJson(dir, e, 'image-index'), e.path).manifests;
  } catch (err) {
    if (err instanceof StateRecordError) return refuse('image-index', err.message, e.path);
    throw err;
  }
}

/** Verify one attestation bundle for its role: signature, predicate type, subject, signer rule. */
async function verifyAttestation(
  policy: SitePolicy,
  verifier: AttestationVerifier,
  dir: string,
  e: ManifestEntry,
  role: AttestationRole,
  hex: string,
): Promise<VerifiedAttestation> {
  const label = ROLE_LABEL[role];
  const bundleJson = readJson(dir, e, 'attestation');
  let v: Awaited<ReturnType<AttestationVerifier['verifyAttestation']>>;
  try {
    v = await verifier.verifyAttestation(bundleJson, hex);
  } catch (err) {
    return refuse(
      'attestation',
      `the ${label} attestation ${e.path} does not verify as a signed in-toto statement about sha256:${hex}: ${(err as Error).message}`,
      e.path,
      'the attestation was altered, signed for another image, or not signed by a trusted CI; get a bundle straight from CI',
    );
  }
  const want = ROLE_PREDICATE_TYPE[role];
  if (v.statement.predicateType !== want) {
    refuse('attestation', `${e.path} is named as a ${label} attestation, but its signed predicate type is ${JSON.stringify(v.statement.predicateType)}; expected ${want}`, e.path);
  }
  const match = matchSigner(policy, role, v);
  if ('refused' in match) refuse('attestation-signer', `${e.path}: ${match.refused}`, e.path);
  if (role === 'testResult') {
    const systems = match.rule.systems;
    let result: SignedTestResult;
    try {
      result = readSignedTestResult(v.statement.predicate);
    } catch (err) {
      return refuse('attestation', `the test result ${e.path} is not one Brickyard wrote: ${(err as Error).message}`, e.path);
    }
    if (systems && !systems.includes(result.system)) {
      refuse(
        'attestation-signer',
        `${e.path}: the test result for ${result.system} was signed by ${v.identity}, whom the site policy allows to vouch only for ${systems.join(', ')}`,
        e.path,
      );
    }
  }
  return { role, file: e.path, signer: v, predicate: v.statement.predicate };
}

/** The declared licence of the package an SPDX document describes (the container image). */
function imageLicense(spdx: unknown): string | undefined {
  const doc = spdx as { documentDescribes?: string[]; packages?: { SPDXID: string; licenseDeclared?: string; primaryPackagePurpose?: string }[] } | undefined;
  const ids = new Set(doc?.documentDescribes ?? []);
  const pkg = doc?.packages?.find((p) => ids.has(p.SPDXID)) ?? doc?.packages?.find((p) => p.primaryPackagePurpose === 'CONTAINER');
  return pkg?.licenseDeclared;
}

/** What judging each pair of a bundle needs: the policy, the staged bundle, and where images may come from. */
interface AdmitContext {
  policy: SitePolicy;
  verifier: AttestationVerifier;
  dir: string;
  index: OciDescriptor[];
  bundleBlobs: Set<string>;
  storeBlobs: (hex: string) => boolean;
  decrypted: Map<string, OciDescriptor> | undefined;
}

/**
 * Every pair of this site's system, checked on signed content; returns the images admitted and
 * the index entries skipped. Refuses the whole bundle at the first pair that fails a check.
 */
export async function admitImages(
  policy: SitePolicy,
  v: VerifiedBundle,
  verifier: AttestationVerifier,
  storeBlobs: (hex: string) => boolean,
  /** A confidential bundle's images, decrypted and checked (encrypt.ts): their plaintext descriptors by reference name. */
  decrypted?: Map<string, OciDescriptor>,
): Promise<{ admitted: AdmittedImage[]; skipped: SkippedRef[] }> {
  const dir = v.stagingDir;
  if (dir === undefined) throw new BundleError('BUNDLE_INVALID', 'staging', `the bundle ${v.manifest.bundleId} was verified without being staged: its images cannot be checked`);
  const m = v.manifest;
  const pairs = new Map<string, ManifestEntry[]>();
  for (const e of m.entries) {
    if (!e.recipe || !e.system || !e.partition) continue;
    const key = `${e.recipe}@${e.version}/${e.system}-${e.partition}`;
    pairs.set(key, [...(pairs.get(key) ?? []), e]);
  }
  const indexEntry = m.entries.find((e) => e.role === 'image-index');
  const ctx: AdmitContext = {
    policy,
    verifier,
    dir,
    index: indexEntry ? readImageIndex(dir, indexEntry) : [],
    bundleBlobs: new Set(m.entries.filter((e) => e.role === 'image-blob').map((e) => e.sha256)),
    storeBlobs,
    decrypted,
  };
  const admitted: AdmittedImage[] = [];
  for (const [key, entries] of pairs) {
    const first = entries[0];
    if (first?.system !== policy.system) continue;
    admitted.push(await admitPair(ctx, key, first, entries));
  }
  if (admitted.length === 0) refuse('system', `the bundle holds no image for this site's system ${policy.system}`);

  const skipped: SkippedRef[] = [];
  for (const d of ctx.index) {
    const ref = d.annotations?.[REF_NAME] ?? null;
    if (admitted.some((a) => a.descriptor === d || (decrypted !== undefined && a.refName === ref))) continue;
    skipped.push({ ref, digest: d.digest, reason: `not the reference and digest of an image of ${policy.system} that passed this site's checks` });
  }
  return { admitted, skipped };
}

/** One pair: its image, its attestations, its smoke tests and its licence, each against the policy. */
async function admitPair(ctx: AdmitContext, key: string, first: ManifestEntry, entries: ManifestEntry[]): Promise<AdmittedImage> {
  const { policy } = ctx;
  const { hex, digest, refName, descriptor } = pairImage(ctx, key, first, entries);
  // Every attestation of a known role is verified, whether or not the policy needs it: a bad one is a sign of tampering.
  const verified: VerifiedAttestation[] = [];
  for (const e of entries.filter((x) => x.role === 'attestation')) {
    const role = roleOfAttestationFile(basename(e.path));
    if (role) verified.push(await verifyAttestation(policy, ctx.verifier, ctx.dir, e, role, hex));
  }
  const of = (role: AttestationRole): VerifiedAttestation[] => verified.filter((a) => a.role === role);
  if (policy.require.provenance && of('provenance').length === 0) {
    refuse('attestation', `${key} has no signed SLSA provenance about its image ${digest} (expected provenance.sigstore.json)`, key, 'the site policy requires provenance');
  }
  const [sbom] = of('sbom');
  if (policy.require.sbom && !sbom)
    refuse('attestation', `${key} has no signed SBOM about its image ${digest} (expected sbom.sigstore.json)`, key, 'the site policy requires an SBOM');
  const tests = pairTests(policy, key, first, hex, of('testResult'));
  checkLicense(policy, key, sbom);
  // Read only from the verified statement: an edited finding fails the SBOM's signature above.
  let imagePolicy: ImagePolicyFacts | undefined;
  try {
    imagePolicy = sbom ? readImagePolicyFacts(sbom.predicate, `sha256:${hex}`) : undefined;
  } catch (e) {
    refuse('attestation', `${sbom?.file ?? key}: ${(e as Error).message}`, sbom?.file);
  }
  return {
    recipe: first.recipe ?? '',
    version: first.version ?? '',
    system: first.system ?? '',
    partition: first.partition ?? '',
    refName,
    manifestDigest: `sha256:${hex}`,
    descriptor,
    tests,
    ...(imagePolicy ? { imagePolicy } : {}),
  };
}

/** The pair's image, as its build record names it: in the bundle or the store, referenced by the index (or decrypted), its SIF the one named. */
function pairImage(ctx: AdmitContext, key: string, first: ManifestEntry, entries: ManifestEntry[]): { hex: string; digest: string; refName: string; descriptor: OciDescriptor } {
  const recordEntry = entries.find((e) => e.role === 'build-record');
  if (!recordEntry) refuse('build-record', `${key} has no build record`, key);
  // Its names become paths in the store: held to the schema's patterns (build-record.schema.json).
  const recordData = readJson(ctx.dir, recordEntry, 'build-record');
  const record = checkBuildRecord(recordData, recordEntry.path);
  const digest = record.image.manifestDigest;
  const hex = digest.replace(/^sha256:/, '');
  if (!/^[0-9a-f]{64}$/.test(hex)) refuse('build-record', `${recordEntry.path} names no image digest`, recordEntry.path);
  const refName = record.image.refName;
  if (record.system !== first.system || record.partition !== first.partition || record.recipe.name !== first.recipe || record.recipe.version !== first.version) {
    refuse(
      'build-record',
      `${recordEntry.path} describes ${record.recipe.name}@${record.recipe.version} on ${record.system}/${record.partition}, but the manifest lists it under ${key}`,
      recordEntry.path,
    );
  }
  if (!ctx.bundleBlobs.has(hex) && !ctx.storeBlobs(hex)) refuse('image', `the image of ${key} (${digest}) is neither in the bundle nor in the store`, key);
  const descriptor = ctx.decrypted ? ctx.decrypted.get(refName) : ctx.index.find((d) => d.digest === `sha256:${hex}` && d.annotations?.[REF_NAME] === refName);
  if (descriptor && descriptor.digest !== `sha256:${hex}`)
    refuse('image', `the encrypted image ${refName} decrypts to ${descriptor.digest}, but its build record names ${digest}`, recordEntry.path);
  if (!descriptor) refuse('image', `the bundle's oci/index.json has no reference ${refName} to ${digest} (the image of ${key})`, 'oci/index.json');
  // A SIF (role sif) must be the one the build record names: the signature binds its bytes, this binds it to the image.
  for (const e of entries.filter((x) => x.role === 'sif')) {
    // The site's schema leaves sif alone (not a name in the store): read it as the untrusted field it is.
    const sifSha256 = stringAt(objectAt(recordData, 'sif'), 'sha256');
    if (sifSha256 !== e.sha256) refuse('sif', `${e.path} is not the SIF the build record of ${key} names (sha256 ${e.sha256}, record ${sifSha256 ?? 'none'})`, e.path);
  }
  return { hex, digest, refName, descriptor };
}

/** The signed test results about this image on this site's system and partition; none FAILED, and (where required) one that passed. */
function pairTests(policy: SitePolicy, key: string, first: ManifestEntry, hex: string, results: VerifiedAttestation[]): AdmittedImage['tests'] {
  const digest = `sha256:${hex}`;
  const tests: AdmittedImage['tests'] = [];
  for (const a of results) {
    const t = readSignedTestResult(a.predicate);
    if (t.system !== policy.system) continue; // another system's result says nothing here
    if (t.imageDigest !== digest) refuse('smoke', `the test result ${a.file} is about image ${t.imageDigest}, not ${digest}`, a.file);
    if (t.partition !== first.partition) continue;
    if (t.verdict === 'FAILED')
      refuse(
        'smoke-failed',
        `the signed test result ${a.file} says the smoke test of ${key} FAILED on ${t.system}/${t.partition} (${t.failedTests.join(', ') || 'overall'})`,
        a.file,
      );
    tests.push({ ...t, file: a.file, signer: a.signer.identity });
  }
  if (policy.require.smoke) {
    const ok = tests.filter((t) => t.verdict === 'PASSED' || (t.verdict === 'WARNED' && policy.require.acceptWarned === true));
    if (ok.length === 0) {
      const seen = tests.map((t) => `${t.file}: ${t.verdict}`).join(', ');
      refuse(
        'smoke',
        `${key} has no signed ${policy.require.acceptWarned ? 'PASSED or WARNED' : 'PASSED'} test result for this site's system ${policy.system}/${first.partition ?? ''} and image ${digest}${seen ? ` (found ${seen})` : ''}`,
        key,
        'the site policy requires a passing smoke test for its own system, signed by a signer allowed for test results',
      );
    }
  }
  return tests;
}

/** The image's declared licence (from its signed SBOM) is one the policy allows. */
function checkLicense(policy: SitePolicy, key: string, sbom: VerifiedAttestation | undefined): void {
  const license = sbom ? imageLicense(sbom.predicate) : undefined;
  if (!license || license === 'NOASSERTION' || license === 'NONE') {
    if (!policy.licenses.includes('NOASSERTION')) refuse('license', `${key} declares no licence (its signed SBOM says ${license ?? 'nothing'})`, key);
  } else if (!licenseAllowed(license, policy.licenses)) {
    refuse('license', `${key} is licensed ${license}, which the site policy does not allow (allowed: ${policy.licenses.join(', ')})`, key);
  }
}
