/**
 * The air-gap commands: `bundle` (sign and pack what was built for a system), `import` (a site
 * verifies and imports a bundle offline, under its policy), `inventory` (what a site holds, for
 * the next delta), and the `verify <bundle>` check a site runs before importing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
// The libraries (Sigstore, tar, Ajv) load in the command that runs, not at start-up.
import type { SigstoreManifestVerifier } from '../bundle/sigstore.ts';
import type { Inventory } from '../bundle/write.ts';
import { gitOrEmpty } from '../git/git.ts';
import { BrickyardError } from '../util/errors.ts';
import type { Workspace } from '../workspace.ts';
import type { Io } from './io.ts';

/** The next serial for this source, kept in the state folder: strictly increasing per repository. */
export function nextSerial(stateDir: string, repository: string): number {
  const path = join(stateDir, 'bundle-serials.json');
  const serials = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>) : {};
  const next = (serials[repository] ?? 0) + 1;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...serials, [repository]: next }, null, 2) + '\n');
  return next;
}

export function sourceOf(root: string): { repository: string; commit: string } {
  const repository = process.env['GITHUB_REPOSITORY'] ?? (gitOrEmpty(root, ['remote', 'get-url', 'origin']).replace(/^.*[:/]([^/]+\/[^/]+?)(\.git)?$/, '$1') || 'local/brickyard');
  return { repository, commit: gitOrEmpty(root, ['rev-parse', 'HEAD']) || '0'.repeat(40) };
}

/**
 * The verifier a site uses: its pinned trusted root (its sha256 checked against the pin, when
 * given, before it is parsed); a development root has no CT log.
 */
export async function siteVerifier(trustedRootPath: string, pinnedSha256?: string): Promise<SigstoreManifestVerifier> {
  const [{ SigstoreManifestVerifier }, { loadTrustedRoot }] = await Promise.all([import('../bundle/sigstore.ts'), import('../site/trusted-root.ts')]);
  const trustedRoot = loadTrustedRoot(trustedRootPath, pinnedSha256) as { ctlogs?: unknown[] };
  return new SigstoreManifestVerifier({ trustedRoot, ...((trustedRoot.ctlogs ?? []).length === 0 ? { ctlogThreshold: 0 } : {}) });
}

export function registerBundle(program: Command, io: Io, open: () => Promise<Workspace>, setExit: (code: number) => void, toolVersion: string): void {
  program
    .command('bundle')
    .description('pack what was built for a system into a signed air-gap bundle: manifest, checksums, one OCI layout, rendered files, sources, attestations')
    .requiredOption('--system <id>', 'the target system')
    .requiredOption('--out <path>', 'a .tar file, or a folder (with --chunk-size: a folder of parts)')
    .option('--inventory <file>', 'the site\'s exported inventory: leave out what it holds (a delta bundle)')
    .option('--chunk-size <size>', 'split into parts of this size for media, e.g. "4 GiB"')
    .option('--serial <n>', 'the bundle serial (default: one more than the last bundle from this repository)')
    .option('--state <dir>', 'state folder with the builds (default: .brickyard in the checkout)')
    .option('--keyless', 'sign keylessly in GitHub Actions; default: the development signer')
    .option('--encrypt-for <public-key.pem>', "a confidential bundle: encrypt every image's layers for this site's public key (OCI image encryption, JWE)")
    .option('--tool <file>', 'also carry this site executable (dist/sea/brickyard-linux-<arch>) of this release, for `brickyard upgrade` (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--json', 'machine-readable summary')
    .action(async (opts: { system: string; out: string; inventory?: string; chunkSize?: string; serial?: string; state?: string; keyless?: boolean; encryptFor?: string; tool?: string[]; json?: boolean }) => {
      const ws = await open();
      ws.partitionsOf(opts.system); // a clear error for an unknown system
      const [{ formatBytes }, { SigstoreManifestSigner }, { writeBundle }, { parseSize }, { signerFor }, { byteProgress }] = await Promise.all([
        import('../build/build.ts'),
        import('../bundle/sigstore.ts'),
        import('../bundle/write.ts'),
        import('../lint/rules.ts'),
        import('../sign/pair.ts'),
        import('./progress.ts'),
      ]);
      const stateDir = resolve(opts.state ?? join(ws.root, '.brickyard'));
      const source = sourceOf(ws.root);
      const backend = await signerFor(stateDir, { keyless: opts.keyless === true });
      const chunkSize = opts.chunkSize ? parseSize(opts.chunkSize.replace(/^(\d+)$/, '$1 MiB')) : undefined;
      if (chunkSize !== undefined && !(chunkSize > 0)) throw new BrickyardError('USAGE', `--chunk-size ${opts.chunkSize} is not a size such as "700 MiB" or "4 GiB"`);
      const inventory = opts.inventory ? (JSON.parse(readFileSync(opts.inventory, 'utf8')) as Inventory) : undefined;
      const serial = opts.serial ? Number(opts.serial) : nextSerial(stateDir, source.repository);
      const started = performance.now();
      const bar = byteProgress('bundle');
      const result = await writeBundle({
        stateDir,
        system: opts.system,
        out: resolve(opts.out),
        signer: new SigstoreManifestSigner(backend),
        serial,
        source,
        ...(inventory ? { inventory } : {}),
        ...(chunkSize ? { chunkSize } : {}),
        ...(opts.encryptFor ? { encryptFor: resolve(opts.encryptFor) } : {}),
        now: new Date(),
        ...(backend.kind === 'dev' ? { trustedRoot: join(backend.dir, 'trusted_root.json') } : {}),
        onProgress: bar.update,
        ...(opts.tool ? { tools: opts.tool.map((t) => ({ path: resolve(t), version: toolVersion })) } : {}),
      }).finally(bar.stop);
      const seconds = (performance.now() - started) / 1000;
      if (opts.json) io.out(JSON.stringify({ ...result, seconds }, null, 2) + '\n');
      else {
        io.out(`bundle ${result.manifest.bundleId} (serial ${serial}) for ${opts.system}: ${result.images} image(s), ${formatBytes(result.sizes.bundleBytes)} in ${seconds.toFixed(1)} s → ${opts.out}\n`);
        if (inventory) io.out(`delta: ${formatBytes(result.sizes.bundleBytes)} against ${formatBytes(result.sizes.fullBytes)} for a full bundle (${formatBytes(result.sizes.leftOutBytes)} the site already holds)\n`);
        io.out(`signed by ${result.identity}${backend.kind === 'dev' ? ' (development signer)' : ''}\n`);
      }
    });

  program
    .command('import')
    .description('verify a bundle offline against the site policy and import it atomically into the site store')
    .argument('<bundle>', 'the bundle: a .tar, a folder, or a folder of parts')
    .requiredOption('--policy <file>', 'the site policy (site-policy.yaml)')
    .requiredOption('--store <dir>', 'the site store')
    .option('--trusted-root <file>', 'the pinned trusted_root.json (default: the policy\'s trustedRoot.path)')
    .option('--registry <host[:port]/prefix>', 'after the import, push its images into the site\'s registry (digests kept)')
    .option('--decryption-key <private-key.pem>', "the site's private key for a confidential bundle (default: the policy's encryption.privateKey)")
    .option('--json', 'machine-readable result')
    .action(async (bundlePath: string, opts: { policy: string; store: string; trustedRoot?: string; registry?: string; decryptionKey?: string; json?: boolean }) => {
      const [{ formatBytes }, { parseRegistry, pushImages }, { importAndAdmit }, { exportInventory }, { byteProgress }] = await Promise.all([
        import('../build/build.ts'),
        import('../bundle/registry.ts'),
        import('../site/admit.ts'),
        import('../site/store.ts'),
        import('./progress.ts'),
      ]);
      const registry = opts.registry ? parseRegistry(opts.registry) : undefined; // checked before anything is imported
      const { trustedRootPath, pinned } = await siteTrust(opts.policy, opts.trustedRoot);
      const bar = byteProgress('verify');
      const result = await importAndAdmit({
        bundlePath: resolve(bundlePath),
        policyPath: resolve(opts.policy),
        store: resolve(opts.store),
        verifier: await siteVerifier(trustedRootPath, pinned),
        now: new Date(),
        trustedRootPath,
        ...(opts.decryptionKey ? { decryptionKeyPath: resolve(opts.decryptionKey) } : {}),
        onStage: (s) => io.err(`import: ${s}\n`),
        onProgress: bar.update,
      }).finally(bar.stop);
      const admissions = result.admissions;
      const pushed = registry
        ? await pushImages(
            join(resolve(opts.store), 'oci'),
            exportInventory(resolve(opts.store)).images.filter((i) => i.bundleId === result.bundleId),
            registry,
            (s) => io.err(`import: ${s}\n`),
          )
        : [];
      if (opts.json) io.out(JSON.stringify({ ...result, admissions, pushed }, null, 2) + '\n');
      else {
        for (const s of result.skipped) io.err(`import: skipped the reference ${s.ref ?? '(unnamed)'} → ${s.digest}: ${s.reason}\n`);
        io.out(`imported ${result.bundleId} (serial ${result.serial}, ${result.images} image(s), ${formatBytes(result.bytes)}, ${result.newBlobs} new blob(s)) signed by ${result.identity} into ${opts.store} (generation ${result.generation})\n`);
      }
    });

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
    .description('check the store\'s audit log: every entry must carry the hash of the one before it')
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
    .option('--trusted-root <file>', 'the pinned trusted_root.json (default: the policy\'s trustedRoot.path)')
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
  const [{ formatBytes }, { checkBundle }] = await Promise.all([import('../build/build.ts'), import('../site/store.ts')]);
  const { trustedRootPath, pinned } = await siteTrust(opts.policy, opts.trustedRoot);
  const r = await checkBundle({
    bundlePath: resolve(bundlePath),
    policyPath: resolve(opts.policy),
    verifier: await siteVerifier(trustedRootPath, pinned),
    now: new Date(),
    trustedRootPath,
    ...(opts.store ? { store: resolve(opts.store) } : {}),
    ...(opts.decryptionKey ? { decryptionKeyPath: resolve(opts.decryptionKey) } : {}),
  });
  if (opts.json) io.out(JSON.stringify({ ok: true, bundleId: r.manifest.bundleId, serial: r.manifest.serial, identity: r.identity, issuer: r.issuer, images: r.images, bytes: r.bytes, admitted: r.admitted.map((a) => ({ refName: a.refName, digest: a.manifestDigest, tests: a.tests.map((t) => ({ file: t.file, verdict: t.verdict, launcher: t.launcher })) })), skipped: r.skipped }, null, 2) + '\n');
  else {
    for (const s of r.skipped) io.err(`check-bundle: would skip the reference ${s.ref ?? '(unnamed)'} → ${s.digest}: ${s.reason}\n`);
    io.out(`verified ${r.manifest.bundleId} (serial ${r.manifest.serial}): ${r.images} image(s), ${formatBytes(r.bytes)}, signed by ${r.identity}; the site policy accepts it\n`);
  }
}

/** The trusted root a site verifies with (given, or the policy's) and the sha256 the policy pins for it. */
export async function siteTrust(policyPath: string, given?: string): Promise<{ trustedRootPath: string; pinned: string }> {
  const { loadPolicy } = await import('../site/policy.ts');
  const loaded = loadPolicy(policyPath);
  const path = given ?? loaded.trustedRootPath;
  if (!path) throw new BrickyardError('USAGE', `${policyPath} names no trustedRoot.path: give --trusted-root FILE`);
  return { trustedRootPath: resolve(path), pinned: loaded.policy.trustedRoot.sha256 };
}
