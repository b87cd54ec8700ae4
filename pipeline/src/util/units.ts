/** Sizes in bytes: parsed from the catalogue's and the policies' text, and printed for people. */

/** "2 GiB", "500MB", "1.5 MiB" → bytes (binary MiB/GiB, decimal MB/GB); NaN when not a size. */
export function parseSize(s: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s?(MiB|GiB|MB|GB)$/.exec(s);
  if (!m) return Number.NaN;
  const unit = { MiB: 2 ** 20, GiB: 2 ** 30, MB: 1e6, GB: 1e9 }[m[2] as 'MiB'];
  return Number(m[1]) * unit;
}

/** Bytes for people, in binary units: "512 B", "1.5 MiB"; "unknown" when not a finite number. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'unknown';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
