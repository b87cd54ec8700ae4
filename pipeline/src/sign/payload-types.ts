/** DSSE payload types (sign/roles.ts keeps the roles apart by them); a module of its own so that the command table loads no more than these strings. */
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.brickyard.bundle-manifest.v1+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
