/** Where a command writes: stdout and stderr, or a test's buffers. Its own module, so that commands need not import main.ts. */
import type { Workspace } from '../workspace.ts';
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** What every command's registration is given: where to write, the checkout, and how to set the exit status. */
export interface CommandContext {
  io: Io;
  /** The checkout's root (--root, or the repository around the current directory). */
  rootOf: () => Promise<string>;
  /** The workspace over that root. */
  open: () => Promise<Workspace>;
  setExit: (code: number) => void;
}
