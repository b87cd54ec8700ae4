/**
 * Image policy facts signed with the SBOM: the signer inspects the image it re-hashed (user,
 * setuid files, size) against the system's policies from its own catalogue, writes the findings
 * into the SPDX document it signs, and a site reads them back from the verified statement only.
 * An edited finding breaks the signature; the import refuses it and the store is unchanged.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { inspectImageStrict } from '../../pipeline/src/build/inspect.ts';
import { imagePolicyFacts, readImagePolicyFacts, withImagePolicyFacts, IMAGE_POLICY_ANNOTATOR, IMAGE_POLICY_PREFIX } from '../../pipeline/src/sign/image-policy-facts.ts';
import { signReceivedBuilds } from '../../pipeline/src/sign/received.ts';
import { tempDir } from '../helpers/fixture.ts';
import { receivedBuild, where, ws } from '../helpers/received-build.ts';
import { makeState, NOW, sha256, signState, snapshot, SOURCE } from '../bundle/fixture.ts';
import { importInto, keys, policyFile } from '../site/site-fixture.ts';

const local = where.system.doc; // systems/local.yaml: imagePolicyNext with noRootUser, noSetuid, maxImageSize 1536 MiB

function tarOf(entries: { path: string; mode?: number; data?: string }[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const h = new Header({ path: e.path, mode: e.mode ?? 0o644, uid: 0, gid: 0, size: data.length, mtime: new Date(0), type: 'File', uname: '', gname: '' });
    h.encode();
    out.push(h.block!, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

function putBlob(layout: string, data: Buffer | string): { digest: string; size: number } {
  const b = Buffer.from(data);
  const hex = sha256(b);
  writeFileSync(join(layout, 'blobs', 'sha256', hex), b);
  return { digest: `sha256:${hex}`, size: b.length };
}

/** A layout of one image: a setuid sudo and passwd, then a layer that deletes passwd; and maybe an opaque layer. */
function layoutWith(opts: { user?: string; opaque?: boolean } = {}): { layout: string; manifest: string; opaque?: string } {
  const layout = tempDir('brickyard-policy-layout-');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const l1 = putBlob(
    layout,
    gzipSync(
      tarOf([
        { path: 'usr/bin/sudo', mode: 0o4755, data: 'x'.repeat(100) },
        { path: 'usr/bin/passwd', mode: 0o4755, data: 'y' },
        { path: 'etc/motd', data: 'hello' },
      ]),
    ),
  );
  const l2 = putBlob(layout, tarOf([{ path: 'usr/bin/.wh.passwd' }]));
  const layers = [l1, l2];
  let opaque: { digest: string; size: number } | undefined;
  if (opts.opaque) layers.push((opaque = putBlob(layout, Buffer.alloc(3000, 7))));
  const config = putBlob(
    layout,
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: opts.user === undefined ? {} : { User: opts.user }, rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const manifest = putBlob(
    layout,
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
    }),
  );
  return { layout, manifest: manifest.digest, ...(opaque ? { opaque: opaque.digest } : {}) };
}

describe('the signer inspects the image it verified', () => {
  it('finds the user, the setuid files a later layer did not delete, and the size; the next policy refuses them', () => {
    const { layout, manifest } = layoutWith();
    const f = imagePolicyFacts(layout, manifest, local, 'debug');
    expect(f.facts).toEqual({ user: '', setuidFiles: ['/usr/bin/sudo'], uncompressedBytes: 106 });
    expect(f.unreadableLayers).toEqual([]);
    expect(f.current).toBeUndefined(); // local has no current image policy
    expect(f.next?.effective).toBe('2027-06-01');
    expect(f.next?.findings.map((x) => x.rule)).toEqual(['noRootUser', 'noSetuid']);
    expect(f.next?.findings[1]!.message).toContain('/usr/bin/sudo');
    // A non-root user: only the setuid file is left.
    const user = layoutWith({ user: '1000:1000' });
    expect(imagePolicyFacts(user.layout, user.manifest, local, 'debug').next?.findings.map((x) => x.rule)).toEqual(['noSetuid']);
  });

  it('says which layers it could not read rather than reporting them clean', () => {
    const { layout, manifest, opaque } = layoutWith({ opaque: true });
    expect(inspectImageStrict(layout, manifest).unreadableLayers).toEqual([opaque]);
  });

  it("actions/sign's library call puts the facts into the SBOM statement it signs", async () => {
    const m = receivedBuild();
    const state = tempDir('brickyard-signed-');
    const result = await signReceivedBuilds(ws, {
      pairs: [{ recipe: 'mpi-pingpong', version: '1.0.0', system: 'local', partition: 'debug' }],
      builds: join(m.dir, '..'),
      stateDir: state,
      roles: ['sbom', 'test-result'],
      keyless: false,
    });
    const sbom = JSON.parse(readFileSync(result.pairs[0]!.files.find((f) => f.kind === 'sbom')!.statement, 'utf8')) as { predicate: unknown };
    const facts = readImagePolicyFacts(sbom.predicate, m.manifestDigest)!;
    expect(facts.system).toBe('local');
    expect(facts.partition).toBe('debug');
    // The helper's layer is an opaque blob: said so, not passed as clean.
    expect(facts.unreadableLayers).toEqual([`sha256:${sha256(readFileSync(m.layerPath))}`]);
  }, 60_000);
});

describe('reading the facts back', () => {
  const { layout, manifest } = layoutWith();
  const facts = imagePolicyFacts(layout, manifest, local, 'debug');
  const spdx = withImagePolicyFacts(
    { spdxVersion: 'SPDX-2.3', annotations: [{ annotator: 'Person: someone', annotationType: 'REVIEW', annotationDate: '2026-01-01T00:00:00Z', comment: 'ok' }] },
    facts,
    '2026-05-01T00:00:00Z',
  );

  it('round trip; other annotations are kept; a second write replaces ours', () => {
    expect(readImagePolicyFacts(spdx, manifest)).toEqual(facts);
    expect((spdx['annotations'] as unknown[]).length).toBe(2);
    expect((withImagePolicyFacts(spdx, facts, '2026-05-01T00:00:00Z')['annotations'] as unknown[]).length).toBe(2);
    expect(readImagePolicyFacts({ spdxVersion: 'SPDX-2.3' }, manifest)).toBeUndefined();
  });

  it('refuses facts about another image, two sets of facts, and a malformed one', () => {
    expect(() => readImagePolicyFacts(spdx, `sha256:${'0'.repeat(64)}`)).toThrow(/are about sha256:[0-9a-f]{64}, the statement is about sha256:0{64}/);
    const twice = { annotations: [...(spdx['annotations'] as object[]), (spdx['annotations'] as object[])[1]!] };
    expect(() => readImagePolicyFacts(twice, manifest)).toThrow(/hold 2 annotations/);
    const bad = { annotations: [{ annotator: IMAGE_POLICY_ANNOTATOR, comment: IMAGE_POLICY_PREFIX + JSON.stringify({ ...facts, facts: { user: 0 } }) }] };
    expect(() => readImagePolicyFacts(bad, manifest)).toThrow(/wrong shape/);
  });
});

describe('a site reads them from the verified SBOM; an edited finding is refused', () => {
  /** A signed state whose SBOM statement carries the facts of its real (tar) layers. */
  async function signedState(): Promise<{ state: string; sbom: string; manifest: string }> {
    const state = makeState('local', [{ recipe: 'demo', version: '1.0' }], undefined, true);
    const dir = join(state, 'builds', 'demo@1.0', 'local-cpu');
    const manifest = (JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as { image: { manifestDigest: string } }).image.manifestDigest;
    const sbomPath = join(dir, 'sbom.intoto.json');
    const statement = JSON.parse(readFileSync(sbomPath, 'utf8')) as { predicate: Record<string, unknown> };
    statement.predicate = withImagePolicyFacts(statement.predicate, imagePolicyFacts(join(state, 'oci'), manifest, local, 'cpu'), '2026-05-01T00:00:00Z');
    writeFileSync(sbomPath, JSON.stringify(statement));
    await signState(state, keys.dev);
    return { state, sbom: join(dir, 'sbom.sigstore.json'), manifest };
  }
  const bundle = async (state: string): Promise<string> => {
    const out = join(tempDir('brickyard-bundle-'), 'b.tar');
    await writeBundle({ stateDir: state, system: 'local', out, signer: keys.signer, serial: 1, source: SOURCE, now: NOW });
    return out;
  };
  const policy = policyFile();

  it('the import admits the image with the facts of its signed SBOM', async () => {
    const { state, manifest } = await signedState();
    const store = tempDir('brickyard-store-');
    const r = await importInto(store, await bundle(state), policy);
    expect(r.admitted).toHaveLength(1);
    const facts = r.admitted[0]!.imagePolicy!;
    expect(facts.image).toBe(manifest);
    expect(facts.facts.user).toBe('');
    expect(facts.next?.findings.map((f) => f.rule)).toEqual(['noRootUser']);
  }, 60_000);

  it('a finding removed from the signed payload fails the SBOM signature: refused, the store unchanged', async () => {
    const { state, sbom, manifest } = await signedState();
    const signed = JSON.parse(readFileSync(sbom, 'utf8')) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(signed.dsseEnvelope.payload, 'base64').toString('utf8')) as { predicate: Record<string, unknown> };
    const facts = readImagePolicyFacts(statement.predicate, manifest)!;
    expect(facts.next!.findings).not.toEqual([]);
    statement.predicate = withImagePolicyFacts(statement.predicate, { ...facts, next: { ...facts.next!, findings: [] } }, '2026-05-01T00:00:00Z');
    signed.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    writeFileSync(sbom, JSON.stringify(signed));
    const store = tempDir('brickyard-store-');
    const path = await bundle(state);
    const before = snapshot(store);
    await expect(importInto(store, path, policy)).rejects.toThrow(/the SBOM attestation .*sbom\.sigstore\.json does not verify .*signature verification failed/);
    expect(snapshot(store)).toEqual(before);
  }, 60_000);
});
