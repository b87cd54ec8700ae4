/** Progress bars for long byte-bound stages (bundling, verifying, importing), on a terminal only. */
import { SingleBar } from 'cli-progress';

export interface ByteProgress {
  update: (done: number, total: number) => void;
  stop: () => void;
}

export function byteProgress(label: string, stream: NodeJS.WriteStream = process.stderr): ByteProgress {
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined }; // no bar off a terminal
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% {doneMiB}/{totalMiB} MiB {speed} MiB/s`,
    hideCursor: true,
    clearOnComplete: true,
  });
  const started = performance.now();
  let running = false;
  const mib = (n: number): string => (n / 2 ** 20).toFixed(0);
  return {
    update: (done, total) => {
      const payload = { doneMiB: mib(done), totalMiB: mib(total), speed: (done / 2 ** 20 / Math.max(0.001, (performance.now() - started) / 1000)).toFixed(0) };
      if (!running) {
        bar.start(Math.max(total, 1), done, payload);
        running = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(done, payload);
      }
    },
    stop: () => {
      if (running) bar.stop();
    },
  };
}
