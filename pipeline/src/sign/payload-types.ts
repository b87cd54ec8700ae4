/**
 * DSSE payload types (sign/roles.ts keeps the roles apart by them) and the trusted root's media
 * type: a module of its own, so that what needs only these strings (the command table, the site
 * key) loads nothing else (the development signer's X.509 stack costs ~0.1 s).
 */
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.brickyard.bundle-manifest.v1+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
