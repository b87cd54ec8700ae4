/**
 * SBOMs (sbom.ts writes them; spdx-validate.ts checks them, tested here on the documents sbom.ts
 * writes and on broken ones). The schema these documents are checked against is the official SPDX 2.3 JSON schema,
 * pipeline/schemas/spdx-2.3.schema.json: github.com/spdx/spdx-spec, schemas/spdx-schema.json at
 * tag v2.3 (commit aadf3b0b8dbbabdb4d880b0fc714255fea436ff7), stored verbatim.
 *
 * fixtures/dpkg-status is a slice of a real Debian 12 /var/lib/dpkg/status (six stanzas, kept
 * byte for byte) with one edit: javascript-common's Status line was changed from
 * "install ok installed" to "deinstall ok config-files", the state dpkg leaves a removed
 * package's configuration in, so that the parser has a stanza it must skip.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { PackageURL } from 'packageurl-js';
import { describe, expect, it } from 'vitest';
import {
  imagePurl,
  packagePurl,
  purl,
  sourcePurl,
  spdxCreated,
  spdxDocument,
  SpdxIds,
  spdxJson,
  spdxSupplier,
  type PinnedSource,
  type SpdxArgs,
} from '../../pipeline/src/build/sbom.ts';
import { validateSpdx } from '../../pipeline/src/build/spdx-validate.ts';
import { parseDpkgStatus, parseRpmQuery, SbomError, type InstalledPackage } from '../../pipeline/src/build/package-db.ts';

const here = dirname(fileURLToPath(import.meta.url));
const statusText = readFileSync(join(here, 'fixtures', 'dpkg-status'), 'utf8');

const DIGEST = 'sha256:' + 'ab'.repeat(32);
const SOURCE: PinnedSource = {
  name: 'osu-micro-benchmarks',
  version: '7.4',
  url: 'https://mvapich.cse.ohio-state.edu/download/mvapich/osu-micro-benchmarks-7.4.tar.gz',
  sha256: '1edd0c2efa61999409bfb28740a7f39689a5b42b1a1b4c66d1656e5637f7cefc',
  origin: 'recipe osu-micro-benchmarks@7.4',
  license: 'BSD-3-Clause',
};

function args(overrides: Partial<SpdxArgs> = {}): SpdxArgs {
  return {
    imageName: 'osu-micro-benchmarks',
    imageDigest: DIGEST,
    imageReference: 'ghcr.io/example/brickyard/osu-micro-benchmarks:7.4-1-alps-normal',
    created: spdxCreated('1700000000'),
    packages: parseDpkgStatus(statusText),
    sources: [SOURCE],
    recipe: { name: 'osu-micro-benchmarks', version: '7.4', revision: 1, license: 'BSD-3-Clause' },
    ...overrides,
  };
}

interface Pkg {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  externalRefs?: { referenceLocator: string }[];
  [k: string]: unknown;
}
interface Doc {
  packages: Pkg[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
  [k: string]: unknown;
}

describe('spdxDocument', () => {
  it('validates against the official SPDX 2.3 schema', () => {
    const doc = spdxDocument(args());
    expect(validateSpdx(doc)).toEqual([]);
    // And after a trip through JSON, as a consumer reads it.
    expect(validateSpdx(JSON.parse(spdxJson(doc)))).toEqual([]);
  });

  it('has the document header, image, packages, sources and relationships the spec asks for', () => {
    const doc = spdxDocument(args()) as unknown as Doc;
    expect(doc).toMatchObject({
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      documentNamespace: `https://brickyard.dev/spdx/osu-micro-benchmarks/${DIGEST}`,
      creationInfo: { created: '2023-11-14T22:13:20Z', creators: ['Tool: brickyard-0.1.0'] },
    });
    const image = doc.packages[0]!;
    expect(image).toMatchObject({
      SPDXID: 'SPDXRef-Image',
      primaryPackagePurpose: 'CONTAINER',
      checksums: [{ algorithm: 'SHA256', checksumValue: 'ab'.repeat(32) }],
      versionInfo: '7.4-1',
      licenseDeclared: 'BSD-3-Clause',
    });
    const bsdutils = doc.packages.find((p) => p.name === 'bsdutils')!;
    expect(bsdutils).toMatchObject({
      SPDXID: 'SPDXRef-Package-deb-bsdutils-1-2.38.1-5-deb12u3-amd64',
      versionInfo: '1:2.38.1-5+deb12u3',
      supplier: 'Organization: util-linux packagers (util-linux@packages.debian.org)',
      downloadLocation: 'NOASSERTION',
      licenseConcluded: 'NOASSERTION',
      filesAnalyzed: false,
      sourceInfo: 'built from Debian source package util-linux 2.38.1-5+deb12u3',
    });
    const source = doc.packages.find((p) => p.name === 'osu-micro-benchmarks' && p.SPDXID !== 'SPDXRef-Image')!;
    expect(source).toMatchObject({
      SPDXID: 'SPDXRef-Source-osu-micro-benchmarks-7.4',
      downloadLocation: SOURCE.url,
      checksums: [{ algorithm: 'SHA256', checksumValue: SOURCE.sha256 }],
      packageFileName: 'osu-micro-benchmarks-7.4.tar.gz',
    });
    expect(doc.packages.map((p) => p.name)).toEqual(['osu-micro-benchmarks', 'base-files', 'bsdutils', 'ca-certificates', 'libc6', 'libgcc-s1', 'osu-micro-benchmarks']);
    const rel = doc.relationships.map((r) => `${r.spdxElementId} ${r.relationshipType} ${r.relatedSpdxElement}`);
    expect(rel[0]).toBe('SPDXRef-DOCUMENT DESCRIBES SPDXRef-Image');
    expect(rel.filter((r) => r.startsWith('SPDXRef-Image CONTAINS '))).toHaveLength(5);
    expect(rel).toContain('SPDXRef-Image GENERATED_FROM SPDXRef-Source-osu-micro-benchmarks-7.4');
    expect(rel).toHaveLength(7);
  });

  it('is deterministic: the same input gives the same JSON, whatever the input order', () => {
    const a = spdxJson(spdxDocument(args()));
    expect(spdxJson(spdxDocument(args()))).toBe(a);
    const shuffled = args({ packages: [...parseDpkgStatus(statusText)].reverse(), sources: [SOURCE] });
    expect(spdxJson(spdxDocument(shuffled))).toBe(a);
    expect(a).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/); // no UUIDs
    expect(spdxJson(spdxDocument(args({ imageDigest: 'sha256:' + 'cd'.repeat(32) })))).not.toBe(a);
  });

  it('writes purls for deb, rpm, generic sources and the OCI image', () => {
    const doc = spdxDocument(args()) as unknown as Doc;
    const purls = doc.packages.map((p) => p.externalRefs![0]!.referenceLocator);
    expect(purls).toEqual([
      `pkg:oci/osu-micro-benchmarks@${DIGEST}?repository_url=ghcr.io%2Fexample%2Fbrickyard%2Fosu-micro-benchmarks&tag=7.4-1-alps-normal`,
      'pkg:deb/debian/base-files@12.4+deb12u11?arch=amd64',
      'pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64',
      'pkg:deb/debian/ca-certificates@20230311+deb12u1?arch=all',
      'pkg:deb/debian/libc6@2.36-9+deb12u14?arch=amd64',
      'pkg:deb/debian/libgcc-s1@12.2.0-14+deb12u1?arch=amd64',
      'pkg:generic/osu-micro-benchmarks@7.4?checksum=sha256%3A1edd0c2efa61999409bfb28740a7f39689a5b42b1a1b4c66d1656e5637f7cefc&download_url=https%3A%2F%2Fmvapich.cse.ohio-state.edu%2Fdownload%2Fmvapich%2Fosu-micro-benchmarks-7.4.tar.gz',
    ]);
    // Every qualifier value decodes back to what went in.
    const q = new URLSearchParams(purls[6]!.split('?')[1]!.replace(/\+/g, '%2B'));
    expect(q.get('download_url')).toBe(SOURCE.url);
    expect(sourcePurl({ ...SOURCE, version: undefined })).toMatch(/^pkg:generic\/osu-micro-benchmarks\?checksum=/);
    expect(imagePurl('localhost:5000/brickyard/Osu@sha256:' + '0'.repeat(64), DIGEST, 'x', 'amd64')).toBe(
      `pkg:oci/osu@${DIGEST}?arch=amd64&repository_url=localhost%3A5000%2Fbrickyard%2FOsu`,
    );
    expect(packagePurl({ name: 'libc6', version: '2.36-9', arch: 'i386', manager: 'dpkg', namespace: 'ubuntu' })).toBe('pkg:deb/ubuntu/libc6@2.36-9?arch=i386');
    // Every purl parses back (packageurl-js, the reference implementation) to the parts that went in.
    const back = PackageURL.fromString(purls[2]!);
    expect([back.type, back.namespace, back.name, back.version, back.qualifiers]).toEqual(['deb', 'debian', 'bsdutils', '1:2.38.1-5+deb12u3', { arch: 'amd64' }]);
    expect(PackageURL.fromString(purls[6]!).qualifiers).toEqual({ checksum: `sha256:${SOURCE.sha256}`, download_url: SOURCE.url });
    const odd = purl({ type: 'generic', name: 'a b/c@d:e~f.g_h-i+j%', version: 'é', qualifiers: { note: 'x&y=z', empty: '' } });
    expect(odd).toBe('pkg:generic/a%20b%2Fc%40d%3Ae~f.g_h-i%2Bj%25@%C3%A9?note=x%26y%3Dz');
    expect(PackageURL.fromString(odd)).toMatchObject({ name: 'a b/c@d:e~f.g_h-i+j%', version: 'é', qualifiers: { note: 'x&y=z' } });
  });

  it('keeps licences that are SPDX expressions and notes the rest', () => {
    const rpmPkgs = parseRpmQuery(
      'bash\t(none)\t5.1.8\t9.el9\tx86_64\tGPLv3+\tRocky\thttps://www.gnu.org/software/bash\tbash.src.rpm\nzlib\t(none)\t1.2.11\t40.el9\tx86_64\tZlib\t(none)\t(none)\t(none)\n',
    );
    const doc = spdxDocument(args({ packages: rpmPkgs, sources: [] })) as unknown as Doc;
    expect(validateSpdx(doc)).toEqual([]);
    const bash = doc.packages.find((p) => p.name === 'bash')!;
    expect(bash).toMatchObject({ licenseConcluded: 'NOASSERTION', licenseDeclared: 'NOASSERTION', supplier: 'Organization: Rocky', homepage: 'https://www.gnu.org/software/bash' });
    expect(bash.licenseComments).toMatch(/GPLv3\+/);
    expect(doc.packages.find((p) => p.name === 'zlib')).toMatchObject({ licenseConcluded: 'Zlib', licenseDeclared: 'Zlib', supplier: 'NOASSERTION' });
  });

  it('refuses a malformed digest or source checksum, and takes the date from SOURCE_DATE_EPOCH', () => {
    expect(() => spdxDocument(args({ imageDigest: 'sha256:xyz' }))).toThrow(SbomError);
    expect(() => spdxDocument(args({ sources: [{ ...SOURCE, sha256: 'abc' }] }))).toThrow(/64 hex/);
    expect(spdxCreated('0')).toBe('1970-01-01T00:00:00Z');
    expect(spdxCreated(undefined, new Date('2024-05-06T07:08:09.123Z'))).toBe('2024-05-06T07:08:09Z');
    expect(() => spdxCreated('yesterday')).toThrow(SbomError);
    expect(spdxSupplier('Santiago Vila <sanvila@debian.org>')).toBe('Organization: Santiago Vila (sanvila@debian.org)');
    expect(spdxSupplier(undefined)).toBe('NOASSERTION');
  });
});

describe('validateSpdx', () => {
  it('fails broken documents: schema violations and spec rules', () => {
    const good = spdxDocument(args()) as unknown as Doc;
    const clone = (): Doc => JSON.parse(JSON.stringify(good)) as Doc;

    const noName = clone();
    delete noName.name;
    expect(validateSpdx(noName)).toEqual([expect.stringMatching(/^schema: \(document\) must have required property 'name'/)]);

    const badRel = clone();
    badRel.relationships[1]!.relationshipType = 'INSTALLED_IN';
    expect(validateSpdx(badRel).join('\n')).toMatch(/schema: \/relationships\/1\/relationshipType must be equal to one of the allowed values/);

    const extra = clone();
    extra.packages[1]!.colour = 'blue';
    expect(validateSpdx(extra).join('\n')).toMatch(/must NOT have additional properties: "colour"/);

    const badId = clone();
    badId.packages[1]!.SPDXID = 'SPDXRef-libc6:amd64';
    const errs = validateSpdx(badId);
    expect(errs.join('\n')).toMatch(/SPDXID "SPDXRef-libc6:amd64" must match/);
    expect(errs.join('\n')).toMatch(/is not an element of this document/);

    const dup = clone();
    dup.packages[2]!.SPDXID = dup.packages[1]!.SPDXID;
    expect(validateSpdx(dup).join('\n')).toMatch(/is used twice/);

    const analysed = clone();
    delete analysed.packages[1]!.filesAnalyzed;
    expect(validateSpdx(analysed).join('\n')).toMatch(/no packageVerificationCode/);

    expect(validateSpdx({}).length).toBeGreaterThan(0);
    expect(validateSpdx('not a document').length).toBeGreaterThan(0);
  });
});

describe('SPDXIDs', () => {
  const PATTERN = /^SPDXRef-[A-Za-z0-9.-]+$/;

  it('are well-formed and unique for any names (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 40 }), (names) => {
        const ids = new SpdxIds();
        const got = names.map((n) => ids.id(n));
        for (const id of got) expect(id).toMatch(PATTERN);
        expect(new Set(got.map((s) => s.toLowerCase())).size).toBe(got.length);
        expect(got).not.toContain('SPDXRef-DOCUMENT');
      }),
    );
  });

  it('keep names that are already valid, and sanitise the rest', () => {
    const ids = new SpdxIds();
    expect(ids.id('Package-deb-libc6-2.36-9-amd64')).toBe('SPDXRef-Package-deb-libc6-2.36-9-amd64');
    expect(ids.id('Package-deb-libstdc++6-12.2.0-14+deb12u1-amd64')).toBe('SPDXRef-Package-deb-libstdc-6-12.2.0-14-deb12u1-amd64');
    expect(ids.id('Package-deb-libstdc--6-12.2.0-14_deb12u1-amd64')).toBe('SPDXRef-Package-deb-libstdc--6-12.2.0-14-deb12u1-amd64');
    expect(ids.id('Package-deb-libstdc//6-12.2.0-14+deb12u1-amd64')).toBe('SPDXRef-Package-deb-libstdc-6-12.2.0-14-deb12u1-amd64-2');
    expect(ids.id('DOCUMENT')).toBe('SPDXRef-DOCUMENT-2');
    expect(ids.id('')).toBe('SPDXRef-element');
  });

  it('a source whose name is blank once trimmed keeps its entry without a purl (found by the property below)', () => {
    const doc = spdxDocument(args({ packages: [], sources: [{ name: '\t', url: 'http://a.aa', sha256: '0'.repeat(64), origin: 'x' }] }));
    expect(validateSpdx(doc)).toEqual([]);
    const source = (doc.packages as Record<string, unknown>[]).find((p) => p.name === '\t');
    expect(source).toBeDefined();
    expect(source?.externalRefs).toBeUndefined();
  });

  it('a document made from any packages and sources validates (property)', () => {
    const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 });
    const pkg = fc.record({
      name: text,
      version: text,
      arch: fc.constantFrom('amd64', 'arm64', 'all', 'x86_64', ''),
      manager: fc.constantFrom('dpkg' as const, 'rpm' as const),
      supplier: fc.option(text, { nil: undefined }),
      license: fc.option(fc.constantFrom('MIT', 'GPLv2+', 'BSD-3-Clause OR MIT', ''), { nil: undefined }),
      homepage: fc.option(fc.webUrl(), { nil: undefined }),
    });
    const src = fc.record({
      name: text,
      url: fc.webUrl(),
      sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
      origin: text,
    });
    fc.assert(
      fc.property(fc.array(pkg, { maxLength: 15 }), fc.array(src, { maxLength: 5 }), (packages, sources) => {
        const clean = (p: (typeof packages)[number]): InstalledPackage => {
          const out: InstalledPackage = { name: p.name, version: p.version, arch: p.arch, manager: p.manager };
          if (p.supplier !== undefined) out.supplier = p.supplier;
          if (p.license !== undefined) out.license = p.license;
          if (p.homepage !== undefined) out.homepage = p.homepage;
          return out;
        };
        const doc = spdxDocument(args({ packages: packages.map(clean), sources }));
        expect(validateSpdx(doc)).toEqual([]);
        expect(spdxJson(spdxDocument(args({ packages: [...packages].reverse().map(clean), sources: [...sources].reverse() })))).toBe(spdxJson(doc));
      }),
      { numRuns: 60 },
    );
  });
});
