/**
 * Issue 10: every Containerfile rendered for `local` goes through a real buildah build.
 *
 * buildah has no lint or parse-only mode: `buildah build --target <missing>` parses the file and
 * then stops, but it accepted a dangling line continuation, `COPY --from` of a stage that does
 * not exist and a stage name used twice (measured 2026-12-03, buildah 1.28.2), so it proves
 * nothing. Full builds take minutes each on CI's two cores and need the pinned sources, which
 * for julia-mpi (julialang-s3.julialang.org) and osu-micro-benchmarks
 * (mvapich.cse.ohio-state.edu) test hosts and CI cannot download. So each rendered file is built
 * as it is, with one change: every RUN runs `true`. buildah then carries out every other
 * instruction for real, both stages on the real base: FROM, COPY from the context (files of the
 * right names stand in for the pinned sources), COPY --from=build, ENV, LABEL, ENTRYPOINT. The
 * RUN scripts themselves run in the full builds: mpi-pingpong (build-smoke, two-node) and
 * stream (tune-stream, its three variants).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureHostBuiltBase } from '../../pipeline/src/build/build.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { missingTools } from '../helpers/services.ts';

const missing = missingTools(['buildah', 'mmdebstrap']);
const root = process.getuid?.() === 0;
const why = !root ? 'needs root (buildah)' : missing.length ? `missing ${missing.join(', ')}: run scripts/setup-host.sh` : '';
if (why && process.env['CI']) throw new Error(`the Containerfile build test cannot run in CI: ${why}`);

/**
 * The rendered file with every RUN instruction (one line each in our renders) replaced by `true`;
 * the paths the runtime stage keeps, which those RUNs would have made, are made empty instead.
 */
function withoutRuns(containerfile: string, kept: string[]): string {
  const made = `RUN ["/bin/sh", "-euc", ${JSON.stringify(kept.map((k) => `mkdir -p "$(dirname '${k}')"; [ -e '${k}' ] || touch '${k}'`).join('\n'))}]`;
  return containerfile.replace(/^RUN .*$/gm, 'RUN ["true"]').replace(/^(FROM \S+ AS runtime)$/m, `${made}\n\n$1`);
}

function buildahBuild(containerfile: string, context: string): { code: number | null; out: string } {
  writeFileSync(join(context, 'Containerfile'), containerfile);
  const r = spawnSync('buildah', ['build', '--layers=false', '--pull=never', '-f', join(context, 'Containerfile'), context], { encoding: 'utf8', timeout: 300_000 });
  // The image itself is not needed: only whether buildah carried out every instruction.
  const id = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status === 0 && /^[0-9a-f]{64}$/.test(id)) spawnSync('buildah', ['rmi', id], { stdio: 'ignore' });
  return { code: r.status, out: `${r.stdout}${r.stderr}`.slice(-3000) };
}

describe.skipIf(why !== '')(`buildah builds every Containerfile rendered for local, RUN aside${why ? ` (skipped: ${why})` : ''}`, () => {
  const ws = Workspace.open(repoRoot);
  const pairs = ws
    .checkAll()
    .filter((f) => f.fits && f.system === 'local')
    .map((f) => {
      const rendered = ws.render(ws.pairOn(f.recipe, `${f.system}/${f.partition}`));
      const c = rendered.composition;
      const context = tempDir('brickyard-cf-');
      for (const file of c.context) {
        mkdirSync(dirname(join(context, file.path)), { recursive: true });
        copyFileSync(file.abs, join(context, file.path));
      }
      for (const s of c.sources) {
        mkdirSync(dirname(join(context, s.contextPath)), { recursive: true });
        writeFileSync(join(context, s.contextPath), `stands in for ${s.name} (${s.sha256})\n`);
      }
      const kept = (c.runtime ?? []).flatMap((st) => (st.op.kind === 'keep' ? st.op.paths : []));
      return {
        name: `${f.recipe} on ${f.system}/${f.partition}`,
        containerfile: withoutRuns(rendered.files.containerfile, kept),
        context,
        base: c.base.reference,
        hostBuilt: c.base.hostBuilt,
      };
    });

  it('covers every shipped recipe that fits local', () => {
    expect(pairs.map((p) => p.name).sort()).toEqual([
      'julia-mpi@1.10.5 on local/debug',
      'mpi-pingpong@1.0.0 on local/debug',
      'osu-micro-benchmarks-xpmem@7.5.1 on local/debug',
      'osu-micro-benchmarks@7.4 on local/debug',
      'stream@5.10 on local/debug',
    ]);
  });

  // A base this host builds itself (debian-12) is made here; any other must already be in the
  // local storage, since test hosts and CI cannot pull (loopback only): such a pair says skipped.
  for (const p of pairs) {
    const available = p.hostBuilt !== undefined || (!why && spawnSync('buildah', ['inspect', '--type', 'image', p.base], { stdio: 'ignore' }).status === 0);
    it.skipIf(!available)(
      `${p.name} builds${available ? '' : ` (skipped: its base ${p.base} is not in local storage and this host cannot pull it)`}`,
      async () => {
        if (p.hostBuilt) await ensureHostBuiltBase(p.base, undefined);
        const r = buildahBuild(p.containerfile, p.context);
        expect(r.code, r.out).toBe(0);
      },
      900_000,
    );
  }

  it('buildah refuses forgeries: COPY --from a stage that does not exist, a context file that is not there, an unknown instruction', () => {
    const p = pairs.find((x) => x.name.startsWith('mpi-pingpong'))!;
    const cf = p.containerfile;
    expect(buildahBuild(cf, p.context).code).toBe(0);
    const forgeries = {
      'unknown stage': cf.replace('COPY --from=build ', 'COPY --from=biuld '),
      'missing file': cf.replace('COPY blocks/pingpong/files/pingpong.c ', 'COPY blocks/pingpong/files/pingpong.cc '),
      'unknown instruction': cf.replace(/^ENTRYPOINT /m, 'ENTRYPIONT '),
    };
    const verdicts = Object.entries(forgeries).map(([name, text]) => ({ name, ...buildahBuild(text, p.context) }));
    expect(verdicts.filter((r) => r.code === 0).map((r) => r.name)).toEqual([]);
    // Each refused for its own fault, named in buildah's message.
    expect(verdicts.map((r) => r.out)).toEqual([expect.stringMatching(/biuld/), expect.stringMatching(/pingpong\.cc/), expect.stringMatching(/ENTRYPIONT/i)]);
  }, 600_000);
});
