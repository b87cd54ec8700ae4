/**
 * A site policy for local development: it accepts exactly the development signer of this host
 * and says so in its name. No default policy accepts the development signer; the main job
 * writes this one, next to its own store, so the whole flow can run on one machine.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { stringify } from 'yaml';

export function writeDevPolicy(path: string, a: { system: string; identity: string; issuer: string; trustedRootPath: string; licenses: string[] }): void {
  const sha256 = createHash('sha256').update(readFileSync(a.trustedRootPath)).digest('hex');
  const policy = {
    version: 2,
    system: a.system,
    trustedRoot: { sha256, path: relative(dirname(path), a.trustedRootPath) },
    // Locally one development signer plays every role; a real site names CI's signing job for
    // the manifest, provenance and SBOM, and its own runner for its own system's test results.
    signers: Object.fromEntries(
      ['manifest', 'provenance', 'sbom', 'testResult'].map((role) => [
        role,
        [{ identity: { exact: a.identity }, issuer: a.issuer, ...(role === 'testResult' ? { systems: [a.system] } : {}) }],
      ]),
    ),
    // Local smoke verdicts depend on the load of this host: a WARNED (noisy) run is admitted here, never a FAILED one.
    require: { provenance: true, sbom: true, smoke: true, acceptWarned: true },
    licenses: a.licenses,
    maxAgeDays: 30,
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    `# yaml-language-server: $schema=../pipeline/schemas/site-policy.schema.json\n` +
      `# DEVELOPMENT site policy written by \`brickyard run\`: it trusts only this host's development signer.\n` +
      `# A real site pins its own trusted root and the CI signer identity (see docs/site-admin.md).\n` +
      stringify(policy),
  );
}
