/** Where a command writes: stdout and stderr, or a test's buffers. Its own module, so that commands need not import main.ts. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}
