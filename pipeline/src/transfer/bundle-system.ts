/**
 * Bundle a system: sign and pack what was built for it into one air-gap bundle. The one use case
 * behind `brickyard bundle`, the main job and the publish action: the signer, the serial rule
 * (serial.ts) and the source (source.ts) are decided here, the callers only parse and print.
 */
import { join } from 'node:path';
import { SigstoreManifestSigner } from '../bundle/sigstore.ts';
import type { ManifestSigner } from '../bundle/signing.ts';
import { writeBundle, type Inventory, type WriteBundleResult } from '../bundle/write.ts';
import type { KeylessSigner } from '../sign/keyless.ts';
import type { DevSigner } from '../sign/dev-signer.ts';
import { signerFor } from '../sign/pair.ts';
import type { Workspace } from '../workspace.ts';
import { nextSerial } from './serial.ts';
import { sourceOf, type Source } from './source.ts';

export interface BundleSystemOptions {
  /** The state folder with the builds (and the development signer and the serial counter). */
  stateDir: string;
  system: string;
  /** A .tar file, or a folder (with chunkSize: a folder of parts). */
  out: string;
  /** Sign keylessly (GitHub Actions); else the state folder's development signer. */
  keyless?: boolean;
  /** The serial; else the next one by the rule in serial.ts. */
  serial?: number;
  /** Where the bundle comes from; else this checkout (source.ts). */
  source?: Source;
  /** A site's inventory: leave out what it holds (a delta bundle). */
  inventory?: Inventory;
  chunkSize?: number;
  /** A site's public key (PEM file): a confidential bundle. */
  encryptFor?: string;
  /** Site executables to carry, each with its version. */
  tools?: { path: string; version: string }[];
  now?: Date;
  /** The environment the serial rule reads (GITHUB_ACTIONS, GITHUB_RUN_NUMBER); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Tar bytes written so far and the approximate total. */
  onProgress?: (done: number, total: number) => void;
  /** The exact manifest bytes and signature (Sigstore bundle JSON) that go into the bundle, e.g. to publish them beside it. */
  onSigned?: (signed: { manifest: Buffer; signature: Buffer }) => void;
}

export interface BundleSystemResult extends WriteBundleResult {
  serial: number;
  source: Source;
  /** The signer that signed the manifest. */
  backend: DevSigner | KeylessSigner;
}

export async function bundleSystem(ws: Workspace, opts: BundleSystemOptions): Promise<BundleSystemResult> {
  ws.partitionsOf(opts.system); // a clear error for an unknown system
  const source = opts.source ?? sourceOf(ws.root);
  const backend = await signerFor(opts.stateDir, { keyless: opts.keyless === true });
  const serial = opts.serial ?? nextSerial(opts.stateDir, source.repository, opts.env);
  const inner = new SigstoreManifestSigner(backend);
  const onSigned = opts.onSigned;
  const signer: ManifestSigner = onSigned
    ? {
        sign: async (bytes) => {
          const s = await inner.sign(bytes);
          onSigned({ manifest: Buffer.from(bytes), signature: Buffer.from(JSON.stringify(s.bundleJson, null, 2) + '\n') });
          return s;
        },
      }
    : inner;
  const result = await writeBundle({
    stateDir: opts.stateDir,
    system: opts.system,
    out: opts.out,
    signer,
    serial,
    source,
    now: opts.now ?? new Date(),
    ...(opts.inventory ? { inventory: opts.inventory } : {}),
    ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
    ...(opts.encryptFor ? { encryptFor: opts.encryptFor } : {}),
    ...(backend.kind === 'dev' ? { trustedRoot: join(backend.dir, 'trusted_root.json') } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.tools?.length ? { tools: opts.tools } : {}),
  });
  return { ...result, serial, source, backend };
}
