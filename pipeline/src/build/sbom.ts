/**
 * SPDX 2.3 software bill of materials for a built image: the OS packages its package databases
 * record (Debian dpkg status, status.d for distroless; RPM when present; read by package-db.ts)
 * plus the sources the recipe pinned, as one JSON document that validates against the official SPDX 2.3 schema.
 *
 * pipeline/schemas/spdx-2.3.schema.json is the official schema, stored verbatim from
 * https://github.com/spdx/spdx-spec, schemas/spdx-schema.json at tag v2.3
 * (commit aadf3b0b8dbbabdb4d880b0fc714255fea436ff7; identical on branch support/2.3),
 * sha256 239208b7ac287b3cf5d9a9af23f9d69863971102a5e1587a27a398b43490b89b.
 *
 * Documents are checked by validateSpdx (spdx-validate.ts).
 */
import parseSpdxExpression from 'spdx-expression-parse';
import { PackageURL } from 'packageurl-js';
// Imported, not read from disk, so a bundle carries them.
import packageJson from '../../../package.json' with { type: 'json' };
import { group } from '../util/match.ts';
import { canonical, cmpKeys, dedupeSorted, oneLine, SbomError, type InstalledPackage } from './package-db.ts';

// ---------------------------------------------------------------------------------------------
// Types

export interface PinnedSource {
  name: string;
  url: string;
  sha256: string;
  /** Who pinned it: the recipe or a block (free text, shown in the SPDX comment). */
  origin: string;
  version?: string;
  /** SPDX licence expression of the source, when known. */
  license?: string;
}

export interface SpdxArgs {
  imageName: string;
  /** The image's digest, "sha256:<64 hex>". */
  imageDigest: string;
  /** Where the image lives, e.g. "ghcr.io/org/brickyard/osu:7.4-1" (tag and/or @digest allowed). */
  imageReference: string;
  /** ISO 8601 UTC; from SOURCE_DATE_EPOCH for reproducible documents (see spdxCreated). */
  created: string;
  packages: InstalledPackage[];
  sources: PinnedSource[];
  recipe: { name: string; version: string; revision: number; license?: string };
  /** Base of documentNamespace; default https://brickyard.dev/spdx. */
  namespaceBase?: string;
  /** The image's architecture, as the OCI platform names it (amd64, arm64), for the image purl. */
  architecture?: string;
  /** Defaults to this package's version. */
  toolVersion?: string;
}

// ---------------------------------------------------------------------------------------------
// Package URLs (ECMA-427 / purl-spec), written by the reference implementation (packageurl-js)

export function purl(parts: { type: string; namespace?: string | undefined; name: string; version?: string | undefined; qualifiers?: Record<string, string | undefined> }): string {
  const qualifiers = Object.fromEntries(Object.entries(parts.qualifiers ?? {}).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  return new PackageURL(parts.type, parts.namespace, parts.name, parts.version, Object.keys(qualifiers).length > 0 ? qualifiers : undefined, undefined).toString();
}

function purlOrUndefined(make: () => string): string | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

/** pkg:deb/<namespace>/<name>@<version>?arch=…&distro=…, pkg:rpm/<namespace>/<name>@<version-release>?arch=…&distro=…&epoch=… */
export function packagePurl(p: InstalledPackage): string {
  if (p.manager === 'dpkg') {
    return purl({ type: 'deb', namespace: p.namespace ?? 'debian', name: p.name.toLowerCase(), version: p.version, qualifiers: { arch: p.arch, distro: p.distro } });
  }
  return purl({ type: 'rpm', namespace: p.namespace, name: p.name, version: p.version, qualifiers: { arch: p.arch, distro: p.distro, epoch: p.epoch } });
}

/** pkg:generic/<name>@<version>?checksum=sha256:<hex>&download_url=<url> */
export function sourcePurl(s: PinnedSource): string {
  return purl({ type: 'generic', name: s.name, version: s.version, qualifiers: { checksum: `sha256:${s.sha256.toLowerCase()}`, download_url: s.url } });
}

/** pkg:oci/<name>@sha256:<hex>?arch=…&repository_url=<registry/path/name>&tag=… */
export function imagePurl(imageReference: string, imageDigest: string, imageName: string, arch?: string): string {
  let rest = imageReference.trim();
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const repository = rest.replace(/^[a-z]+:\/\//, '');
  const name = (repository.split('/').pop() || imageName).toLowerCase();
  return purl({ type: 'oci', name, version: imageDigest, qualifiers: { arch, repository_url: repository || undefined, tag } });
}

// ---------------------------------------------------------------------------------------------
// SPDXIDs

/** Hands out SPDXIDs: `raw` with every run of other characters turned into "-", unique (case-insensitively) by a -2, -3 … suffix. */
export class SpdxIds {
  private readonly taken = new Set<string>(['spdxref-document']);

  id(raw: string): string {
    const base = `SPDXRef-${raw.replace(/[^A-Za-z0-9.-]+/g, '-') || 'element'}`;
    let id = base;
    for (let n = 2; this.taken.has(id.toLowerCase()); n++) id = `${base}-${n}`;
    this.taken.add(id.toLowerCase());
    return id;
  }

  reserve(id: string): void {
    this.taken.add(id.toLowerCase());
  }
}

// ---------------------------------------------------------------------------------------------
// The document

const NOASSERTION = 'NOASSERTION';

/** SPDX `created`: SOURCE_DATE_EPOCH (seconds) when given, else `now`, as YYYY-MM-DDThh:mm:ssZ. */
export function spdxCreated(sourceDateEpoch: string | undefined = process.env.SOURCE_DATE_EPOCH, now: Date = new Date()): string {
  if (sourceDateEpoch !== undefined && sourceDateEpoch.trim() !== '') {
    if (!/^\d+$/.test(sourceDateEpoch.trim())) {
      throw new SbomError('INVALID_INPUT', `SOURCE_DATE_EPOCH=${JSON.stringify(sourceDateEpoch)} is not a whole number of seconds`);
    }
    return isoSeconds(new Date(Number(sourceDateEpoch.trim()) * 1000));
  }
  return isoSeconds(now);
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function validLicense(expr: string | undefined): string | undefined {
  const e = expr?.trim();
  if (!e) return undefined;
  try {
    parseSpdxExpression(e);
    return e;
  } catch {
    return undefined;
  }
}

/** "Name <email>" → "Organization: Name (email)"; NOASSERTION when there is nothing. */
export function spdxSupplier(raw: string | undefined): string {
  const s = raw?.replace(/\s+/g, ' ').trim();
  if (!s) return NOASSERTION;
  const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(s);
  if (m) {
    const name = group(m, 1).trim();
    const email = group(m, 2).trim();
    if (!name) return email ? `Organization: ${email}` : NOASSERTION;
    return email ? `Organization: ${name} (${email})` : `Organization: ${name}`;
  }
  return `Organization: ${s}`;
}

function httpUrl(s: string | undefined): string | undefined {
  if (!s) return undefined;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? s : undefined;
  } catch {
    return undefined;
  }
}

function licenseFields(license: string | undefined, concluded: boolean): Record<string, string> {
  const valid = validLicense(license);
  const out: Record<string, string> = {
    licenseConcluded: concluded && valid ? valid : NOASSERTION,
    licenseDeclared: valid ?? NOASSERTION,
  };
  if (license?.trim() && !valid) out.licenseComments = `declared licence, not an SPDX expression: ${oneLine(license)}`;
  return out;
}

/**
 * The SPDX 2.3 document for one image. Deterministic: the same arguments give the same JSON
 * (packages and sources sorted, no random parts; the namespace comes from the image digest).
 */
export function spdxDocument(args: SpdxArgs): Record<string, unknown> {
  const digest = /^sha256:([0-9a-fA-F]{64})$/.exec(args.imageDigest.trim());
  if (!digest) throw new SbomError('INVALID_INPUT', `image digest ${JSON.stringify(args.imageDigest)} is not sha256:<64 hex digits>`);
  const digestHex = group(digest, 1).toLowerCase();
  const imageDigest = `sha256:${digestHex}`;
  const createdDate = new Date(args.created);
  if (Number.isNaN(createdDate.getTime())) throw new SbomError('INVALID_INPUT', `created ${JSON.stringify(args.created)} is not an ISO 8601 date`);
  for (const s of args.sources) {
    if (!/^[0-9a-fA-F]{64}$/.test(s.sha256)) throw new SbomError('INVALID_INPUT', `source ${s.name}: sha256 ${JSON.stringify(s.sha256)} is not 64 hex digits`);
  }

  const ids = new SpdxIds();
  ids.reserve('SPDXRef-Image');
  const imageId = 'SPDXRef-Image';
  const base = (args.namespaceBase ?? 'https://brickyard.dev/spdx').replace(/\/+$/, '');
  const { recipe } = args;

  const image: Record<string, unknown> = {
    SPDXID: imageId,
    name: args.imageName,
    versionInfo: `${recipe.version}-${recipe.revision}`,
    supplier: NOASSERTION,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    checksums: [{ algorithm: 'SHA256', checksumValue: digestHex }],
    ...licenseFields(recipe.license, false),
    copyrightText: NOASSERTION,
    comment: `Container image ${args.imageReference} built by brickyard from recipe ${recipe.name}@${recipe.version} revision ${recipe.revision}`,
    externalRefs: [
      { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: imagePurl(args.imageReference, imageDigest, args.imageName, args.architecture) },
    ],
    primaryPackagePurpose: 'CONTAINER',
  };

  const osPackages = dedupeSorted(args.packages).map((p) => osPackageEntry(p, ids));
  const sources = [...args.sources]
    .sort((a, b) => cmpKeys([a.name, a.version ?? '', a.url, a.sha256.toLowerCase(), canonical(a)], [b.name, b.version ?? '', b.url, b.sha256.toLowerCase(), canonical(b)]))
    .map((s) => sourceEntry(s, ids));

  const relationships = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId },
    ...osPackages.map((p) => ({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID as string })),
    // The spec: "GENERATED_FROM: SPDXRef-A was generated from SPDXRef-B" (a binary from its
    // source). BUILD_DEPENDENCY_OF is for a dependency in a build scope, not the thing built.
    ...sources.map((s) => ({ spdxElementId: imageId, relationshipType: 'GENERATED_FROM', relatedSpdxElement: s.SPDXID as string })),
  ];

  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${args.imageName}@${imageDigest}`,
    documentNamespace: `${base}/${encodeURIComponent(args.imageName)}/${imageDigest}`,
    creationInfo: {
      created: isoSeconds(createdDate),
      creators: [`Tool: brickyard-${args.toolVersion ?? packageJson.version}`],
    },
    packages: [image, ...osPackages, ...sources],
    relationships,
  };
}

/** One installed OS package's SPDX entry, with its purl where one can name it. */
function osPackageEntry(p: InstalledPackage, ids: SpdxIds): Record<string, unknown> {
  const pkg: Record<string, unknown> = {
    SPDXID: ids.id(`Package-${p.manager === 'dpkg' ? 'deb' : 'rpm'}-${p.name}-${p.epoch ? `${p.epoch}-` : ''}${p.version}${p.arch ? `-${p.arch}` : ''}`),
    name: p.name,
    versionInfo: p.epoch ? `${p.epoch}:${p.version}` : p.version,
    supplier: spdxSupplier(p.supplier),
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
  };
  const homepage = httpUrl(p.homepage);
  if (homepage) pkg.homepage = homepage;
  if (p.source) {
    pkg.sourceInfo = p.manager === 'dpkg' ? `built from Debian source package ${p.source} ${p.sourceVersion ?? p.version}` : `built from source RPM ${p.source}`;
  }
  Object.assign(pkg, licenseFields(p.license, true));
  pkg.copyrightText = NOASSERTION;
  // A package record no purl can name (a blank name in a damaged package database) keeps its
  // SPDX entry without the reference, rather than failing the whole SBOM.
  const locator = purlOrUndefined(() => packagePurl(p));
  if (locator) pkg.externalRefs = [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: locator }];
  return pkg;
}

/** One pinned source's SPDX entry: where it was fetched, its digest and who pinned it. */
function sourceEntry(s: PinnedSource, ids: SpdxIds): Record<string, unknown> {
  const src: Record<string, unknown> = {
    SPDXID: ids.id(`Source-${s.name}${s.version ? `-${s.version}` : ''}`),
    name: s.name,
  };
  if (s.version) src.versionInfo = s.version;
  const file = fileName(s.url);
  if (file) src.packageFileName = file;
  Object.assign(src, {
    supplier: NOASSERTION,
    downloadLocation: s.url,
    filesAnalyzed: false,
    checksums: [{ algorithm: 'SHA256', checksumValue: s.sha256.toLowerCase() }],
    ...licenseFields(s.license, true),
    copyrightText: NOASSERTION,
    comment: `pinned by ${s.origin}`,
  });
  // As for packages: a name no purl can carry (blank once trimmed) keeps its entry, unreferenced.
  const locator = purlOrUndefined(() => sourcePurl(s));
  if (locator) src.externalRefs = [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: locator }];
  return src;
}

function fileName(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split('/').pop();
    return last ? decodeURIComponent(last) : undefined;
  } catch {
    return undefined;
  }
}

/** The document as written to disk: two-space JSON and a final newline. */
export function spdxJson(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
