/**
 * The store's layout on disk: its marker file, the `current` generation, its state, the links
 * at the top, and recovery after an interrupted import.
 *
 * A folder is a store only when it carries the marker `.brickyard-store` (a store made before
 * the marker existed — `current` naming a generation whose state.json says brickyard-store — is
 * given one by its next import). Nothing that deletes (recovery) runs in a folder without it, so
 * a mistyped `--store` pointing at an ordinary folder loses nothing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Inventory } from '../bundle/write.ts';
import { BrickyardError } from '../util/errors.ts';
import { confined } from './confine.ts';

export const STORE_MARKER = '.brickyard-store';
const MARKER_TEXT = JSON.stringify({ kind: 'brickyard-store', version: 1 }) + '\n';
/** The links at the top of a store, each `current/<name>`. */
export const TOP_LINKS = ['oci', 'bundles', 'audit.log', 'state.json'] as const;

export interface StoreState {
  kind: 'brickyard-store';
  version: 1;
  generation: number;
  lastSerial: Record<string, number>;
  bundles: Inventory['bundles'];
  images: Inventory['images'];
  /** sha256 of the audit log's last line: anchors the chain's newest entry, which no later line covers. */
  auditHead?: string;
  /** Lines in the audit log (absent in stores written before it was recorded: one per bundle). */
  auditEntries?: number;
}

export function emptyState(): StoreState {
  return { kind: 'brickyard-store', version: 1, generation: 0, lastSerial: {}, bundles: [], images: [] };
}

export function currentGeneration(store: string): { n: number; dir: string } | undefined {
  let target: string;
  try {
    target = readlinkSync(join(store, 'current'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((e as NodeJS.ErrnoException).code === 'EINVAL')
      throw new BrickyardError('AUDIT_LOG_INVALID', `${store}/current is not a link to a generation (replaced by a file or folder)`);
    throw e;
  }
  const m = /^generations\/([1-9][0-9]{0,9})$/.exec(target);
  if (!m) throw new BrickyardError('AUDIT_LOG_INVALID', `${store}/current points at ${target}, not at a generation`);
  return { n: Number(m[1]), dir: join(store, target) };
}

export function readState(store: string): StoreState {
  const cur = currentGeneration(store);
  if (!cur) return emptyState();
  const path = join(cur.dir, 'state.json');
  let state: Partial<StoreState> | null;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as Partial<StoreState> | null;
  } catch (e) {
    throw new BrickyardError('AUDIT_LOG_INVALID', `${path} is missing or not JSON (${(e as Error).message})`, {
      hint: 'the store was damaged or edited; restore it from a backup',
    });
  }
  if (state?.kind !== 'brickyard-store' || state.generation !== cur.n || !Array.isArray(state.bundles)) {
    throw new BrickyardError('AUDIT_LOG_INVALID', `${path} is not the state of generation ${cur.n}`, {
      hint: 'the store was damaged or edited; restore it from a backup',
    });
  }
  return state as StoreState;
}

/** What opening a store for an import made, so that a refused import can take it back. */
export interface Opened {
  /** The first folder this call created (the store, or a parent of it): removed on refusal. */
  createdFolder?: string;
  /** The marker was written by this call (an empty folder, or a store from before the marker). */
  wroteMarker: boolean;
}

function notAStore(store: string, why: string): never {
  throw new BrickyardError('NOT_A_STORE', `${store} is not a Brickyard store: ${why}`, {
    hint: `check --store; a new store is made in a folder that does not exist yet or is empty, and a store carries the file ${STORE_MARKER}. Nothing in ${store} was touched`,
  });
}

/** Whether a folder is a store (has the marker); throws NOT_A_STORE for a folder that is something else. */
export function isStore(store: string, opts: { mayBeMissing?: boolean } = {}): boolean {
  let st;
  try {
    st = lstatSync(store);
  } catch {
    if (opts.mayBeMissing) return false;
    return notAStore(store, 'it does not exist');
  }
  if (!st.isDirectory()) notAStore(store, 'it is not a folder');
  let marker: string;
  try {
    marker = readFileSync(join(store, STORE_MARKER), 'utf8');
  } catch {
    return false;
  }
  if (marker !== MARKER_TEXT) notAStore(store, `its ${STORE_MARKER} is not a Brickyard marker`);
  return true;
}

function legacyStore(store: string): boolean {
  try {
    if (!currentGeneration(store)) return false;
    readState(store); // throws unless it is a store's state
    return true;
  } catch {
    return false;
  }
}

/** Refuse a folder that is not a store (no marker). */
export function requireStore(store: string): void {
  if (!isStore(store)) notAStore(store, `no ${STORE_MARKER} marker`);
}

/** Make or open a store for an import (before the lock): a new or empty folder gets the marker; anything else without it is refused. */
export function openStore(store: string): Opened {
  if (!existsSync(store) && !isSymlink(store)) {
    const createdFolder = mkdirSync(store, { recursive: true });
    try {
      writeMarker(store);
    } catch (e) {
      if (createdFolder) rmSync(createdFolder, { recursive: true, force: true });
      throw e;
    }
    return { ...(createdFolder ? { createdFolder } : {}), wroteMarker: true };
  }
  if (isStore(store)) return { wroteMarker: false };
  const names = readdirSync(store);
  if (names.length > 0 && !legacyStore(store)) notAStore(store, `it holds ${names.length} file(s) and no ${STORE_MARKER} marker`);
  try {
    writeMarker(store);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && isStore(store)) return { wroteMarker: false }; // another import made it meanwhile
    throw e;
  }
  return { wroteMarker: true };
}

function writeMarker(store: string): void {
  const path = join(store, STORE_MARKER);
  try {
    writeFileSync(path, MARKER_TEXT, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(path, { force: true }); // a part-written marker (disk full)
    throw e;
  }
}

/**
 * Take back what openStore made (after a refused import). Without the lock (its acquisition
 * failed: a full disk, say), only while the store holds nothing but the marker, so that another
 * import that opened it meanwhile loses nothing.
 */
export function undoOpen(store: string, opened: Opened, holdsLock: boolean): void {
  if (!opened.createdFolder && !opened.wroteMarker) return;
  if (!holdsLock) {
    try {
      rmdirSync(join(store, '.lock'));
    } catch {
      /* absent, or in use */
    }
    let names: string[];
    try {
      names = readdirSync(store);
    } catch {
      return;
    }
    if (names.some((n) => n !== STORE_MARKER)) return;
  }
  if (opened.createdFolder) rmSync(opened.createdFolder, { recursive: true, force: true });
  else rmSync(join(store, STORE_MARKER), { force: true });
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Remove what an interrupted import left: staging folders, generations `current` does not name;
 * put back a top link that is missing. Only in a folder carrying the marker, under the lock.
 */
export function recover(store: string): void {
  requireStore(store);
  const cur = currentGeneration(store);
  for (const name of readdirSync(store)) {
    if (/^\.staging-[0-9a-f]{16}$/.test(name) || /^\.(oci|bundles|audit\.log|state\.json)\.link-[0-9a-f]{8}$/.test(name))
      rmSync(confined(store, name), { recursive: true, force: true });
  }
  const gens = join(store, 'generations');
  if (existsSync(gens)) {
    for (const g of readdirSync(gens)) if (/^[1-9][0-9]*$/.test(g) && Number(g) !== cur?.n) rmSync(confined(store, 'generations', g), { recursive: true, force: true });
  }
  if (cur) ensureLinks(store);
}

/**
 * Create the top links that are missing (an import interrupted before it made them). One that is
 * there but is not the link `current/<name>` — a regular file put in its place, say — is not
 * replaced: it is reported (verifyStoreHistory) and the import refused.
 */
export function ensureLinks(store: string): void {
  for (const name of TOP_LINKS) {
    const p = join(store, name);
    if (existsSync(p) || isSymlink(p)) continue;
    const tmp = confined(store, `.${name}.link-${randomBytes(4).toString('hex')}`);
    symlinkSync(`current/${name}`, tmp);
    renameSync(tmp, p);
  }
}
