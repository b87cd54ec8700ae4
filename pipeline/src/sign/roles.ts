/**
 * Every signed thing has one role, and each role has its own type, so that a signature made for
 * one purpose never passes for another (domain separation):
 *
 * - the bundle manifest: a DSSE envelope whose payload type is Brickyard's manifest type and
 *   whose payload is the manifest's bytes. No in-toto statement and no message signature is ever
 *   accepted in its place, and no attestation verifier accepts this payload type;
 * - provenance, SBOM and test results: DSSE in-toto statements, each with its predicate type.
 *
 * A site policy names, per role, which signers it accepts (site/policy.ts).
 */
import { SLSA_PROVENANCE_PREDICATE_TYPE, SPDX_PREDICATE_TYPE } from './provenance.ts';
import { TEST_RESULT_PREDICATE_TYPE } from '../smoke/predicate.ts';

export { IN_TOTO_PAYLOAD_TYPE, MANIFEST_PAYLOAD_TYPE } from './payload-types.ts';

export type AttestationRole = 'provenance' | 'sbom' | 'testResult';
export type SignerRole = 'manifest' | AttestationRole;

export const SIGNER_ROLES: readonly SignerRole[] = ['manifest', 'provenance', 'sbom', 'testResult'];

/** The predicate type each attestation role must carry, and nothing else. */
export const ROLE_PREDICATE_TYPE: Record<AttestationRole, string> = {
  provenance: SLSA_PROVENANCE_PREDICATE_TYPE,
  sbom: SPDX_PREDICATE_TYPE,
  testResult: TEST_RESULT_PREDICATE_TYPE,
};

/** How a role is named in messages. */
export const ROLE_LABEL: Record<SignerRole, string> = {
  manifest: 'bundle manifest',
  provenance: 'SLSA provenance',
  sbom: 'SBOM',
  testResult: 'test result',
};

/** The role an attestation file plays, from its name in a pair's folder (attest writes these names). */
export function roleOfAttestationFile(name: string): AttestationRole | undefined {
  if (name === 'provenance.sigstore.json') return 'provenance';
  if (name === 'sbom.sigstore.json') return 'sbom';
  if (/^test-result-[a-z0-9-]+\.sigstore\.json$/.test(name)) return 'testResult';
  return undefined;
}
