/**
 * The digests S3 computes over object bytes: MD5 for ETags and Content-MD5, SHA-256 for the
 * SigV4 payload hash, and the flexible checksums (x-amz-checksum-*), all fed in one pass.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c } from '@aws-crypto/crc32c';
import type { ChecksumAlgorithm, Checksums } from './types.ts';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'SHA1', 'SHA256'];

const DIGEST_LENGTH: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, SHA1: 20, SHA256: 32 };

export interface Digester {
  update(chunk: Buffer): void;
  /** Raw digest bytes; CRCs big-endian as S3 puts them on the wire. */
  digest(): Buffer;
}

/** zlib's native CRC-32 (Node >= 20.15), some fifty times faster than the JavaScript table. */
class NativeCrc32Digester implements Digester {
  private value = 0;
  update(chunk: Buffer): void {
    this.value = crc32(chunk, this.value);
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.value >>> 0);
    return out;
  }
}

class CrcDigester implements Digester {
  constructor(private readonly crc: Crc32c) {}
  update(chunk: Buffer): void {
    this.crc.update(chunk);
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.crc.digest() >>> 0);
    return out;
  }
}

class HashDigester implements Digester {
  private readonly hash: Hash;
  constructor(algorithm: string) {
    this.hash = createHash(algorithm);
  }
  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

export function createDigester(algorithm: ChecksumAlgorithm): Digester {
  switch (algorithm) {
    case 'CRC32':
      return new NativeCrc32Digester();
    case 'CRC32C':
      return new CrcDigester(new Crc32c());
    case 'SHA1':
      return new HashDigester('sha1');
    case 'SHA256':
      return new HashDigester('sha256');
  }
}

export function isChecksumAlgorithm(value: string): value is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

/** Decodes canonical base64 only; `Buffer.from(s, 'base64')` alone silently skips junk. */
export function decodeBase64Strict(value: string): Buffer | undefined {
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : undefined;
}

export function isValidChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  return decodeBase64Strict(value)?.length === DIGEST_LENGTH[algorithm];
}

export function isValidContentMD5(value: string): boolean {
  return decodeBase64Strict(value)?.length === 16;
}

/** Feeds every chunk to MD5, SHA-256 and each requested flexible checksum, as asked. */
export class StreamDigests {
  private readonly md5: Hash | undefined;
  private readonly sha256: Hash | undefined;
  private readonly wantsSha256Checksum: boolean;
  private readonly flexible = new Map<ChecksumAlgorithm, Digester>();
  size = 0;

  constructor(algorithms: ReadonlySet<ChecksumAlgorithm>, want: { md5: boolean; sha256Hex: boolean }) {
    this.md5 = want.md5 ? createHash('md5') : undefined;
    this.wantsSha256Checksum = algorithms.has('SHA256');
    // SHA256 as a flexible checksum and as the payload hash share one hash.
    this.sha256 = want.sha256Hex || this.wantsSha256Checksum ? createHash('sha256') : undefined;
    for (const algorithm of algorithms) {
      if (algorithm !== 'SHA256') this.flexible.set(algorithm, createDigester(algorithm));
    }
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.md5?.update(chunk);
    this.sha256?.update(chunk);
    for (const digester of this.flexible.values()) digester.update(chunk);
  }

  /** May be called once. */
  finish(): FinishedDigests {
    const sha256 = this.sha256?.digest();
    const checksums: Checksums = {};
    for (const [algorithm, digester] of this.flexible) checksums[algorithm] = digester.digest().toString('base64');
    if (sha256 && this.wantsSha256Checksum) checksums.SHA256 = sha256.toString('base64');
    return { size: this.size, md5: this.md5?.digest(), sha256Hex: sha256?.toString('hex'), checksums };
  }
}

export interface FinishedDigests {
  size: number;
  md5: Buffer | undefined;
  sha256Hex: string | undefined;
  checksums: Checksums;
}

/** Quoted hex MD5 of the concatenated binary part MD5s, then `-<parts>`, as S3 forms multipart ETags. */
export function multipartETag(partMd5s: Buffer[]): string {
  const md5 = createHash('md5');
  for (const partMd5 of partMd5s) md5.update(partMd5);
  return `"${md5.digest('hex')}-${partMd5s.length}"`;
}

/** S3's COMPOSITE checksum: the checksum of the concatenated raw part checksums, then `-<parts>`. */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksumsBase64: string[]): string {
  const digester = createDigester(algorithm);
  for (const value of partChecksumsBase64) digester.update(Buffer.from(value, 'base64'));
  return `${digester.digest().toString('base64')}-${partChecksumsBase64.length}`;
}

/** `"<hex>"` -> raw bytes; undefined when the ETag is not a plain MD5 ETag. */
export function md5FromETag(etag: string): Buffer | undefined {
  const hex = unquoteETag(etag);
  return /^[0-9a-f]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

export function unquoteETag(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
}
