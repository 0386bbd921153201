import type { Readable } from 'node:stream';

/** Checksum algorithms S3 clients send and may ask back. Values are base64 as on the wire. */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256';
export type Checksums = Partial<Record<ChecksumAlgorithm, string>>;

/** Everything S3 keeps about an object besides its bytes. */
export interface ObjectMeta {
  bucket: string;
  key: string;
  size: number;
  /** Quoted, as S3 returns it: `"<md5 hex>"` or `"<md5 of part md5s>-<parts>"` for multipart. */
  etag: string;
  lastModified: Date;
  contentType: string;
  /** Content-Encoding, Content-Disposition, Content-Language, Cache-Control, Expires as stored. */
  systemHeaders: Record<string, string>;
  /** x-amz-meta-* without the prefix, keys lower-cased. */
  userMetadata: Record<string, string>;
  /** Checksums verified or computed at write time. For multipart: composite values ("<b64>-<n>"). */
  checksums: Checksums;
  /** Number of parts for multipart objects, else undefined. */
  partsCount?: number;
}

export interface BucketInfo {
  name: string;
  creationDate: Date;
  region: string;
}

export interface PutObjectInput {
  bucket: string;
  key: string;
  /** Already-decoded bytes (aws-chunked framing removed by the caller). */
  body: Readable;
  contentType?: string;
  systemHeaders?: Record<string, string>;
  userMetadata?: Record<string, string>;
  /** Checksums the client claims (base64). Each is verified; mismatch -> AwsError BadDigest/InvalidRequest. */
  expectedChecksums?: Checksums;
  /** Content-MD5 header value (base64) if sent; mismatch -> AwsError BadDigest. */
  contentMD5?: string;
  /** Algorithms to compute and store even if the client sent no value (x-amz-sdk-checksum-algorithm). */
  computeChecksums?: ChecksumAlgorithm[];
  /**
   * Called after all bytes were received and hashed, before the object becomes visible.
   * Used by the edge to verify the SigV4 payload hash / trailing checksum; throwing aborts the write.
   * `checksums` holds every checksum computed (expected + computeChecksums), so a trailing
   * checksum can be compared without hashing the body twice.
   */
  beforeCommit?: (digest: { sha256Hex: string; size: number; checksums: Checksums }) => void | Promise<void>;
}

export interface ListObjectsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  /** Exclusive lower bound on keys (StartAfter, Marker, or a decoded continuation token). */
  after?: string;
  maxKeys: number;
}

export interface ListObjectsResult {
  objects: ObjectMeta[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned; the next page starts after it. */
  nextAfter?: string;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  contentType: string;
  systemHeaders: Record<string, string>;
  userMetadata: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
}

export interface PartInfo {
  partNumber: number;
  size: number;
  etag: string;
  lastModified: Date;
  checksums: Checksums;
}

/**
 * The object store behind the S3 service. The embedded implementation is the filesystem
 * (src/store/objects/fs-store.ts); an S3-service-backed one can implement the same interface.
 * All methods throw `AwsError` with S3's codes (NoSuchBucket, NoSuchKey, BucketAlreadyOwnedByYou,
 * BucketNotEmpty, NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall, BadDigest, ...).
 */
export interface ObjectStore {
  createBucket(name: string, region: string): Promise<BucketInfo>;
  headBucket(name: string): Promise<BucketInfo>;
  listBuckets(): Promise<BucketInfo[]>;
  deleteBucket(name: string): Promise<void>;

  putObject(input: PutObjectInput): Promise<ObjectMeta>;
  headObject(bucket: string, key: string): Promise<ObjectMeta>;
  /** Range already validated against size by the caller. */
  getObject(bucket: string, key: string, range?: ByteRange): Promise<{ meta: ObjectMeta; body: Readable }>;
  /**
   * Makes `target` a hard link to the object's bytes, when the store keeps them as immutable
   * local files on target's filesystem: a read-only local copy for free. False when it cannot
   * (the caller streams the object instead). Whoever holds the link must never write to it.
   */
  linkObject?(bucket: string, key: string, target: string): Promise<boolean>;
  /** Deleting a missing key is not an error (S3 semantics). Throws NoSuchBucket. */
  deleteObject(bucket: string, key: string): Promise<void>;
  copyObject(
    src: { bucket: string; key: string },
    dst: { bucket: string; key: string },
    /** When given, replaces metadata (MetadataDirective REPLACE); else the source's is copied. */
    replace?: { contentType?: string; systemHeaders?: Record<string, string>; userMetadata?: Record<string, string> },
  ): Promise<ObjectMeta>;
  listObjects(input: ListObjectsInput): Promise<ListObjectsResult>;

  createMultipartUpload(
    input: Omit<MultipartUpload, 'uploadId' | 'initiated'>,
  ): Promise<MultipartUpload>;
  uploadPart(input: {
    bucket: string;
    key: string;
    uploadId: string;
    partNumber: number;
    body: Readable;
    expectedChecksums?: Checksums;
    contentMD5?: string;
    beforeCommit?: PutObjectInput['beforeCommit'];
  }): Promise<PartInfo>;
  completeMultipartUpload(input: {
    bucket: string;
    key: string;
    uploadId: string;
    parts: { partNumber: number; etag: string }[];
  }): Promise<ObjectMeta>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string, opts: { after?: number; maxParts: number }): Promise<{
    upload: MultipartUpload;
    parts: PartInfo[];
    isTruncated: boolean;
  }>;
  listMultipartUploads(bucket: string, opts: { prefix?: string; maxUploads: number; keyAfter?: string; uploadIdAfter?: string }): Promise<{
    uploads: MultipartUpload[];
    isTruncated: boolean;
  }>;

  /** Removes temp files and orphaned blobs left by a crash. Called once at start-up. */
  recover(): Promise<{ removedTempFiles: number; removedOrphans: number }>;
  close(): Promise<void>;
}
