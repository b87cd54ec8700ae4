/**
 * Faults of the machine rather than of the bundle — a full disk, a read-only or unwritable
 * store — as typed errors that say what happened and what to do, instead of "internal error".
 */
import { BrickyardError } from '../util/errors.ts';

/** The typed error for a file-system fault, or undefined when `e` is something else. */
export function fileSystemFault(e: unknown, where: { what: string; folder: string; unchanged: string }): BrickyardError | undefined {
  if (e instanceof BrickyardError) return undefined;
  const err = e as NodeJS.ErrnoException | undefined;
  const code = err?.code;
  const at = err?.path ? ` (at ${err.path})` : '';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BrickyardError(
      'DISK_FULL',
      `${where.what}: the file system holding ${where.folder} is full${code === 'EDQUOT' ? ' (quota exceeded)' : ''}${at}. ${where.unchanged}`,
      {
        hint: `free space there (or move ${where.folder} to a larger file system) and run the command again`,
        cause: e,
      },
    );
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    const why = code === 'EROFS' ? 'is on a read-only file system' : 'cannot be written by this user (permission denied)';
    return new BrickyardError('STORE_NOT_WRITABLE', `${where.what}: ${where.folder} ${why}${at}. ${where.unchanged}`, {
      hint: code === 'EROFS' ? `remount ${where.folder} read-write, or give a writable folder` : `run as the user that owns ${where.folder}, or fix its permissions`,
      cause: e,
    });
  }
  return undefined;
}
