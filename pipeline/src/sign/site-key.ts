/**
 * A site's own signing key, for what the site itself asserts (its admission record, its SLSA
 * Verification Summaries). ECDSA P-256, PKCS#8 PEM, created once with mode 0600; the public
 * key beside it (SPKI PEM) is what anyone checking the site's statements pins.
 *
 * Bundles are Sigstore bundle v0.3 with `publicKey: {hint}` verification material (no
 * certificate, no timestamps: nothing to chain and no clock to trust). The hint is the key id:
 * the hex sha256 of the DER SubjectPublicKeyInfo.
 *
 * Verification (offline, @sigstore/verify): a trusted root that lists nothing, a key finder that
 * knows only the pinned key (by its hint), and all thresholds at 0 (public-key bundles carry no
 * timestamps; a certificate bundle would still fail, as no CA is trusted). The signature over the
 * DSSE PAE is what is checked; a bundle whose hint names another key fails with PUBLIC_KEY_ERROR.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as nodeSign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import type { Signer, Witness } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier, type KeyFinderFunc } from '@sigstore/verify';
import { BrickyardError } from '../util/errors.ts';
import { attest, IN_TOTO_PAYLOAD_TYPE } from './attest.ts';
import { TRUSTED_ROOT_MEDIA_TYPE } from './payload-types.ts';

export const SITE_KEY_FILE = 'site-key.pem';
export const SITE_PUBLIC_KEY_FILE = 'site-key.pub.pem';

export interface SiteKey {
  kind: 'site';
  /** Key id: hex sha256 of the SPKI DER; the bundles' `publicKey.hint`. */
  keyId: string;
  /** SPKI PEM. */
  publicKey: string;
  signer: Signer;
  witnesses: Witness[];
}

/** The public half, as a site policy stores it. */
export interface SitePublicKey {
  keyId: string;
  publicKey: string;
}

export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** Load `<dir>/site-key.pem`, creating it (and the .pub.pem) on first use. */
export function loadOrCreateSiteKey(dir: string): SiteKey {
  const path = join(dir, SITE_KEY_FILE);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const tmp = join(dir, `.site-key-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    try {
      linkSync(tmp, path); // fails if another process made one meanwhile: theirs wins
      writeFileSync(join(dir, SITE_PUBLIC_KEY_FILE), publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new BrickyardError('SIGNER_STATE_INVALID', `${path} is readable by other users (mode ${mode.toString(8)})`, { hint: `chmod 600 ${path}` });
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BrickyardError('SIGNER_STATE_INVALID', `${path} is not a PEM private key: ${(e as Error).message}`, { cause: e });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new BrickyardError('SIGNER_STATE_INVALID', `${path} is not an ECDSA P-256 key`);
  }
  return siteKeyFrom(key);
}

function siteKeyFrom(key: KeyObject): SiteKey {
  const publicKey = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  const keyId = keyIdOf(publicKey);
  return {
    kind: 'site',
    keyId,
    publicKey,
    signer: {
      // eslint-disable-next-line @typescript-eslint/require-await -- sigstore's Signer is async: a throw here must reach it as a rejection
      async sign(data: Buffer) {
        return { signature: nodeSign('sha256', data, key), key: { $case: 'publicKey', publicKey, hint: keyId } };
      },
    },
    witnesses: [],
  };
}

export function sitePublicKey(key: SiteKey): SitePublicKey {
  return { keyId: key.keyId, publicKey: key.publicKey };
}

/** Sign a statement with the site key: a bundle v0.3 with `publicKey.hint`. */
export async function siteAttest(statement: object, key: SiteKey): Promise<SerializedBundle> {
  return attest(statement, key);
}

/** A key finder for @sigstore/verify that knows exactly the given keys. */
export function siteKeyFinder(keys: SitePublicKey[]): KeyFinderFunc {
  const byId = new Map(keys.map((k) => [k.keyId, createPublicKey(k.publicKey)]));
  return (hint: string) => {
    const publicKey = byId.get(hint);
    if (!publicKey) throw new BrickyardError('SITE_KEY_UNKNOWN', `the bundle is signed by key ${hint}, which is not a trusted site key`);
    return { publicKey, validFor: () => true };
  };
}

/**
 * Verify a site-key bundle against the pinned public key(s); returns the in-toto Statement.
 * The caller still checks the statement's subject against the artifact it holds.
 */
export function verifySiteBundle(bundle: unknown, keys: SitePublicKey[]): { keyId: string; statement: Record<string, unknown> } {
  let parsed;
  try {
    parsed = bundleFromJSON(bundle);
  } catch (e) {
    throw new BrickyardError('SIGNATURE_INVALID', `not a Sigstore bundle: ${(e as Error).message}`);
  }
  const vm = parsed.verificationMaterial.content;
  if (vm.$case !== 'publicKey') throw new BrickyardError('SIGNATURE_INVALID', `expected a bundle signed with a site key (publicKey), got ${vm.$case}`);
  if (parsed.content.$case !== 'dsseEnvelope') throw new BrickyardError('SIGNATURE_INVALID', 'expected a DSSE envelope');
  if (parsed.content.dsseEnvelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new BrickyardError('SIGNATURE_INVALID', `expected payloadType ${IN_TOTO_PAYLOAD_TYPE}, got ${parsed.content.dsseEnvelope.payloadType}`);
  }
  const empty = TrustedRoot.fromJSON({ mediaType: TRUSTED_ROOT_MEDIA_TYPE, tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
  try {
    new Verifier(toTrustMaterial(empty, siteKeyFinder(keys)), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(parsed));
  } catch (e) {
    if (e instanceof BrickyardError) throw new BrickyardError('SIGNATURE_INVALID', e.message, { cause: e });
    throw new BrickyardError('SIGNATURE_INVALID', `site signature verification failed: ${(e as Error).message}`, { cause: e });
  }
  let statement: Record<string, unknown>;
  try {
    statement = JSON.parse(parsed.content.dsseEnvelope.payload.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new BrickyardError('SIGNATURE_INVALID', 'the signed payload is not JSON');
  }
  return { keyId: vm.publicKey.hint, statement };
}
