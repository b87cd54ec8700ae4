/**
 * `brickyard verify --sigstore-bundle F --artifact A --trusted-root T (--identity I --issuer X | --key K) [--json]`:
 * verify one Sigstore bundle offline. Exit 0 valid, 1 invalid (the message names the failed
 * check), 2 usage or unreadable input. `brickyard verify BUNDLE --policy P` checks a whole air-gap
 * bundle against a site policy instead (the same as `check-bundle`).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runCheckBundle } from './bundle-command.ts';
import { BrickyardError } from '../util/errors.ts';
import type { VerificationPolicy } from '../sign/verify.ts';
import { MANIFEST_PAYLOAD_TYPE } from '../sign/payload-types.ts';
import type { Io } from './io.ts';

interface VerifyOptions {
  policy?: string;
  sigstoreBundle?: string;
  artifact?: string;
  trustedRoot?: string;
  identity?: string;
  issuer?: string;
  key?: string;
  tlogThreshold?: string;
  ctlogThreshold?: string;
  payloadType?: string;
  json?: boolean;
}

export function registerVerify(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('verify')
    .description(
      'verify offline: an air-gap bundle against a site policy (`verify BUNDLE --policy P`), or one Sigstore bundle against a pinned trusted root, the signer identity and issuer exactly (or a public key), and the signed artifact',
    )
    .argument('[bundle]', 'an air-gap bundle (.tar, folder, or folder of parts) to check against --policy without importing it')
    .option('--policy <file>', 'with BUNDLE: the site policy (site-policy.yaml)')
    .option('--sigstore-bundle <file>', 'the Sigstore bundle (.sigstore.json) to verify')
    .option('--artifact <file>', "the artifact it signs (for an in-toto attestation: the statement's subject)")
    .option('--trusted-root <file>', 'the trusted_root.json the site pinned (never fetched)')
    .option('--identity <san>', 'the signer identity the certificate must carry, exactly (e.g. https://github.com/ORG/REPO/.github/workflows/release.yml@refs/tags/v1.2.3)')
    .option('--issuer <url>', 'the OIDC issuer the certificate must name, exactly (e.g. https://token.actions.githubusercontent.com)')
    .option('--key <pem-file>', 'verify a key-signed bundle with this PEM public key instead of a certificate identity')
    .option('--tlog-threshold <n>', 'transparency-log entries required (default 1; 0 for TSA-only bundles)')
    .option('--ctlog-threshold <n>', 'certificate-transparency SCTs required (default 1; 0 for a CA without a CT log, such as the development CA)')
    .option(
      '--payload-type <type>',
      `require a DSSE envelope of exactly this type (e.g. ${MANIFEST_PAYLOAD_TYPE} for a bundle manifest's signature, whose payload is the artifact itself)`,
    )
    .option('--json', 'machine-readable result')
    .action((airGapBundle: string | undefined, opts: VerifyOptions) => runVerify(io, setExit, airGapBundle, opts));
}

/** An air-gap bundle against a site policy, or one Sigstore bundle against a pinned root and an exact signer. */
async function runVerify(io: Io, setExit: (code: number) => void, airGapBundle: string | undefined, opts: VerifyOptions): Promise<void> {
  // Annotated, so that a call narrows what it checked (a never-returning call is an assertion).
  const usage: (msg: string) => never = (msg) => {
    throw new BrickyardError('USAGE', msg, {
      hint: 'brickyard verify BUNDLE --policy P [--trusted-root T], or brickyard verify --sigstore-bundle F --artifact A --trusted-root T (--identity I --issuer X | --key K) [--json]',
    });
  };
  if (airGapBundle !== undefined) {
    if (!opts.policy) usage('verifying an air-gap bundle needs --policy FILE (the site policy)');
    if (opts.sigstoreBundle) usage('give either an air-gap BUNDLE with --policy, or --sigstore-bundle, not both');
    await runCheckBundle(io, airGapBundle, { policy: opts.policy, ...(opts.trustedRoot ? { trustedRoot: opts.trustedRoot } : {}), ...(opts.json ? { json: true } : {}) });
    setExit(0);
    return;
  }
  if (!opts.sigstoreBundle) usage('verify needs --sigstore-bundle FILE, or an air-gap BUNDLE with --policy FILE');
  if (!opts.artifact) usage('verify needs --artifact FILE: the artifact the bundle signs');
  if (!opts.trustedRoot) usage('verify needs --trusted-root FILE: the trusted_root.json the site pinned');
  const byIdentity = opts.identity !== undefined || opts.issuer !== undefined;
  if (byIdentity && opts.key !== undefined) usage('give either --identity with --issuer, or --key, not both');
  let policy: VerificationPolicy;
  if (opts.key !== undefined) policy = { publicKey: readInput(opts.key, 'public key') };
  else if (opts.identity && opts.issuer) policy = { identity: opts.identity, issuer: opts.issuer };
  else policy = usage('verify needs both --identity and --issuer (or --key for a key-signed bundle)');

  const { SignatureVerificationError, verifySigstoreBundle } = await import('../sign/verify.ts');
  const bundle = readInput(opts.sigstoreBundle, 'Sigstore bundle');
  let trustedRoot: unknown;
  try {
    trustedRoot = JSON.parse(readInput(opts.trustedRoot, 'trusted root'));
  } catch (e) {
    if (e instanceof BrickyardError) throw e;
    throw new BrickyardError('FILE_UNREADABLE', `the trusted root ${opts.trustedRoot} is not JSON: ${(e as Error).message}`);
  }
  try {
    const thresholds = {
      ...(opts.tlogThreshold !== undefined ? { tlogThreshold: Number(opts.tlogThreshold) } : {}),
      ...(opts.ctlogThreshold !== undefined ? { ctlogThreshold: Number(opts.ctlogThreshold) } : {}),
    };
    const v = await verifySigstoreBundle({
      bundle,
      artifact: { path: opts.artifact },
      trustedRoot,
      policy,
      ...thresholds,
      ...(opts.payloadType ? { payloadType: opts.payloadType } : {}),
    });
    printVerified(io, opts, v);
    setExit(0);
  } catch (e) {
    if (opts.json && e instanceof SignatureVerificationError) {
      io.out(JSON.stringify({ ok: false, bundle: opts.sigstoreBundle, artifact: opts.artifact, check: e.check, error: e.message }, null, 2) + '\n');
    }
    throw e;
  }
}

/** What was verified: as JSON, or one line naming the artifact, what signed it and when. */
function printVerified(io: Io, opts: VerifyOptions, v: Awaited<ReturnType<typeof import('../sign/verify.ts').verifySigstoreBundle>>): void {
  const statement = v.statement as { predicateType?: string } | undefined;
  if (opts.json) {
    io.out(
      JSON.stringify(
        {
          ok: true,
          bundle: opts.sigstoreBundle,
          artifact: opts.artifact,
          mediaType: v.mediaType,
          identity: v.identity ?? null,
          issuer: v.issuer ?? null,
          keyHint: v.keyHint ?? null,
          signedAt: v.signedAt.map((d) => d.toISOString()),
          payloadType: v.payloadType ?? null,
          predicateType: statement?.predicateType ?? null,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const who = v.identity !== undefined ? `${v.identity} (issuer ${v.issuer})` : `public key${v.keyHint ? ` ${v.keyHint}` : ''}`;
    const what = statement?.predicateType ? `in-toto ${statement.predicateType} attestation` : v.payloadType ? `DSSE ${v.payloadType}` : 'message signature';
    io.out(`verified: ${opts.artifact}: ${what} signed by ${who} at ${v.signedAt.map((d) => d.toISOString()).join(', ')}\n`);
  }
}

function readInput(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new BrickyardError('FILE_UNREADABLE', `cannot read the ${what} ${path}: ${(e as Error).message}`);
  }
}
