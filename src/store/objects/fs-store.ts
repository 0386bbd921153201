/**
 * The embedded object store: bytes in blob files under `<root>/blobs`, everything else in a
 * SQLite index at `<root>/index.db`. An object becomes visible only when its index row commits,
 * which happens after its blob is complete, verified, fsynced and renamed into place.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Errors } from '../../server/errors.ts';
import { BlobFiles } from './blob-files.ts';
import {
  compositeChecksum,
  isChecksumAlgorithm,
  isValidChecksumValue,
  isValidContentMD5,
  md5FromETag,
  multipartETag,
  unquoteETag,
  type FinishedDigests,
} from './checksums.ts';
import { ObjectIndex, type BucketRow, type ObjectRow, type PartRow, type UploadRow } from './index-db.ts';
import { listPage } from './listing.ts';
import { assertValidBucketName, bytesToKey, keyToBytes, prefixUpperBound, successor } from './names.ts';
import { MAX_OBJECT_PUT_SIZE, MAX_PART_NUMBER, MIN_PART_SIZE, S3Errors } from './s3-errors.ts';
import type {
  BucketInfo,
  ByteRange,
  ChecksumAlgorithm,
  Checksums,
  ListObjectsInput,
  ListObjectsResult,
  MultipartUpload,
  ObjectMeta,
  ObjectStore,
  PartInfo,
  PutObjectInput,
} from './types.ts';

const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

interface WriteOptions {
  algorithms?: ReadonlySet<ChecksumAlgorithm>;
  expectedChecksums?: Checksums;
  contentMD5?: string;
  beforeCommit?: PutObjectInput['beforeCommit'];
  md5?: boolean;
  maxSize: number;
}

interface WrittenBlob {
  blob: string;
  digests: FinishedDigests;
}

/** Object attributes other than bucket, key and blob, as they go into an index row. */
interface ObjectFields {
  size: number;
  etag: string;
  contentType: string;
  systemHeaders: Record<string, string>;
  userMetadata: Record<string, string>;
  checksums: Checksums;
  partsCount?: number;
}

export class FsObjectStore implements ObjectStore {
  private readonly index: ObjectIndex;
  private readonly blobs: BlobFiles;

  constructor(root: string) {
    mkdirSync(root, { recursive: true });
    this.blobs = new BlobFiles(root);
    this.index = new ObjectIndex(path.join(root, 'index.db'));
  }

  // Buckets

  async createBucket(name: string, region: string): Promise<BucketInfo> {
    assertValidBucketName(name);
    const createdMs = wholeSecondsNow();
    this.index.transaction(() => {
      if (this.index.bucket(name)) throw S3Errors.bucketAlreadyOwnedByYou(name);
      this.index.insertBucket(name, region, createdMs);
    });
    return { name, region, creationDate: new Date(createdMs) };
  }

  async headBucket(name: string): Promise<BucketInfo> {
    return toBucketInfo(this.requireBucket(name));
  }

  async listBuckets(): Promise<BucketInfo[]> {
    return this.index.buckets().map(toBucketInfo);
  }

  /** Like S3, in-progress multipart uploads do not keep a bucket alive; they are discarded. */
  async deleteBucket(name: string): Promise<void> {
    const partBlobs = this.index.transaction(() => {
      const bucket = this.requireBucket(name);
      if (this.index.bucketHasObjects(bucket.id)) throw S3Errors.bucketNotEmpty(name);
      const blobs = this.index.deleteUploadsOfBucket(bucket.id);
      this.index.deleteBucket(bucket.id);
      return blobs;
    });
    await this.blobs.remove(partBlobs);
  }

  // Objects

  async putObject(input: PutObjectInput): Promise<ObjectMeta> {
    const key = keyToBytes(input.key);
    const bucket = this.requireBucket(input.bucket);
    const expected = validatedChecksums(input.expectedChecksums);
    const { blob, digests } = await this.writeBlob(input.body, bucket.id, {
      algorithms: new Set([...checksumAlgorithms(expected), ...(input.computeChecksums ?? [])]),
      expectedChecksums: expected,
      contentMD5: validatedContentMD5(input.contentMD5),
      beforeCommit: input.beforeCommit,
      maxSize: MAX_OBJECT_PUT_SIZE,
    });
    return this.commitObject(bucket, key, blob, {
      size: digests.size,
      etag: md5ETag(digests),
      contentType: input.contentType ?? DEFAULT_CONTENT_TYPE,
      systemHeaders: input.systemHeaders ?? {},
      userMetadata: input.userMetadata ?? {},
      checksums: digests.checksums,
    });
  }

  async headObject(bucket: string, key: string): Promise<ObjectMeta> {
    const { bucketRow, row } = this.requireObject(bucket, key);
    return toObjectMeta(bucketRow.name, row);
  }

  async getObject(bucket: string, key: string, range?: ByteRange): Promise<{ meta: ObjectMeta; body: Readable }> {
    // No await between reading the row and opening the blob: a concurrent overwrite may unlink
    // the blob afterwards, but the open descriptor keeps the old bytes readable.
    const { bucketRow, row } = this.requireObject(bucket, key);
    const body = this.blobs.readStream(row.blob, range && row.size > 0 ? range : undefined);
    return { meta: toObjectMeta(bucketRow.name, row), body };
  }

  async linkObject(bucket: string, key: string, target: string): Promise<boolean> {
    // As in getObject: no await between finding the blob and linking it, so an overwrite cannot
    // unlink it in between; afterwards the link keeps the bytes.
    const { row } = this.requireObject(bucket, key);
    try {
      linkSync(this.blobs.pathOf(row.blob), target);
      return true;
    } catch {
      return false;
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const keyBytes = keyToBytes(key);
    const bucketRow = this.requireBucket(bucket);
    await this.blobs.remove([this.index.deleteObject(bucketRow.id, keyBytes)]);
  }

  async copyObject(
    src: { bucket: string; key: string },
    dst: { bucket: string; key: string },
    replace?: { contentType?: string; systemHeaders?: Record<string, string>; userMetadata?: Record<string, string> },
  ): Promise<ObjectMeta> {
    const dstKey = keyToBytes(dst.key);
    if (!replace && src.bucket === dst.bucket && src.key === dst.key) throw S3Errors.copyToItself();
    const { row: source } = this.requireObject(src.bucket, src.key);
    const dstBucket = this.requireBucket(dst.bucket);
    if (source.size > MAX_OBJECT_PUT_SIZE) throw S3Errors.copySourceTooLarge();
    const body = this.blobs.readStream(source.blob);
    const sourceChecksums = JSON.parse(source.checksums) as Checksums;
    const { blob, digests } = await this.writeBlob(body, dstBucket.id, {
      // A composite checksum cannot carry over to a single-part copy; recompute whole-object values.
      algorithms: new Set(checksumAlgorithms(sourceChecksums)),
      maxSize: MAX_OBJECT_PUT_SIZE,
    }).finally(() => body.destroy());
    const metadata = replace
      ? {
          contentType: replace.contentType ?? DEFAULT_CONTENT_TYPE,
          systemHeaders: replace.systemHeaders ?? {},
          userMetadata: replace.userMetadata ?? {},
        }
      : {
          contentType: source.content_type,
          systemHeaders: JSON.parse(source.system_headers) as Record<string, string>,
          userMetadata: JSON.parse(source.user_metadata) as Record<string, string>,
        };
    return this.commitObject(dstBucket, dstKey, blob, {
      size: digests.size,
      etag: md5ETag(digests),
      checksums: digests.checksums,
      ...metadata,
    });
  }

  async listObjects(input: ListObjectsInput): Promise<ListObjectsResult> {
    const bucket = this.requireBucket(input.bucket);
    const page = listPage(
      {
        rowsInRange: (range) => this.index.objectsInRange(bucket.id, range.lower, range.upper),
        anyInRange: (range) => this.index.anyObjectInRange(bucket.id, range.lower, range.upper),
      },
      { prefix: input.prefix ?? '', delimiter: input.delimiter ?? '', after: input.after, maxKeys: input.maxKeys },
    );
    const result: ListObjectsResult = {
      objects: page.rows.map((row) => toObjectMeta(bucket.name, row)),
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.isTruncated,
    };
    if (page.nextAfter !== undefined) result.nextAfter = page.nextAfter;
    return result;
  }

  // Multipart uploads

  async createMultipartUpload(input: Omit<MultipartUpload, 'uploadId' | 'initiated'>): Promise<MultipartUpload> {
    const key = keyToBytes(input.key);
    const bucket = this.requireBucket(input.bucket);
    const row: UploadRow = {
      upload_id: newUploadId(),
      bucket_id: bucket.id,
      key,
      initiated_ms: wholeSecondsNow(),
      content_type: input.contentType || DEFAULT_CONTENT_TYPE,
      system_headers: JSON.stringify(input.systemHeaders ?? {}),
      user_metadata: JSON.stringify(input.userMetadata ?? {}),
      checksum_algorithm: input.checksumAlgorithm ?? null,
    };
    this.index.insertUpload(row);
    return toMultipartUpload(bucket.name, row);
  }

  async uploadPart(input: Parameters<ObjectStore['uploadPart']>[0]): Promise<PartInfo> {
    const { partNumber, uploadId } = input;
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw S3Errors.invalidPartNumber(partNumber);
    }
    const { bucket, upload } = this.requireUpload(input.bucket, input.key, uploadId);
    const expected = validatedChecksums(input.expectedChecksums);
    const algorithms = new Set(checksumAlgorithms(expected));
    if (upload.checksum_algorithm && isChecksumAlgorithm(upload.checksum_algorithm)) {
      algorithms.add(upload.checksum_algorithm);
    }
    const { blob, digests } = await this.writeBlob(input.body, bucket.id, {
      algorithms,
      expectedChecksums: expected,
      contentMD5: validatedContentMD5(input.contentMD5),
      beforeCommit: input.beforeCommit,
      maxSize: MAX_OBJECT_PUT_SIZE,
    });
    const part: PartRow = {
      part_number: partNumber,
      blob,
      size: digests.size,
      etag: md5ETag(digests),
      last_modified_ms: wholeSecondsNow(),
      checksums: JSON.stringify(digests.checksums),
    };
    const replaced = await this.commitBlob(blob, () => {
      if (!this.index.upload(uploadId)) throw S3Errors.noSuchUpload(uploadId);
      return this.index.putPart(uploadId, part);
    });
    await this.blobs.remove([replaced]);
    return toPartInfo(part);
  }

  async completeMultipartUpload(input: Parameters<ObjectStore['completeMultipartUpload']>[0]): Promise<ObjectMeta> {
    const { uploadId } = input;
    const { bucket, upload } = this.requireUpload(input.bucket, input.key, uploadId);
    const chosen = this.chooseParts(uploadId, input.parts);
    // Pinned in the same tick as the part rows were read, so a concurrent re-upload or abort
    // cannot delete these files under us.
    const partBlobs = chosen.map((part) => part.blob);
    this.blobs.pin(partBlobs);
    try {
      const body = this.blobs.concatenate(partBlobs);
      const { blob, digests } = await this.writeBlob(body, bucket.id, {
        md5: false,
        maxSize: Number.POSITIVE_INFINITY,
      }).finally(() => body.destroy());
      const expectedSize = chosen.reduce((sum, part) => sum + part.size, 0);
      if (digests.size !== expectedSize) {
        this.blobs.settle(blob);
        await this.blobs.remove([blob]);
        throw Errors.internal(`multipart upload ${uploadId} parts changed size on disk`);
      }
      return await this.commitObject(
        bucket,
        upload.key,
        blob,
        {
          size: digests.size,
          etag: multipartETag(chosen.map(partMd5)),
          contentType: upload.content_type,
          systemHeaders: JSON.parse(upload.system_headers) as Record<string, string>,
          userMetadata: JSON.parse(upload.user_metadata) as Record<string, string>,
          checksums: compositeChecksums(upload.checksum_algorithm, chosen),
          partsCount: chosen.length,
        },
        () => {
          if (!this.index.upload(uploadId)) throw S3Errors.noSuchUpload(uploadId);
          return this.index.deleteUpload(uploadId);
        },
      );
    } finally {
      await this.blobs.unpin(partBlobs);
    }
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    this.requireUpload(bucket, key, uploadId);
    await this.blobs.remove(this.index.transaction(() => this.index.deleteUpload(uploadId)));
  }

  async listParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts: { after?: number; maxParts: number },
  ): Promise<{ upload: MultipartUpload; parts: PartInfo[]; isTruncated: boolean }> {
    const { bucket: bucketRow, upload } = this.requireUpload(bucket, key, uploadId);
    const maxParts = Math.max(0, opts.maxParts);
    const rows = this.index.partsAfter(uploadId, opts.after ?? 0, maxParts + 1);
    return {
      upload: toMultipartUpload(bucketRow.name, upload),
      parts: rows.slice(0, maxParts).map(toPartInfo),
      isTruncated: rows.length > maxParts,
    };
  }

  async listMultipartUploads(
    bucket: string,
    opts: { prefix?: string; maxUploads: number; keyAfter?: string; uploadIdAfter?: string },
  ): Promise<{ uploads: MultipartUpload[]; isTruncated: boolean }> {
    const bucketRow = this.requireBucket(bucket);
    const prefix = Buffer.from(opts.prefix ?? '', 'utf8');
    const maxUploads = Math.max(0, opts.maxUploads);
    const rows = this.index.uploadsInRange(bucketRow.id, { lower: prefix, upper: prefixUpperBound(prefix), ...uploadsAfter(opts) }, maxUploads + 1);
    return {
      uploads: rows.slice(0, maxUploads).map((row) => toMultipartUpload(bucketRow.name, row)),
      isTruncated: rows.length > maxUploads,
    };
  }

  // Lifecycle

  async recover(): Promise<{ removedTempFiles: number; removedOrphans: number }> {
    return this.blobs.recover(() => this.index.referencedBlobs());
  }

  async close(): Promise<void> {
    this.index.close();
  }

  // Internals

  private requireBucket(name: string): BucketRow {
    const bucket = this.index.bucket(name);
    if (!bucket) throw S3Errors.noSuchBucket(name);
    return bucket;
  }

  private requireObject(bucket: string, key: string): { bucketRow: BucketRow; row: ObjectRow } {
    const keyBytes = keyToBytes(key);
    const bucketRow = this.requireBucket(bucket);
    const row = this.index.object(bucketRow.id, keyBytes);
    if (!row) throw S3Errors.noSuchKey(key);
    return { bucketRow, row };
  }

  private requireUpload(bucket: string, key: string, uploadId: string): { bucket: BucketRow; upload: UploadRow } {
    const keyBytes = keyToBytes(key);
    const bucketRow = this.requireBucket(bucket);
    const upload = this.index.upload(uploadId);
    if (!upload || upload.bucket_id !== bucketRow.id || !upload.key.equals(keyBytes)) {
      throw S3Errors.noSuchUpload(uploadId);
    }
    return { bucket: bucketRow, upload };
  }

  /** Validates the part list of a CompleteMultipartUpload against the stored parts. */
  private chooseParts(uploadId: string, requested: { partNumber: number; etag: string }[]): PartRow[] {
    if (requested.length === 0) throw S3Errors.malformedXML();
    for (let i = 1; i < requested.length; i++) {
      if (requested[i]!.partNumber <= requested[i - 1]!.partNumber) throw S3Errors.invalidPartOrder(uploadId);
    }
    const stored = new Map(this.index.parts(uploadId).map((part) => [part.part_number, part]));
    const chosen = requested.map(({ partNumber, etag }) => {
      const part = stored.get(partNumber);
      if (!part || unquoteETag(part.etag) !== unquoteETag(etag)) throw S3Errors.invalidPart(uploadId, partNumber, etag);
      return part;
    });
    for (const part of chosen.slice(0, -1)) {
      if (part.size < MIN_PART_SIZE) throw S3Errors.entityTooSmall(part.size, part.part_number, part.etag);
    }
    return chosen;
  }

  /**
   * Receives `body` into a temp file, verifies it, lets the caller veto it, and moves it to a
   * new blob. The blob is not referenced by the index yet: pass it to commitBlob().
   */
  private async writeBlob(body: Readable, bucketId: number, options: WriteOptions): Promise<WrittenBlob> {
    const temp = await this.blobs.receive(body, {
      algorithms: options.algorithms ?? new Set(),
      md5: options.md5 ?? true,
      sha256Hex: options.beforeCommit !== undefined,
      maxSize: options.maxSize,
    });
    try {
      verifyDigests(temp.digests, options);
      await options.beforeCommit?.({
        sha256Hex: temp.digests.sha256Hex!,
        size: temp.digests.size,
        checksums: temp.digests.checksums,
      });
    } catch (error) {
      await this.blobs.discard(temp);
      throw error;
    }
    return { blob: await this.blobs.promote(temp, bucketId), digests: temp.digests };
  }

  /**
   * Runs `update` in one transaction that makes `blob` referenced. If it throws, the blob is
   * deleted. Returns what `update` returns.
   */
  private async commitBlob<T>(blob: string, update: () => T): Promise<T> {
    let result: T;
    try {
      result = this.index.transaction(update);
    } catch (error) {
      this.blobs.settle(blob);
      await this.blobs.remove([blob]);
      throw error;
    }
    this.blobs.settle(blob);
    return result;
  }

  /**
   * Points `key` at `blob` in one transaction (together with `alsoInTransaction`, whose returned
   * blobs are deleted afterwards with the replaced object's blob).
   */
  private async commitObject(
    bucket: BucketRow,
    key: Buffer,
    blob: string,
    fields: ObjectFields,
    alsoInTransaction: () => string[] = () => [],
  ): Promise<ObjectMeta> {
    const row = toObjectRow(key, blob, fields);
    const obsolete = await this.commitBlob(blob, () => {
      const current = this.index.bucket(bucket.name);
      if (!current || current.id !== bucket.id) throw S3Errors.noSuchBucket(bucket.name);
      const extra = alsoInTransaction();
      return [this.index.putObject(bucket.id, row), ...extra];
    });
    await this.blobs.remove(obsolete);
    return toObjectMeta(bucket.name, row);
  }
}

// Validation

function validatedChecksums(checksums: Checksums | undefined): Checksums {
  const valid: Checksums = {};
  for (const [algorithm, value] of Object.entries(checksums ?? {})) {
    if (value === undefined) continue;
    if (!isChecksumAlgorithm(algorithm)) throw Errors.internal(`unknown checksum algorithm ${algorithm}`);
    if (!isValidChecksumValue(algorithm, value)) throw S3Errors.invalidChecksumValue(algorithm);
    valid[algorithm] = value;
  }
  return valid;
}

function validatedContentMD5(contentMD5: string | undefined): string | undefined {
  if (contentMD5 !== undefined && !isValidContentMD5(contentMD5)) throw S3Errors.invalidDigest(contentMD5);
  return contentMD5;
}

function verifyDigests(digests: FinishedDigests, options: WriteOptions): void {
  if (options.contentMD5 !== undefined) {
    const calculated = digests.md5!.toString('base64');
    if (calculated !== options.contentMD5) throw S3Errors.badContentMD5(options.contentMD5, calculated);
  }
  for (const algorithm of checksumAlgorithms(options.expectedChecksums ?? {})) {
    if (digests.checksums[algorithm] !== options.expectedChecksums![algorithm]) throw S3Errors.badChecksum(algorithm);
  }
}

function md5ETag(digests: FinishedDigests): string {
  if (!digests.md5) throw Errors.internal('MD5 was not computed');
  return `"${digests.md5.toString('hex')}"`;
}

function checksumAlgorithms(checksums: Checksums): ChecksumAlgorithm[] {
  return Object.keys(checksums).filter(isChecksumAlgorithm);
}

// Multipart helpers

function partMd5(part: PartRow): Buffer {
  const md5 = md5FromETag(part.etag);
  if (!md5) throw Errors.internal(`part ${part.part_number} has a malformed ETag`);
  return md5;
}

function compositeChecksums(algorithm: string | null, parts: PartRow[]): Checksums {
  if (!algorithm || !isChecksumAlgorithm(algorithm)) return {};
  const values = parts.map((part) => {
    const value = (JSON.parse(part.checksums) as Checksums)[algorithm];
    if (!value) throw Errors.internal(`part ${part.part_number} has no ${algorithm} checksum`);
    return value;
  });
  return { [algorithm]: compositeChecksum(algorithm, values) };
}

let lastUploadStamp = 0;

/**
 * Upload ids start with a strictly increasing millisecond stamp, so (key, upload id) order is
 * S3's (key, initiation) order even for uploads started within the same millisecond.
 */
function newUploadId(): string {
  lastUploadStamp = Math.max(Date.now(), lastUploadStamp + 1);
  return `${lastUploadStamp.toString(16).padStart(12, '0')}${randomBytes(16).toString('hex')}`;
}

function uploadsAfter(opts: { keyAfter?: string; uploadIdAfter?: string }): { afterKey: Buffer; afterUploadId: string } {
  if (!opts.keyAfter) return { afterKey: Buffer.alloc(0), afterUploadId: '' };
  const key = Buffer.from(opts.keyAfter, 'utf8');
  // Without an upload-id marker every upload of keyAfter itself is skipped too.
  return opts.uploadIdAfter ? { afterKey: key, afterUploadId: opts.uploadIdAfter } : { afterKey: successor(key), afterUploadId: '' };
}

// Row <-> API shapes

/** S3 timestamps have whole-second precision; keeping ms would break If-Modified-Since round trips. */
function wholeSecondsNow(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

function toBucketInfo(row: BucketRow): BucketInfo {
  return { name: row.name, region: row.region, creationDate: new Date(row.created_ms) };
}

function toObjectRow(key: Buffer, blob: string, fields: ObjectFields): ObjectRow {
  return {
    key,
    blob,
    size: fields.size,
    etag: fields.etag,
    last_modified_ms: wholeSecondsNow(),
    content_type: fields.contentType,
    system_headers: JSON.stringify(fields.systemHeaders),
    user_metadata: JSON.stringify(fields.userMetadata),
    checksums: JSON.stringify(fields.checksums),
    parts_count: fields.partsCount ?? null,
  };
}

function toObjectMeta(bucket: string, row: ObjectRow): ObjectMeta {
  const meta: ObjectMeta = {
    bucket,
    key: bytesToKey(row.key),
    size: row.size,
    etag: row.etag,
    lastModified: new Date(row.last_modified_ms),
    contentType: row.content_type,
    systemHeaders: JSON.parse(row.system_headers) as Record<string, string>,
    userMetadata: JSON.parse(row.user_metadata) as Record<string, string>,
    checksums: JSON.parse(row.checksums) as Checksums,
  };
  if (row.parts_count !== null) meta.partsCount = row.parts_count;
  return meta;
}

function toMultipartUpload(bucket: string, row: UploadRow): MultipartUpload {
  const upload: MultipartUpload = {
    uploadId: row.upload_id,
    bucket,
    key: bytesToKey(row.key),
    initiated: new Date(row.initiated_ms),
    contentType: row.content_type,
    systemHeaders: JSON.parse(row.system_headers) as Record<string, string>,
    userMetadata: JSON.parse(row.user_metadata) as Record<string, string>,
  };
  if (row.checksum_algorithm && isChecksumAlgorithm(row.checksum_algorithm)) {
    upload.checksumAlgorithm = row.checksum_algorithm;
  }
  return upload;
}

function toPartInfo(row: PartRow): PartInfo {
  return {
    partNumber: row.part_number,
    size: row.size,
    etag: row.etag,
    lastModified: new Date(row.last_modified_ms),
    checksums: JSON.parse(row.checksums) as Checksums,
  };
}
