/** Brickyard's version (package.json's): what `--version` prints and what a carried site executable is compared with. */
export const VERSION = '0.1.0';
