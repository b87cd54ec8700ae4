/**
 * Brickyard publish action: one signed air-gap bundle for a system, attached to a GitHub
 * release, and optionally the images pushed to a registry.
 *
 * Choices:
 * - Serial: the `serial` input; else the rule every bundle follows (pipeline/src/transfer/serial.ts):
 *   one more than the state folder's counter, and in GitHub Actions at least the workflow run
 *   number (`GITHUB_RUN_NUMBER`), since every job starts from a fresh state folder.
 * - Asset names carry the system (`<system>-manifest.json`, `<system>-manifest.sigstore.json`,
 *   `<system>-bundle.tar`, or `<system>-checksums.txt` and `<system>-payload.tar.partNNN`), since one
 *   release holds a bundle per site system. The tar also holds the manifest and its signature
 *   (first entries); the separate copies let a site check the signature before downloading the tar.
 *   For parts, strip the `<system>-` prefix into one folder and import that folder.
 * - An existing asset of the same name is deleted, then uploaded again: re-running a release
 *   replaces, never duplicates.
 * - Each asset is read into memory (a Buffer) and uploaded in one request: GitHub takes release
 *   assets up to 2 GiB, so anything larger is refused before uploading, with the hint to set
 *   chunk-size; parts of a few hundred MiB keep the runner's memory use low.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { parseRegistry, pushImages } from '../../../pipeline/src/bundle/registry.ts';
import * as github from '@actions/github';
import { formatBytes } from '../../../pipeline/src/build/build.ts';
import { MANIFEST, SIGNATURE } from '../../../pipeline/src/bundle/manifest.ts';
import { builtPairs } from '../../../pipeline/src/bundle/write.ts';
import { bundleSystem } from '../../../pipeline/src/transfer/bundle-system.ts';
import { VERSION } from '../../../pipeline/src/version.ts';
import { parseSize } from '../../../pipeline/src/lint/rules.ts';
import { escapeHtml } from '../../../pipeline/src/pr/annotate.ts';
import { Workspace } from '../../../pipeline/src/workspace.ts';
import { stateLayout } from '../../../pipeline/src/state/layout.ts';

export interface Inputs {
  system: string;
  root: string;
  stateDir: string;
  token: string;
  tag: string;
  prerelease: boolean;
  signer: string;
  serial: string;
  chunkSize: string;
  registry: string;
  outDir: string;
  /** Site executables of this release to carry (role tool), for `brickyard upgrade`. */
  tools?: string[];
  workspace: string;
}

/** The largest release asset GitHub accepts. */
export const MAX_ASSET_BYTES = 2 * 1024 ** 3 - 1;

export interface Asset {
  name: string;
  path: string;
  size: number;
  sha256: string;
}

function describeError(e: unknown): string {
  const err = e as Error & { hint?: string };
  return err.hint ? `${err.message} (${err.hint})` : err.message;
}

/** Streamed: parts and bundles run to gigabytes. */
function sha256Of(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

function asset(name: string, path: string): Asset {
  return { name, path, size: statSync(path).size, sha256: sha256Of(path) };
}

/** Push each image of the system's builds from the OCI layout to the registry; keep the manifest digest. */
async function pushSystemImages(stateDir: string, system: string, spec: string): Promise<{ reference: string; digest: string }[]> {
  const images = builtPairs(stateDir, system).map(({ record: r }) => ({
    refName: r.image.refName,
    manifestDigest: r.image.manifestDigest,
    recipe: r.recipe.name,
    version: r.recipe.version,
    system: r.system,
    partition: r.partition,
  }));
  return pushImages(stateLayout(stateDir).oci, images, parseRegistry(spec), (s) => core.info(s));
}

export async function run(inputs: Inputs): Promise<void> {
  try {
    const chunkSize = checkInputs(inputs);

    const ws = Workspace.open(resolve(inputs.workspace, inputs.root));
    const stateDir = resolve(inputs.workspace, inputs.stateDir);
    const outDir = resolve(inputs.workspace, inputs.outDir || join(stateLayout(inputs.stateDir).publish, inputs.system));
    mkdirSync(outDir, { recursive: true });
    const out = chunkSize ? join(outDir, `${inputs.system}-bundle`) : join(outDir, `${inputs.system}-bundle.tar`);
    // Keep the exact manifest bytes and signature that go into the bundle, to attach them beside it.
    let signed: { manifest: Buffer; signature: Buffer } | undefined;
    const result = await core.group(`bundle ${inputs.system}`, () =>
      bundleSystem(ws, {
        stateDir,
        system: inputs.system,
        out,
        keyless: inputs.signer === 'keyless',
        ...(inputs.serial ? { serial: Number(inputs.serial) } : {}),
        ...(chunkSize ? { chunkSize } : {}),
        ...(inputs.tools?.length ? { tools: inputs.tools.map((t) => ({ path: resolve(inputs.workspace, t), version: VERSION })) } : {}),
        onSigned: (s) => (signed = s),
      }),
    );
    const { serial, backend } = result;
    if (!signed) throw new Error('the bundle was written without a signature');
    const manifestPath = join(outDir, `${inputs.system}-${MANIFEST}`);
    const signaturePath = join(outDir, `${inputs.system}-${SIGNATURE}`);
    writeFileSync(manifestPath, signed.manifest);
    writeFileSync(signaturePath, signed.signature);
    const manifestDigest = `sha256:${createHash('sha256').update(signed.manifest).digest('hex')}`;

    const assets: Asset[] = [asset(`${inputs.system}-${MANIFEST}`, manifestPath), asset(`${inputs.system}-${SIGNATURE}`, signaturePath)];
    if (result.form === 'parts') {
      assets.push(asset(`${inputs.system}-checksums.txt`, join(out, 'checksums.txt')));
      for (const p of result.parts ?? []) assets.push(asset(`${inputs.system}-${p.name}`, join(out, p.name)));
    } else {
      assets.push(asset(`${inputs.system}-bundle.tar`, out));
    }
    const bundleSize = result.form === 'parts' ? (result.parts ?? []).reduce((n, p) => n + p.size, 0) : statSync(out).size;
    core.setOutput('bundle', out);
    core.setOutput('manifest-digest', manifestDigest);
    core.setOutput('bundle-size', String(bundleSize));
    core.info(`bundle ${result.manifest.bundleId} (serial ${serial}): ${result.images} image(s), ${formatBytes(bundleSize)}, signed by ${result.identity}`);

    const images = inputs.registry ? await core.group(`push to ${inputs.registry}`, () => pushSystemImages(stateDir, inputs.system, inputs.registry)) : [];
    core.setOutput('images', JSON.stringify(images));

    const releaseUrl = inputs.tag ? await attachToRelease(inputs, assets) : '';
    core.setOutput('release-url', releaseUrl);
    core.setOutput('assets', JSON.stringify(assets));

    await writeSummary(
      inputs,
      { serial, images: result.images, identity: result.identity, dev: backend.kind === 'dev' },
      { bundleSize, manifestDigest, releaseUrl, assets, images },
    );
  } catch (e) {
    core.setFailed(`brickyard publish: ${describeError(e)}`);
  }
}

/** The inputs checked before anything is written; returns the chunk size in bytes, when given. */
function checkInputs(inputs: Inputs): number | undefined {
  if (inputs.signer !== 'keyless' && inputs.signer !== 'dev') throw new Error(`signer must be keyless or dev, got ${JSON.stringify(inputs.signer)}`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(inputs.system)) throw new Error(`system must be a system id, got ${JSON.stringify(inputs.system)}`);
  if (inputs.tag && !inputs.token) throw new Error('github-token is required to attach the bundle to a release');
  if (inputs.tag && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/.test(inputs.tag)) throw new Error(`tag ${JSON.stringify(inputs.tag)} is not a release tag`);
  if (inputs.serial && !/^[1-9][0-9]{0,15}$/.test(inputs.serial)) throw new Error(`serial must be a positive integer, got ${JSON.stringify(inputs.serial)}`);
  if (inputs.registry) parseRegistry(inputs.registry);
  const chunkSize = inputs.chunkSize ? parseSize(inputs.chunkSize.trim().replace(/^(\d+)$/, '$1 MiB')) : undefined;
  if (chunkSize !== undefined && !(chunkSize > 0)) throw new Error(`chunk-size ${JSON.stringify(inputs.chunkSize)} is not a size such as "700 MiB" or "1.5 GiB"`);
  return chunkSize;
}

/** The assets uploaded to the release of `inputs.tag` (made when missing), replacing those of the same name; returns its URL. */
async function attachToRelease(inputs: Inputs, assets: Asset[]): Promise<string> {
  const tooBig = assets.find((a) => a.size > MAX_ASSET_BYTES);
  if (tooBig) throw new Error(`${tooBig.name} is ${formatBytes(tooBig.size)}: GitHub takes release assets up to 2 GiB (set chunk-size, e.g. "1900 MiB")`);
  const octokit = github.getOctokit(inputs.token);
  const { owner, repo } = github.context.repo;
  let release: { id: number; html_url: string; upload_url: string };
  try {
    release = (await octokit.rest.repos.getReleaseByTag({ owner, repo, tag: inputs.tag })).data;
    core.info(`release ${inputs.tag} exists (${release.id})`);
  } catch (e) {
    if ((e as { status?: number }).status !== 404) throw e;
    release = (
      await octokit.rest.repos.createRelease({
        owner,
        repo,
        tag_name: inputs.tag,
        name: inputs.tag,
        prerelease: inputs.prerelease,
        ...(process.env['GITHUB_SHA'] ? { target_commitish: process.env['GITHUB_SHA'] } : {}),
      })
    ).data;
    core.info(`created release ${inputs.tag} (${release.id})`);
  }
  const existing = await octokit.paginate(octokit.rest.repos.listReleaseAssets, { owner, repo, release_id: release.id, per_page: 100 });
  for (const a of assets) {
    for (const old of existing.filter((x) => x.name === a.name)) {
      await octokit.rest.repos.deleteReleaseAsset({ owner, repo, asset_id: old.id });
      core.info(`deleted the previous ${a.name} (${old.id})`);
    }
    const data = readFileSync(a.path);
    await octokit.rest.repos.uploadReleaseAsset({
      owner,
      repo,
      release_id: release.id,
      url: release.upload_url,
      name: a.name,
      // Typed as a string; a Buffer is sent as the raw bytes.
      data: data as unknown as string,
      headers: { 'content-type': 'application/octet-stream' },
    });
    core.info(`uploaded ${a.name} (${formatBytes(a.size)})`);
  }
  return release.html_url;
}

/** The job summary: the bundle, its assets and the images pushed. */
async function writeSummary(
  inputs: Inputs,
  bundle: { serial: number; images: number; identity: string; dev: boolean },
  out: { bundleSize: number; manifestDigest: string; releaseUrl: string; assets: Asset[]; images: { reference: string; digest: string }[] },
): Promise<void> {
  const summary = core.summary
    .addHeading(`Bundle: ${escapeHtml(inputs.system)} (serial ${bundle.serial})`, 3)
    .addRaw(
      `<p>${bundle.images} image(s), ${escapeHtml(formatBytes(out.bundleSize))}, manifest <code>${out.manifestDigest}</code>, signed by <code>${escapeHtml(bundle.identity)}</code>${bundle.dev ? ' (development signer)' : ''}${out.releaseUrl ? `; attached to <a href="${escapeHtml(out.releaseUrl)}">${escapeHtml(inputs.tag)}</a>` : ''}</p>`,
      true,
    )
    .addTable([
      [
        { data: 'asset', header: true },
        { data: 'size', header: true },
        { data: 'sha256', header: true },
      ],
      ...out.assets.map((a) => [escapeHtml(a.name), formatBytes(a.size), a.sha256]),
    ]);
  if (out.images.length > 0)
    summary.addTable([
      [
        { data: 'image', header: true },
        { data: 'digest', header: true },
      ],
      ...out.images.map((i) => [escapeHtml(i.reference), i.digest]),
    ]);
  await summary.write();
}
