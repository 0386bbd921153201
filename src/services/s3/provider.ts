/** The S3 wire service: maps S3 operations onto the object store. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AwsError } from '../../server/errors.ts';
import type { ChecksumAlgorithm, Checksums, ObjectMeta, ObjectStore } from '../../store/objects/types.ts';
import type { OperationInput as In, RequestContext } from '../types.ts';
import { checkConditions, parseRange } from './http-semantics.ts';

const ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'SHA1', 'SHA256'];
const SYSTEM_HEADERS: [string, string][] = [
  ['CacheControl', 'Cache-Control'],
  ['ContentDisposition', 'Content-Disposition'],
  ['ContentEncoding', 'Content-Encoding'],
  ['ContentLanguage', 'Content-Language'],
  ['Expires', 'Expires'],
];

const encodeToken = (after: string) => Buffer.from(after, 'utf8').toString('base64');
function decodeToken(token: string): string {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  if (!token || encodeToken(decoded) !== token) {
    throw new AwsError('InvalidArgument', 'The continuation token provided is incorrect', 400, { fields: { ArgumentName: 'continuation-token' } });
  }
  return decoded;
}

/** S3 url-encodes keys in listings when asked (boto3 always asks). */
const encodeKey = (key: string, encodingType?: string) =>
  encodingType === 'url' ? encodeURIComponent(key).replace(/%2F/g, '/') : key;

function expectedChecksums(input: In): Checksums {
  const out: Checksums = {};
  for (const a of ALGORITHMS) if (input[`Checksum${a}`]) out[a] = input[`Checksum${a}`];
  return out;
}

function checksumFields(checksums: Checksums): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of ALGORITHMS) if (checksums[a]) out[`Checksum${a}`] = checksums[a]!;
  return out;
}

function systemHeadersFrom(input: In): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [member, name] of SYSTEM_HEADERS) {
    const v = input[member];
    if (v !== undefined) out[name] = v instanceof Date ? v.toUTCString() : String(v);
  }
  return out;
}

function normalizeMetadata(meta: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(meta ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function requestedAlgorithm(input: In, ctx: RequestContext): ChecksumAlgorithm[] {
  const requested = new Set<ChecksumAlgorithm>();
  if (input.ChecksumAlgorithm && ALGORITHMS.includes(input.ChecksumAlgorithm)) requested.add(input.ChecksumAlgorithm);
  for (const a of ALGORITHMS) if (input[`Checksum${a}`]) requested.add(a);
  for (const t of ctx.trailingChecksumAlgorithms) if (ALGORITHMS.includes(t as ChecksumAlgorithm)) requested.add(t as ChecksumAlgorithm);
  return [...requested];
}

export class S3Provider {
  private readonly owner: { ID: string; DisplayName: string };

  constructor(private readonly store: ObjectStore, accountId: string) {
    this.owner = { ID: createHash('sha256').update(`kiln:${accountId}`).digest('hex'), DisplayName: 'kiln' };
  }

  async ListBuckets() {
    const buckets = await this.store.listBuckets();
    return { Buckets: buckets.map((b) => ({ Name: b.name, CreationDate: b.creationDate, BucketRegion: b.region })), Owner: this.owner };
  }

  async CreateBucket(input: In, ctx: RequestContext) {
    const location: string | undefined = input.CreateBucketConfiguration?.LocationConstraint;
    if (location !== undefined && location !== ctx.region && !(ctx.region === 'us-east-1' && location === '')) {
      throw new AwsError('IllegalLocationConstraintException', `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to.`, 400);
    }
    await this.store.createBucket(input.Bucket, ctx.region);
    return { Location: `/${input.Bucket}` };
  }

  async HeadBucket(input: In) {
    const bucket = await this.store.headBucket(input.Bucket);
    return { BucketRegion: bucket.region };
  }

  async GetBucketLocation(input: In) {
    const bucket = await this.store.headBucket(input.Bucket);
    return { LocationConstraint: bucket.region === 'us-east-1' ? undefined : bucket.region };
  }

  async DeleteBucket(input: In) {
    await this.store.deleteBucket(input.Bucket);
    return {};
  }

  async PutObject(input: In, ctx: RequestContext) {
    const meta = await this.store.putObject({
      bucket: input.Bucket,
      key: input.Key,
      body: input.Body as Readable,
      contentType: input.ContentType,
      systemHeaders: systemHeadersFrom(input),
      userMetadata: normalizeMetadata(input.Metadata),
      expectedChecksums: expectedChecksums(input),
      contentMD5: input.ContentMD5,
      computeChecksums: requestedAlgorithm(input, ctx),
      beforeCommit: (digest) => ctx.verifyPayload(digest as Parameters<RequestContext['verifyPayload']>[0]),
    });
    return { ETag: meta.etag, ...checksumFields(meta.checksums) };
  }

  private objectHeaders(meta: ObjectMeta, input: In) {
    return {
      ETag: meta.etag,
      LastModified: meta.lastModified,
      ContentType: input.ResponseContentType ?? meta.contentType,
      CacheControl: input.ResponseCacheControl ?? meta.systemHeaders['Cache-Control'],
      ContentDisposition: input.ResponseContentDisposition ?? meta.systemHeaders['Content-Disposition'],
      ContentEncoding: input.ResponseContentEncoding ?? meta.systemHeaders['Content-Encoding'],
      ContentLanguage: input.ResponseContentLanguage ?? meta.systemHeaders['Content-Language'],
      ExpiresString: input.ResponseExpires ?? meta.systemHeaders.Expires,
      Metadata: meta.userMetadata,
      AcceptRanges: 'bytes',
      PartsCount: meta.partsCount,
      ...(input.ChecksumMode === 'ENABLED' ? checksumFields(meta.checksums) : {}),
    };
  }

  async HeadObject(input: In) {
    const meta = await this.store.headObject(input.Bucket, input.Key);
    checkConditions(meta, input);
    const range = parseRange(input.Range, meta.size);
    return {
      ...this.objectHeaders(meta, input),
      ContentLength: range ? range.end - range.start + 1 : meta.size,
      ...(range ? { ContentRange: `bytes ${range.start}-${range.end}/${meta.size}`, $status: 206 } : {}),
    };
  }

  async GetObject(input: In) {
    const head = await this.store.headObject(input.Bucket, input.Key);
    checkConditions(head, input);
    const range = parseRange(input.Range, head.size);
    const { meta, body } = await this.store.getObject(input.Bucket, input.Key, range);
    const headers = this.objectHeaders(meta, input);
    if (range) {
      // A partial body cannot be checked against a whole-object checksum.
      for (const a of ALGORITHMS) delete (headers as Record<string, unknown>)[`Checksum${a}`];
    }
    return {
      ...headers,
      Body: body,
      ContentLength: range ? range.end - range.start + 1 : meta.size,
      ...(range ? { ContentRange: `bytes ${range.start}-${range.end}/${meta.size}`, $status: 206 } : {}),
    };
  }

  async DeleteObject(input: In) {
    await this.store.deleteObject(input.Bucket, input.Key);
    return {};
  }

  async DeleteObjects(input: In) {
    const objects: { Key: string }[] = input.Delete?.Objects ?? [];
    if (objects.length > 1000) {
      throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', 400);
    }
    await this.store.headBucket(input.Bucket);
    const Deleted: { Key: string }[] = [];
    const Errors: { Key: string; Code: string; Message: string }[] = [];
    for (const { Key } of objects) {
      try {
        await this.store.deleteObject(input.Bucket, Key);
        if (!input.Delete?.Quiet) Deleted.push({ Key });
      } catch (e) {
        const err = e instanceof AwsError ? e : new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500);
        Errors.push({ Key, Code: err.code, Message: err.message });
      }
    }
    return { Deleted, Errors };
  }

  async CopyObject(input: In) {
    const src = parseCopySource(input.CopySource);
    const directive = input.MetadataDirective ?? 'COPY';
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw new AwsError('InvalidArgument', 'Unknown metadata directive.', 400, { fields: { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive } });
    }
    if (src.bucket === input.Bucket && src.key === input.Key && directive === 'COPY') {
      throw new AwsError(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        400,
      );
    }
    const srcMeta = await this.store.headObject(src.bucket, src.key);
    checkConditions(srcMeta, {
      IfMatch: input.CopySourceIfMatch,
      IfNoneMatch: input.CopySourceIfNoneMatch,
      IfModifiedSince: input.CopySourceIfModifiedSince,
      IfUnmodifiedSince: input.CopySourceIfUnmodifiedSince,
    });
    const replace =
      directive === 'REPLACE'
        ? { contentType: input.ContentType, systemHeaders: systemHeadersFrom(input), userMetadata: normalizeMetadata(input.Metadata) }
        : undefined;
    const meta = await this.store.copyObject(src, { bucket: input.Bucket, key: input.Key }, replace);
    return { CopyObjectResult: { ETag: meta.etag, LastModified: meta.lastModified, ...checksumFields(meta.checksums) } };
  }

  async ListObjectsV2(input: In) {
    const maxKeys = clampMaxKeys(input.MaxKeys);
    const after = input.ContinuationToken ? decodeToken(input.ContinuationToken) : input.StartAfter;
    const page = await this.store.listObjects({ bucket: input.Bucket, prefix: input.Prefix, delimiter: input.Delimiter, after, maxKeys });
    const enc = input.EncodingType;
    return {
      Name: input.Bucket,
      Prefix: encodeKey(input.Prefix ?? '', enc),
      Delimiter: input.Delimiter !== undefined ? encodeKey(input.Delimiter, enc) : undefined,
      MaxKeys: maxKeys,
      EncodingType: enc,
      KeyCount: page.objects.length + page.commonPrefixes.length,
      IsTruncated: page.isTruncated,
      ContinuationToken: input.ContinuationToken,
      NextContinuationToken: page.isTruncated && page.nextAfter !== undefined ? encodeToken(page.nextAfter) : undefined,
      StartAfter: input.StartAfter !== undefined ? encodeKey(input.StartAfter, enc) : undefined,
      Contents: page.objects.map((o) => this.listEntry(o, enc, input.FetchOwner)),
      CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: encodeKey(p, enc) })),
    };
  }

  async ListObjects(input: In) {
    const maxKeys = clampMaxKeys(input.MaxKeys);
    const page = await this.store.listObjects({ bucket: input.Bucket, prefix: input.Prefix, delimiter: input.Delimiter, after: input.Marker, maxKeys });
    const enc = input.EncodingType;
    return {
      Name: input.Bucket,
      Prefix: encodeKey(input.Prefix ?? '', enc),
      Marker: encodeKey(input.Marker ?? '', enc),
      Delimiter: input.Delimiter !== undefined ? encodeKey(input.Delimiter, enc) : undefined,
      MaxKeys: maxKeys,
      EncodingType: enc,
      IsTruncated: page.isTruncated,
      NextMarker: page.isTruncated && input.Delimiter !== undefined && page.nextAfter !== undefined ? encodeKey(page.nextAfter, enc) : undefined,
      Contents: page.objects.map((o) => this.listEntry(o, enc, true)),
      CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: encodeKey(p, enc) })),
    };
  }

  private listEntry(o: ObjectMeta, enc: string | undefined, withOwner: boolean | undefined) {
    const algorithms = ALGORITHMS.filter((a) => o.checksums[a]);
    return {
      Key: encodeKey(o.key, enc),
      LastModified: o.lastModified,
      ETag: o.etag,
      Size: o.size,
      StorageClass: 'STANDARD',
      ChecksumAlgorithm: algorithms.length ? algorithms : undefined,
      Owner: withOwner ? this.owner : undefined,
    };
  }

  async CreateMultipartUpload(input: In) {
    const upload = await this.store.createMultipartUpload({
      bucket: input.Bucket,
      key: input.Key,
      contentType: input.ContentType ?? 'binary/octet-stream',
      systemHeaders: systemHeadersFrom(input),
      userMetadata: normalizeMetadata(input.Metadata),
      checksumAlgorithm: ALGORITHMS.includes(input.ChecksumAlgorithm) ? input.ChecksumAlgorithm : undefined,
    });
    return { Bucket: input.Bucket, Key: input.Key, UploadId: upload.uploadId, ChecksumAlgorithm: upload.checksumAlgorithm };
  }

  async UploadPart(input: In, ctx: RequestContext) {
    if (!Number.isInteger(input.PartNumber) || input.PartNumber < 1 || input.PartNumber > 10000) {
      throw new AwsError('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', 400, {
        fields: { ArgumentName: 'partNumber', ArgumentValue: String(input.PartNumber) },
      });
    }
    const part = await this.store.uploadPart({
      bucket: input.Bucket,
      key: input.Key,
      uploadId: input.UploadId,
      partNumber: input.PartNumber,
      body: input.Body as Readable,
      expectedChecksums: expectedChecksums(input),
      contentMD5: input.ContentMD5,
      beforeCommit: (digest) => ctx.verifyPayload(digest as Parameters<RequestContext['verifyPayload']>[0]),
    });
    return { ETag: part.etag, ...checksumFields(part.checksums) };
  }

  async CompleteMultipartUpload(input: In) {
    const parts: { PartNumber: number; ETag: string }[] = input.MultipartUpload?.Parts ?? [];
    if (!parts.length) {
      throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', 400);
    }
    const meta = await this.store.completeMultipartUpload({
      bucket: input.Bucket,
      key: input.Key,
      uploadId: input.UploadId,
      parts: parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag })),
    });
    return { Location: `/${input.Bucket}/${input.Key}`, Bucket: input.Bucket, Key: input.Key, ETag: meta.etag, ...checksumFields(meta.checksums) };
  }

  async AbortMultipartUpload(input: In) {
    await this.store.abortMultipartUpload(input.Bucket, input.Key, input.UploadId);
    return {};
  }

  async ListParts(input: In) {
    const maxParts = Math.min(input.MaxParts ?? 1000, 1000);
    const after = input.PartNumberMarker !== undefined ? Number(input.PartNumberMarker) : undefined;
    const { upload, parts, isTruncated } = await this.store.listParts(input.Bucket, input.Key, input.UploadId, { after, maxParts });
    return {
      Bucket: input.Bucket,
      Key: input.Key,
      UploadId: input.UploadId,
      PartNumberMarker: input.PartNumberMarker,
      NextPartNumberMarker: parts.length ? String(parts[parts.length - 1]!.partNumber) : undefined,
      MaxParts: maxParts,
      IsTruncated: isTruncated,
      Initiator: { ID: this.owner.ID, DisplayName: this.owner.DisplayName },
      Owner: this.owner,
      StorageClass: 'STANDARD',
      ChecksumAlgorithm: upload.checksumAlgorithm,
      Parts: parts.map((p) => ({ PartNumber: p.partNumber, LastModified: p.lastModified, ETag: p.etag, Size: p.size, ...checksumFields(p.checksums) })),
    };
  }

  async ListMultipartUploads(input: In) {
    const maxUploads = Math.min(input.MaxUploads ?? 1000, 1000);
    const { uploads, isTruncated } = await this.store.listMultipartUploads(input.Bucket, {
      prefix: input.Prefix,
      maxUploads,
      keyAfter: input.KeyMarker,
      uploadIdAfter: input.UploadIdMarker,
    });
    const last = uploads[uploads.length - 1];
    return {
      Bucket: input.Bucket,
      Prefix: input.Prefix,
      KeyMarker: input.KeyMarker ?? '',
      UploadIdMarker: input.UploadIdMarker ?? '',
      NextKeyMarker: isTruncated ? last?.key : undefined,
      NextUploadIdMarker: isTruncated ? last?.uploadId : undefined,
      MaxUploads: maxUploads,
      IsTruncated: isTruncated,
      Uploads: uploads.map((u) => ({
        Key: u.key,
        UploadId: u.uploadId,
        Initiated: u.initiated,
        StorageClass: 'STANDARD',
        Owner: this.owner,
        Initiator: { ID: this.owner.ID, DisplayName: this.owner.DisplayName },
        ChecksumAlgorithm: u.checksumAlgorithm,
      })),
    };
  }
}

function clampMaxKeys(value: number | undefined): number {
  if (value === undefined) return 1000;
  if (value < 0) throw new AwsError('InvalidArgument', 'Provided max-keys not an integer or within integer range', 400, { fields: { ArgumentName: 'max-keys' } });
  return Math.min(value, 1000);
}

/** `x-amz-copy-source`: `bucket/key` or `/bucket/key`, url-encoded, optionally `?versionId=`. */
export function parseCopySource(source: string): { bucket: string; key: string } {
  const [pathPart = ''] = source.split('?');
  const decoded = decodeURIComponent(pathPart.replace(/^\//, ''));
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new AwsError('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 400, {
      fields: { ArgumentName: 'x-amz-copy-source', ArgumentValue: source },
    });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}
