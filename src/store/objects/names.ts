/**
 * Bucket and key rules, and the byte encoding keys are stored and compared in: UTF-8 BLOBs,
 * so SQLite's memcmp ordering is S3's UTF-8 binary ordering.
 */
import { MAX_KEY_BYTES, S3Errors } from './s3-errors.ts';

const BUCKET_CHARS = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

export function isValidBucketName(name: string): boolean {
  return (
    BUCKET_CHARS.test(name) &&
    !name.includes('..') &&
    !IP_ADDRESS.test(name) &&
    !RESERVED_PREFIXES.some((p) => name.startsWith(p)) &&
    !RESERVED_SUFFIXES.some((s) => name.endsWith(s))
  );
}

export function assertValidBucketName(name: string): void {
  if (!isValidBucketName(name)) throw S3Errors.invalidBucketName(name);
}

/** Validates an object key and returns its UTF-8 bytes. */
export function keyToBytes(key: string): Buffer {
  if (key.length === 0) throw S3Errors.emptyKey();
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length > MAX_KEY_BYTES) throw S3Errors.keyTooLong(bytes.length);
  // Lone surrogates cannot be encoded; storing the U+FFFD substitute would alias another key.
  if (bytes.toString('utf8') !== key) throw S3Errors.invalidKeyEncoding();
  return bytes;
}

export function bytesToKey(bytes: Buffer): string {
  return bytes.toString('utf8');
}

/** Greater than every UTF-8 string: 0xFF never occurs in UTF-8. */
export const ABOVE_ALL_KEYS = Buffer.from([0xff]);

/** The smallest byte string greater than every string starting with `prefix`; ABOVE_ALL_KEYS for ''. */
export function prefixUpperBound(prefix: Buffer): Buffer {
  if (prefix.length === 0) return ABOVE_ALL_KEYS;
  const bound = Buffer.from(prefix);
  // UTF-8 bytes are at most 0xF4, so incrementing the last byte never overflows.
  bound[bound.length - 1] += 1;
  return bound;
}

/** The smallest byte string strictly greater than `bytes`. */
export function successor(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, Buffer.from([0])]);
}

export function maxBuffer(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) >= 0 ? a : b;
}
