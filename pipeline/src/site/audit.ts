/**
 * The store's history: the audit log (JSON lines, each carrying the sha256 of the line before)
 * and its anchor in state.json (the newest line's hash and the number of lines).
 *
 * `verifyStoreHistory` is the one check: `brickyard audit` runs it, and every import runs it
 * before building on the store. It refuses: a top link (`audit.log`, `state.json`, `oci`,
 * `bundles`) replaced by anything but the link `current/<name>`; a log missing while the state
 * lists bundles; a state without its anchor; a log with more or fewer lines than the state
 * records, a line that does not chain, or a last line other than the anchored one; entries that
 * do not name the state's bundles in order.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BrickyardError } from '../util/errors.ts';
import { currentGeneration, readState, requireStore, TOP_LINKS } from './layout.ts';

export interface AuditEntry {
  seq: number;
  time: string;
  action: 'import';
  bundleId: string;
  serial: number;
  source: { repository: string; commit: string };
  identity: string;
  issuer: string | null;
  /** The verified source whose serials must increase. */
  rollbackKey?: string;
  /** The verified signing time of the manifest. */
  signedAt?: string;
  /** sha256 of the policy file the import was checked against. */
  policySha256?: string;
  manifestSha256: string;
  entries: number;
  bytes: number;
  generation: number;
  /** sha256 (hex) of the previous line, without its newline; 64 zeros for the first. */
  prev: string;
}

export const ZERO = '0'.repeat(64);

export function lineHash(line: string): string {
  return createHash('sha256').update(line).digest('hex');
}

function bad(message: string): never {
  throw new BrickyardError('AUDIT_LOG_INVALID', message, {
    hint: "the store's history was edited, removed or damaged: restore the store from a backup before importing into it",
  });
}

/** Check a log's chain alone (a copy, say); returns its entries and the hash of its last line. */
export function verifyChain(text: string, path: string): { entries: AuditEntry[]; head: string } {
  if (text !== '' && !text.endsWith('\n')) bad(`${path}: the last line is incomplete`);
  const entries: AuditEntry[] = [];
  let prev = ZERO;
  for (const [i, line] of text.split('\n').slice(0, -1).entries()) {
    let parsed: Partial<AuditEntry> | null;
    try {
      parsed = JSON.parse(line) as Partial<AuditEntry> | null;
    } catch {
      return bad(`${path}:${i + 1} is not JSON`);
    }
    if (parsed?.prev !== prev) bad(`${path}:${i + 1} does not chain to the line before it (edited, removed or reordered lines)`);
    const e = parsed as AuditEntry;
    if (e.seq !== i + 1) bad(`${path}:${i + 1} has sequence number ${e.seq}`);
    prev = lineHash(line);
    entries.push(e);
  }
  return { entries, head: prev };
}

/** The whole check of a store's history (what `audit` reports and what every import requires). */
export function verifyStoreHistory(store: string): AuditEntry[] {
  requireStore(store);
  const cur = currentGeneration(store);
  for (const name of TOP_LINKS) {
    const p = join(store, name);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      if (cur) bad(`${p} is missing (it should be the link current/${name}; an interrupted import leaves it missing only before its first commit)`);
      continue;
    }
    if (!st.isSymbolicLink() || readlinkSync(p) !== `current/${name}`)
      bad(`${p} is not the link current/${name} (a ${st.isSymbolicLink() ? `link to ${readlinkSync(p)}` : st.isDirectory() ? 'folder' : 'regular file'} is in its place)`);
  }
  if (!cur) return [];
  const state = readState(store);
  const path = join(cur.dir, 'audit.log');
  const shown = join(store, 'audit.log');
  let text: string;
  try {
    if (!statSync(path).isFile()) bad(`${shown} is not a regular file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof BrickyardError) throw e;
    return bad(`${shown} is missing, while state.json lists ${state.bundles.length} imported bundle(s)`);
  }
  const expected = state.auditEntries ?? state.bundles.length;
  if (state.auditHead === undefined) bad(`${join(store, 'state.json')} has no audit head: the log's newest line is anchored nowhere`);
  const { entries, head } = verifyChain(text, shown);
  if (entries.length !== expected) bad(`${shown} has ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}; state.json records ${expected} (lines removed or added)`);
  if (head !== state.auditHead) bad(`${shown}:${entries.length}: the last line is not the one the store recorded (edited or removed)`);
  for (const [i, b] of state.bundles.entries()) {
    if (entries[i]?.bundleId !== b.bundleId) bad(`${shown}:${i + 1} names ${entries[i]?.bundleId ?? 'nothing'}, but the store's bundle ${i + 1} is ${b.bundleId}`);
  }
  return entries;
}

/** A store (its whole history, as above), or a single log file (its chain only). */
export function verifyAuditLog(pathOrStore: string): AuditEntry[] {
  let isDir: boolean;
  try {
    isDir = statSync(pathOrStore).isDirectory();
  } catch {
    throw new BrickyardError('FILE_UNREADABLE', `no store or audit log at ${pathOrStore}`);
  }
  if (isDir) return verifyStoreHistory(pathOrStore);
  return verifyChain(readFileSync(pathOrStore, 'utf8'), pathOrStore).entries;
}
