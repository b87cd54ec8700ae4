/**
 * The deployment diagram: its parts for each kind of system, escaping of hostile catalogue text,
 * determinism, and Mermaid syntax invariants (the browser test parses and renders it for real).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mermaidText } from '../../pipeline/src/render/diagram.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { main } from '../../pipeline/src/cli/main.ts';
import { copyOfShipped, repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);

function diagram(recipe: string, where: string, w: Workspace = ws): string {
  return w.render(w.pairOn(recipe, where)).files.diagram;
}

const NODE = /^ {4}([a-z]+)(\[|\(\[|\[\(|\()"(.*)"(\]|\]\)|\)\]|\))$/;

/** Every line is a comment, the header, a subgraph, `direction`, `end`, a node, an edge or a class line. */
function checkSyntax(text: string): { nodes: Map<string, string>; edges: [string, string][]; subgraphs: string[] } {
  const nodes = new Map<string, string>();
  const edges: [string, string][] = [];
  const subgraphs: string[] = [];
  const lines = text.trimEnd().split('\n');
  expect(lines[1]).toBe('flowchart TB');
  let depth = 0;
  for (const line of lines) {
    if (line.startsWith('%%') || line === 'flowchart TB' || line === '    direction LR') continue;
    const sg = /^ {2}subgraph ([a-z]+)\["([^"]*)"\]$/.exec(line);
    if (sg) {
      expect(depth).toBe(0);
      depth++;
      subgraphs.push(sg[1]!);
      continue;
    }
    if (line === '  end') {
      depth--;
      continue;
    }
    const n = NODE.exec(line);
    if (n) {
      const [, id, open, body, close] = n;
      expect({ open, close }).toSatisfy(({ open: o, close: c }: { open: string; close: string }) => ({ '[': ']', '([': '])', '[(': ')]', '(': ')' })[o] === c);
      // Inside the quotes: no raw quote, and markup only as <br/>.
      expect(body!.replace(/<br\/>/g, '')).not.toMatch(/["<>]/);
      expect(nodes.has(id!), `node ${id} defined twice`).toBe(false);
      nodes.set(id!, body!);
      continue;
    }
    if (/^ {2}classDef [a-z]+ [-a-z:#0-9,]+$/.test(line) || /^ {2}class [a-z,]+ [a-z]+$/.test(line)) continue;
    const e = /^ {2}([a-z]+)((?: (?:-->|-\.->|-->\|[a-zA-Z ]+\|) [a-z]+)+)$/.exec(line);
    expect(e, `unexpected line: ${line}`).not.toBeNull();
    let from = e![1]!;
    for (const m of e![2]!.matchAll(/ (?:-->|-\.->|-->\|[a-zA-Z ]+\|) ([a-z]+)/g)) {
      edges.push([from, m[1]!]);
      from = m[1]!;
    }
  }
  expect(depth).toBe(0);
  const known = (id: string): boolean => nodes.has(id) || subgraphs.includes(id);
  for (const [a, b] of edges) {
    expect(known(a), `edge from unknown node ${a}`).toBe(true);
    expect(known(b), `edge to unknown node ${b}`).toBe(true);
  }
  return { nodes, edges, subgraphs };
}

describe('deployment diagram', () => {
  it('shows build, transfer, import and launch for a GPU recipe on LUMI', () => {
    const text = diagram('mpi-pingpong-gpu@1.0.0', 'lumi/standard-g');
    const { nodes, edges, subgraphs } = checkSyntax(text);
    expect(subgraphs).toEqual(['build', 'transfer', 'site', 'job']);
    expect(text).toContain('subgraph build["Build in CI: GitHub Actions runner labelled self-hosted, lumi"]');
    expect(nodes.get('builder')).toContain('buildah builds the image');
    expect(nodes.get('image')).toContain('SIF file<br/>mpi-pingpong-gpu_1.0.0-2_lumi-standard-g.sif');
    expect(nodes.get('manifest')).toContain('signed manifest.json');
    expect(nodes.get('media')).toContain('split into parts on media');
    expect(nodes.get('verify')).toContain('offline verify');
    expect(nodes.get('policy')).toContain('a passing smoke test for lumi/standard-g');
    expect(nodes.get('store')).toContain('site store');
    expect(nodes.get('scheduler')).toContain('Slurm: sbatch job.sh');
    expect(nodes.get('scheduler')).toContain('--partition=standard-g');
    expect(nodes.get('scheduler')).toContain('at submission: --account=#60;account#62;');
    expect(nodes.get('scheduler')).toContain('modules: LUMI/25.03, partition/G, singularity-bindings');
    expect(nodes.get('launcher')).toContain('srun --nodes=2 --ntasks-per-node=1 #60;gpu-select#62; #60;container#62;');
    expect(nodes.get('runtime')).toContain('SingularityCE 4.1.3 (singularity)');
    expect(nodes.get('mpi')).toContain('MPI: host-injection (mpich ABI, PMI none)');
    expect(nodes.get('mpi')).toContain('binds: /opt/cray, /var/spool, /etc/host.conf, /etc/hosts (+6 more)');
    // GPU-aware MPI for the GPU recipe; the container library path is singularity-bindings' own.
    expect(nodes.get('mpi')).toContain('env: MPICH_GPU_SUPPORT_ENABLED');
    expect(nodes.get('mpi')).not.toContain('container env');
    expect(nodes.get('gpu')).toContain('devices: /dev/kfd, /dev/dri');
    expect(nodes.get('gpu')).toContain('ROCR_VISIBLE_DEVICES: one GPU per rank');
    expect(nodes.get('mounts')).toContain('required: /scratch/#123;project#125;');
    // One path through the stages, and one through each stage.
    const next = new Map(edges.filter(([a]) => !['mpi', 'gpu', 'mounts'].includes(a)));
    const walk = (from: string): string[] => {
      const path = [from];
      while (next.has(path.at(-1)!)) path.push(next.get(path.at(-1)!)!);
      return path;
    };
    expect(walk('build')).toEqual(['build', 'transfer', 'site', 'job']);
    expect(walk('recipe')).toEqual(['recipe', 'render', 'builder', 'attest', 'image']);
    expect(walk('manifest')).toEqual(['manifest', 'bundle', 'media']);
    expect(walk('verify')).toEqual(['verify', 'policy', 'store']);
    expect(walk('scheduler')).toEqual(['scheduler', 'launcher', 'runtime', 'container']);
    // Mermaid keeps a subgraph's own direction only when no edge crosses its border.
    const inside = new Map<string, string>();
    let current = '';
    for (const line of text.split('\n')) {
      const sg = /^ {2}subgraph ([a-z]+)/.exec(line);
      if (sg) current = sg[1]!;
      const n = NODE.exec(line);
      if (n) inside.set(n[1]!, current);
    }
    for (const [a, b] of edges) if (inside.has(a) && inside.has(b)) expect(inside.get(a), `${a} -> ${b} crosses a stage`).toBe(inside.get(b));
    expect(edges).toContainEqual(['mpi', 'runtime']);
    expect(edges).toContainEqual(['gpu', 'runtime']);
    expect(edges).toContainEqual(['mounts', 'runtime']);
  });

  it('leaves GPU settings out for a CPU-only recipe on a GPU partition, and names on-system builds and podman', () => {
    const cpu = checkSyntax(diagram('mpi-pingpong@1.0.0', 'lumi/standard-g'));
    expect(cpu.nodes.has('gpu')).toBe(false);
    const pm = diagram('mpi-pingpong@1.0.0', 'perlmutter/gpu');
    const { nodes } = checkSyntax(pm);
    expect(pm).toContain("Build on Perlmutter: the site's build service");
    expect(nodes.get('builder')).toContain('podman-hpc builds the image (on-system)');
    expect(nodes.get('media')).toContain('no media to carry');
    expect(nodes.get('runtime')).toContain('podman-hpc');
    expect(nodes.get('image')).toContain('localhost/brickyard/mpi-pingpong:1.0.0-2-perlmutter-gpu');
  });

  it('shows PJM and mpiexec on Fugaku', () => {
    const { nodes } = checkSyntax(diagram('mpi-pingpong@1.0.0', 'fugaku/small'));
    expect(nodes.get('scheduler')).toMatch(/^PJM: pjsub job\.sh/);
    expect(nodes.get('launcher')).toContain('launcher: pjm-mpiexec');
  });

  it('is valid for every fitting pair of the shipped catalogue, and the same twice', () => {
    const again = Workspace.open(repoRoot);
    let count = 0;
    for (const fit of ws.checkAll()) {
      if (!fit.fits) continue;
      const where = `${fit.system}/${fit.partition}`;
      const text = diagram(fit.recipe, where);
      checkSyntax(text);
      expect(diagram(fit.recipe, where, again)).toBe(text);
      count++;
    }
    expect(count).toBeGreaterThan(40);
  });

  it('escapes quotes, brackets, pipes, markup and entity starts in catalogue text', () => {
    expect(mermaidText('a "b" [c] |d| {e} <f> #g; & `h` 100% \\ (ok)')).toBe(
      'a #quot;b#quot; #91;c#93; #124;d#124; #123;e#125; #60;f#62; #35;g#59; #38; #96;h#96; 100#37; #92; (ok)',
    );
    expect(mermaidText('line one\nline two\tend')).toBe('line one line two end');

    const root = copyOfShipped();
    const file = join(root, 'systems', 'lumi.yaml');
    const hostile = 'Evil"] --> x[<img src=x onerror=alert(1)>] |pipe| #quot; end\nsubgraph';
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('name: LUMI\n', `name: ${JSON.stringify(hostile)}\n`)
        .replace('command: singularity\n', `command: ${JSON.stringify('sing"]|x')}\n`),
    );
    const w = Workspace.open(root);
    const text = diagram('mpi-pingpong-gpu@1.0.0', 'lumi/standard-g', w);
    const { nodes, subgraphs } = checkSyntax(text);
    expect(subgraphs).toEqual(['build', 'transfer', 'site', 'job']);
    expect(text).not.toContain('<img');
    expect(text).toContain('Evil#quot;#93; --#62; x#91;#60;img src=x onerror=alert(1)#62;#93; #124;pipe#124; #35;quot#59; end subgraph');
    expect(nodes.get('runtime')).toContain('(sing#quot;#93;#124;x)');
  });

  it('is what `render --format diagram` prints', async () => {
    let out = '';
    const code = await main(['--root', repoRoot, 'render', 'mpi-pingpong@1.0.0', '--system', 'lumi/standard-g', '--format', 'diagram'], {
      out: (s) => void (out += s),
      err: () => undefined,
    });
    expect(code).toBe(0);
    expect(out).toBe(diagram('mpi-pingpong@1.0.0', 'lumi/standard-g'));
  });
});
