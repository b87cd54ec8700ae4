/**
 * Image-level policy facts, signed with the SBOM. The rules a centre's image policy sets that
 * need the built image (the user it runs as, setuid files, its real size) are checked by the
 * signer on the image it re-hashed, against the system's current and next policy from its own
 * checkout of the catalogue (never the build record's copy), and written into the SPDX document
 * as one annotation before the SBOM statement is signed. A site reads them back from the verified
 * statement only (readImagePolicyFacts): an edited finding breaks the signature.
 *
 * The annotation is plain SPDX 2.3 (a document annotation of type OTHER by `Tool: brickyard`),
 * so any SPDX reader keeps it; its comment is `brickyard-image-policy/v1 ` + JSON.
 */
import { inspectImageStrict } from '../build/inspect.ts';
import { imageBreaks, type ImageFacts } from '../check/image-policy.ts';
import type { SystemDoc } from '../model/types.ts';
import { BrickyardError } from '../util/errors.ts';

export const IMAGE_POLICY_ANNOTATOR = 'Tool: brickyard';
export const IMAGE_POLICY_PREFIX = 'brickyard-image-policy/v1 ';

export interface PolicyFinding {
  rule: string;
  message: string;
}

export interface ImagePolicyFacts {
  kind: 'brickyard-image-policy';
  version: 1;
  /** The image the facts are about (the statement's subject). */
  image: string;
  system: string;
  partition: string;
  facts: ImageFacts;
  /** Layers the signer could not read as tar archives: their files are not in the facts. */
  unreadableLayers: string[];
  /** What the system's current image policy says of the image ([] when it breaks nothing, absent without a policy). */
  current?: PolicyFinding[];
  /** What the next policy will say, and from when. */
  next?: { effective: string; findings: PolicyFinding[] };
}

/** The signer's findings for one image on one system partition. */
export function imagePolicyFacts(layout: string, manifestDigest: string, system: SystemDoc, partition: string): ImagePolicyFacts {
  const { facts, unreadableLayers } = inspectImageStrict(layout, manifestDigest);
  return {
    kind: 'brickyard-image-policy',
    version: 1,
    image: manifestDigest,
    system: system.id,
    partition,
    facts,
    unreadableLayers,
    ...(system.imagePolicy ? { current: imageBreaks(facts, system.imagePolicy) } : {}),
    ...(system.imagePolicyNext ? { next: { effective: system.imagePolicyNext.effective, findings: imageBreaks(facts, system.imagePolicyNext) } } : {}),
  };
}

/** The SPDX document with the findings as one more document annotation (any earlier brickyard one is dropped). */
export function withImagePolicyFacts(spdx: Record<string, unknown>, facts: ImagePolicyFacts, date: string): Record<string, unknown> {
  const others = (Array.isArray(spdx['annotations']) ? (spdx['annotations'] as ({ annotator?: unknown; comment?: unknown } | null)[]) : []).filter(
    (a) => !(a?.annotator === IMAGE_POLICY_ANNOTATOR && typeof a.comment === 'string' && a.comment.startsWith(IMAGE_POLICY_PREFIX)),
  );
  return {
    ...spdx,
    annotations: [...others, { annotationDate: date, annotationType: 'OTHER', annotator: IMAGE_POLICY_ANNOTATOR, comment: IMAGE_POLICY_PREFIX + JSON.stringify(facts) }],
  };
}

function bad(what: string): never {
  throw new BrickyardError('BUNDLE_MISMATCH', `the image policy facts of the signed SBOM ${what}`, {
    hint: 'the SBOM was not made by a brickyard signer, or was changed: get the bundle again',
  });
}

const isFindings = (v: unknown): v is PolicyFinding[] =>
  Array.isArray(v) &&
  (v as unknown[]).every((f) => typeof (f as Record<string, unknown> | null)?.['rule'] === 'string' && typeof (f as Record<string, unknown>)['message'] === 'string');

/**
 * The findings of a verified SBOM statement's predicate (an SPDX document), about `image`.
 * Undefined when the SBOM carries none (signed before they existed); refused when it carries
 * more than one, a malformed one, or one about another image.
 */
export function readImagePolicyFacts(spdx: unknown, image: string): ImagePolicyFacts | undefined {
  // Untrusted JSON until checked: every level may be anything.
  type Loose = Record<string, unknown> | null | undefined;
  const annotations = (spdx as Loose)?.['annotations'];
  if (!Array.isArray(annotations)) return undefined;
  const ours = (annotations as unknown[])
    .map((a) => ((a as Loose)?.['annotator'] === IMAGE_POLICY_ANNOTATOR ? (a as Loose)?.['comment'] : undefined))
    .filter((c): c is string => typeof c === 'string' && c.startsWith(IMAGE_POLICY_PREFIX));
  const first = ours[0];
  if (first === undefined) return undefined;
  if (ours.length > 1) bad(`hold ${ours.length} annotations, expected one`);
  let f: Loose;
  try {
    f = JSON.parse(first.slice(IMAGE_POLICY_PREFIX.length)) as Loose;
  } catch (e) {
    return bad(`are not JSON: ${(e as Error).message}`);
  }
  if (f?.['kind'] !== 'brickyard-image-policy' || f['version'] !== 1) bad('are not brickyard-image-policy version 1');
  if (f['image'] !== image) bad(`are about ${typeof f['image'] === 'string' ? f['image'] : JSON.stringify(f['image'])}, the statement is about ${image}`);
  const facts = f['facts'] as Loose;
  if (typeof facts?.['user'] !== 'string' || !Array.isArray(facts['setuidFiles']) || typeof facts['uncompressedBytes'] !== 'number' || !Array.isArray(f['unreadableLayers']))
    bad('have the wrong shape');
  if (f['current'] !== undefined && !isFindings(f['current'])) bad('have malformed current findings');
  const next = f['next'] as Loose;
  if (next !== undefined && (typeof next?.['effective'] !== 'string' || !isFindings(next['findings']))) bad('have malformed next findings');
  return f as unknown as ImagePolicyFacts;
}
