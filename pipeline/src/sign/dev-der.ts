/**
 * A minimal DER encoder: just what the development timestamp authority needs to write an
 * RFC 3161 TimeStampResp (RFC 5652 SignedData around an RFC 3161 TSTInfo). Readers are
 * elsewhere (@sigstore/core's ASN1Obj, @peculiar/x509).
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Tag-length-value with the given (single-byte) tag. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
/** SET OF, with its elements sorted as DER requires. */
export const setOf = (...c: Buffer[]): Buffer => tlv(0x31, ...[...c].sort(Buffer.compare));
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
export const nul = (): Buffer => Buffer.from([0x05, 0x00]);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
/** [n] EXPLICIT, constructed. */
export const explicit = (n: number, ...c: Buffer[]): Buffer => tlv(0xa0 | n, ...c);
/** [n] IMPLICIT over a constructed type: the contents of that type under the context tag. */
export const implicitConstructed = (n: number, ...c: Buffer[]): Buffer => tlv(0xa0 | n, ...c);

export function int(v: bigint | number | Buffer): Buffer {
  if (Buffer.isBuffer(v)) {
    let b = v;
    while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
    if (b.length === 0) b = Buffer.from([0]);
    if ((b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
    return tlv(0x02, b);
  }
  let x = BigInt(v);
  if (x < 0n) throw new Error('negative INTEGERs are not needed here');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(x & 0xffn));
    x >>= 8n;
  } while (x > 0n);
  if ((bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new Error(`bad OID ${dotted}`);
  const arcs = [parts[0]! * 40n + parts[1]!, ...parts.slice(2)];
  const out: number[] = [];
  for (const arc of arcs) {
    const chunk: number[] = [];
    let x = arc;
    do {
      chunk.unshift(Number(x & 0x7fn));
      x >>= 7n;
    } while (x > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i] = chunk[i]! | 0x80;
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** GeneralizedTime, whole seconds, UTC ("YYYYMMDDHHMMSSZ"). */
export function generalizedTime(d: Date): Buffer {
  const s = d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:T]/g, '');
  return tlv(0x18, Buffer.from(s, 'ascii'));
}
