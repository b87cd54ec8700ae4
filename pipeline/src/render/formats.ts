/** The rendered formats and their file names: a leaf module, so the CLI can list them without loading the renderers. */
export const FORMATS = ['containerfile', 'apptainer', 'jobscript', 'lock', 'diagram'] as const;
export type Format = (typeof FORMATS)[number];

/** File names written by `render --out DIR`. */
export const FILE_NAMES: Record<Format, string> = {
  containerfile: 'Containerfile',
  apptainer: 'apptainer.def',
  jobscript: 'job.sh',
  lock: 'lock.json',
  diagram: 'deployment.mmd',
};
