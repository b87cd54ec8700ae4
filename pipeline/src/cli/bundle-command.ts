/**
 * The air-gap commands: `bundle` (sign and pack what was built for a system), `import` (a site
 * verifies and imports a bundle offline, under its policy), `inventory` (what a site holds, for
 * the next delta), and the `verify <bundle>` check a site runs before importing.
 */
import type { checkBundle as checkBundleType } from '../site/store.ts';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
// The libraries (Sigstore, tar, Ajv) load in the command that runs, not at start-up.
import type { Inventory } from '../bundle/write.ts';
import type { BundleSystemResult } from '../transfer/bundle-system.ts';
import { siteTrust, siteVerifier } from '../transfer/site-trust.ts';
import { BrickyardError } from '../util/errors.ts';
import type { Workspace } from '../workspace.ts';
import type { EarlyImport } from '../site/early-import.ts';
import type { Io } from './io.ts';
import { defaultStateDir } from '../state/layout.ts';

export function registerBundle(program: Command, io: Io, open: () => Promise<Workspace>, setExit: (code: number) => void, toolVersion: string): void {
  registerBundleCommand(program, io, open, toolVersion);
  registerImport(program, io);
  registerStoreCommands(program, io, setExit);
}

/** `bundle`: sign and pack what was built for a system. */
function registerBundleCommand(program: Command, io: Io, open: () => Promise<Workspace>, toolVersion: string): void {
  program
    .command('bundle')
    .description('pack what was built for a system into a signed air-gap bundle: manifest, checksums, one OCI layout, rendered files, sources, attestations')
    .requiredOption('--system <id>', 'the target system')
    .requiredOption('--out <path>', 'a .tar file, or a folder (with --chunk-size: a folder of parts)')
    .option('--inventory <file>', "the site's exported inventory: leave out what it holds (a delta bundle)")
    .option('--chunk-size <size>', 'split into parts of this size for media, e.g. "4 GiB"')
    .option('--serial <n>', 'the bundle serial (default: one more than the last bundle from this repository)')
    .option('--state <dir>', 'state folder with the builds (default: .brickyard in the checkout)')
    .option('--keyless', 'sign keylessly in GitHub Actions; default: the development signer')
    .option('--encrypt-for <public-key.pem>', "a confidential bundle: encrypt every image's layers for this site's public key (OCI image encryption, JWE)")
    .option(
      '--tool <file>',
      'also carry this site executable (dist/sea/brickyard-linux-<arch>) of this release, for `brickyard upgrade` (repeatable)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--json', 'machine-readable summary')
    .action(
      async (opts: {
        system: string;
        out: string;
        inventory?: string;
        chunkSize?: string;
        serial?: string;
        state?: string;
        keyless?: boolean;
        encryptFor?: string;
        tool?: string[];
        json?: boolean;
      }) => {
        const ws = await open();
        const [{ formatBytes }, { bundleSystem }, { parseSize }, { byteProgress }] = await Promise.all([
          import('../build/build.ts'),
          import('../transfer/bundle-system.ts'),
          import('../lint/rules.ts'),
          import('./progress.ts'),
        ]);
        const chunkSize = opts.chunkSize ? parseSize(opts.chunkSize.replace(/^(\d+)$/, '$1 MiB')) : undefined;
        if (chunkSize !== undefined && !(chunkSize > 0)) throw new BrickyardError('USAGE', `--chunk-size ${opts.chunkSize} is not a size such as "700 MiB" or "4 GiB"`);
        const inventory = opts.inventory ? (JSON.parse(readFileSync(opts.inventory, 'utf8')) as Inventory) : undefined;
        const started = performance.now();
        const bar = byteProgress('bundle');
        const result = await bundleSystem(ws, {
          stateDir: resolve(opts.state ?? defaultStateDir(ws.root)),
          system: opts.system,
          out: resolve(opts.out),
          keyless: opts.keyless === true,
          ...(opts.serial ? { serial: Number(opts.serial) } : {}),
          ...(inventory ? { inventory } : {}),
          ...(chunkSize ? { chunkSize } : {}),
          ...(opts.encryptFor ? { encryptFor: resolve(opts.encryptFor) } : {}),
          onProgress: bar.update,
          ...(opts.tool ? { tools: opts.tool.map((t) => ({ path: resolve(t), version: toolVersion })) } : {}),
        }).finally(bar.stop);
        const { serial, backend } = result;
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) io.out(JSON.stringify({ ...bundleSummary(result), seconds }, null, 2) + '\n');
        else {
          io.out(
            `bundle ${result.manifest.bundleId} (serial ${serial}) for ${opts.system}: ${result.images} image(s), ${formatBytes(result.sizes.bundleBytes)} in ${seconds.toFixed(1)} s → ${opts.out}\n`,
          );
          if (inventory)
            io.out(
              `delta: ${formatBytes(result.sizes.bundleBytes)} against ${formatBytes(result.sizes.fullBytes)} for a full bundle (${formatBytes(result.sizes.leftOutBytes)} the site already holds)\n`,
            );
          io.out(`signed by ${result.identity}${backend.kind === 'dev' ? ' (development signer)' : ''}\n`);
        }
      },
    );
}

/** `import`: verify a bundle offline under the site policy and import it, then admit its images. */
function registerImport(program: Command, io: Io): void {
  program
    .command('import')
    .description('verify a bundle offline against the site policy and import it atomically into the site store')
    .argument('<bundle>', 'the bundle: a .tar, a folder, or a folder of parts')
    .requiredOption('--policy <file>', 'the site policy (site-policy.yaml)')
    .requiredOption('--store <dir>', 'the site store')
    .option('--trusted-root <file>', "the pinned trusted_root.json (default: the policy's trustedRoot.path)")
    .option('--registry <host[:port]/prefix>', "after the import, push its images into the site's registry (digests kept)")
    .option('--decryption-key <private-key.pem>', "the site's private key for a confidential bundle (default: the policy's encryption.privateKey)")
    .option('--json', 'machine-readable result')
    .action(async (bundlePath: string, opts: { policy: string; store: string; trustedRoot?: string; registry?: string; decryptionKey?: string; json?: boolean }) => {
      // The store is locked and the large entries copied into its staging folder from here on,
      // while the rest loads (site/early-import.ts); taken back below unless the import took it over.
      const { EarlyImport } = await import('../site/early-import.ts');
      const early = EarlyImport.begin(opts.store, bundlePath);
      try {
        await importCommand(io, bundlePath, opts, early);
      } finally {
        early.close();
      }
    });
}

async function importCommand(
  io: Io,
  bundlePath: string,
  opts: { policy: string; store: string; trustedRoot?: string; registry?: string; decryptionKey?: string; json?: boolean },
  early: EarlyImport,
): Promise<void> {
  // The registry client (node:http and its fetch stack) only when an import pushes.
  const [{ formatBytes }, registryClient, { importAndAdmit }, { exportInventory }, { byteProgress }] = await Promise.all([
    import('../util/units.ts'),
    opts.registry ? import('../bundle/registry.ts') : undefined,
    import('../site/admit.ts'),
    import('../site/store.ts'),
    import('./progress.ts'),
  ]);
  const registry = opts.registry && registryClient ? { client: registryClient, target: registryClient.parseRegistry(opts.registry) } : undefined; // checked before anything is imported
  const { policy, trustedRootPath, pinned } = await siteTrust(opts.policy, opts.trustedRoot);
  const bar = byteProgress('verify');
  const result = await importAndAdmit({
    bundlePath: resolve(bundlePath),
    policy,
    store: resolve(opts.store),
    verifier: await siteVerifier(trustedRootPath, pinned),
    now: new Date(),
    trustedRootPath,
    ...(opts.decryptionKey ? { decryptionKeyPath: resolve(opts.decryptionKey) } : {}),
    onStage: (s) => io.err(`import: ${s}\n`),
    onProgress: bar.update,
    early,
  }).finally(bar.stop);
  const admissions = result.admissions;
  const pushed = registry
    ? await registry.client.pushImages(
        join(resolve(opts.store), 'oci'),
        exportInventory(resolve(opts.store)).images.filter((i) => i.bundleId === result.bundleId),
        registry.target,
        (s) => io.err(`import: ${s}\n`),
      )
    : [];
  if (opts.json) io.out(JSON.stringify({ ...result, admissions, pushed }, null, 2) + '\n');
  else {
    for (const s of result.skipped) io.err(`import: skipped the reference ${s.ref ?? '(unnamed)'} → ${s.digest}: ${s.reason}\n`);
    io.out(
      `imported ${result.bundleId} (serial ${result.serial}, ${result.images} image(s), ${formatBytes(result.bytes)}, ${result.newBlobs} new blob(s)) signed by ${result.identity} into ${opts.store} (generation ${result.generation})\n`,
    );
  }
}

/** `admit`, `audit`, `inventory` and `check-bundle`: the store and the policy, without importing. */
function registerStoreCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('admit')
    .description('sign an admission record (a SLSA Verification Summary, with the site key) for every image in the store that lacks one')
    .requiredOption('--store <dir>', 'the site store')
    .requiredOption('--policy <file>', 'the site policy the images were admitted under')
    .action(async (opts: { store: string; policy: string }) => {
      const [{ admit }, { loadPolicy }] = await Promise.all([import('../site/admit.ts'), import('../site/policy.ts')]);
      const loaded = loadPolicy(resolve(opts.policy));
      const written = await admit(resolve(opts.store), { policy: { path: loaded.path, sha256: loaded.sha256 } });
      io.out(written.length === 0 ? 'every image already has its admission record\n' : written.map((w) => `admitted ${w.refName}: ${w.bundle}\n`).join(''));
    });

  program
    .command('audit')
    .description("check the store's audit log: every entry must carry the hash of the one before it")
    .requiredOption('--store <dir>', 'the site store')
    .option('--json', 'print the entries')
    .action(async (opts: { store: string; json?: boolean }) => {
      const { verifyAuditLog } = await import('../site/store.ts');
      const entries = verifyAuditLog(resolve(opts.store));
      if (opts.json) io.out(JSON.stringify(entries, null, 2) + '\n');
      else io.out(`audit log intact: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}\n`);
    });

  program
    .command('inventory')
    .description('what a site store holds (blobs, images, bundles, serials): give it to the next `bundle --inventory` for a delta')
    .requiredOption('--store <dir>', 'the site store')
    .action(async (opts: { store: string }) => {
      const { exportInventory } = await import('../site/store.ts');
      io.out(JSON.stringify(exportInventory(resolve(opts.store)), null, 2) + '\n');
    });

  program
    .command('check-bundle')
    .description('verify a bundle offline against the site policy without importing it (nothing is written)')
    .argument('<bundle>', 'the bundle: a .tar, a folder, or a folder of parts')
    .requiredOption('--policy <file>', 'the site policy')
    .option('--trusted-root <file>', "the pinned trusted_root.json (default: the policy's trustedRoot.path)")
    .option('--store <dir>', 'also check serials and prerequisites against this store (read only)')
    .option('--decryption-key <private-key.pem>', "the site's private key for a confidential bundle (default: the policy's encryption.privateKey)")
    .addOption(new Option('--json', 'machine-readable result'))
    .action(async (bundlePath: string, opts: CheckBundleOptions) => {
      await runCheckBundle(io, bundlePath, opts);
      setExit(0);
    });
}

export interface CheckBundleOptions {
  policy: string;
  decryptionKey?: string;
  trustedRoot?: string;
  store?: string;
  json?: boolean;
}

/** Verify an air-gap bundle against a site policy, writing nothing (`check-bundle`, `verify BUNDLE`). */
export async function runCheckBundle(io: Io, bundlePath: string, opts: CheckBundleOptions): Promise<void> {
  // The large entries start hashing first, while the verifier loads and the policy, the trusted
  // root and the manifest's signature are checked (a few hundred milliseconds).
  const { Prehash } = await import('../bundle/prehash.ts');
  const prehash = Prehash.start(resolve(bundlePath));
  try {
    const [{ formatBytes }, { checkBundle }] = await Promise.all([import('../util/units.ts'), import('../site/store.ts')]);
    const { policy, trustedRootPath, pinned } = await siteTrust(opts.policy, opts.trustedRoot);
    const r = await checkBundle({
      bundlePath: resolve(bundlePath),
      policy,
      verifier: await siteVerifier(trustedRootPath, pinned),
      now: new Date(),
      trustedRootPath,
      prehash,
      ...(opts.store ? { store: resolve(opts.store) } : {}),
      ...(opts.decryptionKey ? { decryptionKeyPath: resolve(opts.decryptionKey) } : {}),
    });
    printChecked(io, r, opts, formatBytes);
  } finally {
    prehash.close();
  }
}

function printChecked(io: Io, r: Awaited<ReturnType<typeof checkBundleType>>, opts: CheckBundleOptions, formatBytes: (n: number) => string): void {
  if (opts.json)
    io.out(
      JSON.stringify(
        {
          ok: true,
          bundleId: r.manifest.bundleId,
          serial: r.manifest.serial,
          identity: r.identity,
          issuer: r.issuer,
          images: r.images,
          bytes: r.bytes,
          admitted: r.admitted.map((a) => ({
            refName: a.refName,
            digest: a.manifestDigest,
            tests: a.tests.map((t) => ({ file: t.file, verdict: t.verdict, launcher: t.launcher })),
            ...(a.imagePolicy ? { imagePolicy: a.imagePolicy } : {}),
          })),
          skipped: r.skipped,
        },
        null,
        2,
      ) + '\n',
    );
  else {
    for (const s of r.skipped) io.err(`check-bundle: would skip the reference ${s.ref ?? '(unnamed)'} → ${s.digest}: ${s.reason}\n`);
    io.out(`verified ${r.manifest.bundleId} (serial ${r.manifest.serial}): ${r.images} image(s), ${formatBytes(r.bytes)}, signed by ${r.identity}; the site policy accepts it\n`);
  }
}

/** What `bundle --json` prints: the bundle written (the signer's key material stays out). */
function bundleSummary(r: BundleSystemResult): Omit<BundleSystemResult, 'backend'> & { signer: 'dev' | 'keyless' } {
  const { backend, ...rest } = r;
  return { ...rest, signer: backend.kind };
}
