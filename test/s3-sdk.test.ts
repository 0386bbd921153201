import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function bodyBytes(out: { Body?: unknown }): Promise<Buffer> {
  const body = out.Body as { transformToByteArray(): Promise<Uint8Array> };
  return Buffer.from(await body.transformToByteArray());
}

async function rejectsWith(promise: Promise<unknown>, name: string | undefined, status?: number) {
  await assert.rejects(promise, (e: S3ServiceException) => {
    if (name) assert.equal(e.name, name);
    if (status) assert.equal(e.$metadata.httpStatusCode, status);
    return true;
  });
}

describe('S3 through @aws-sdk/client-s3 with default checksum settings', () => {
  let k: TestKiln;
  let s3: S3Client;
  before(async () => {
    k = await startTestKiln();
    s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'data' }));
  });
  after(async () => {
    s3?.destroy();
    await k?.stop();
  });

  test('empty, small and binary objects round-trip byte-exact with metadata', async () => {
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['small.txt', Buffer.from('hello kiln\n')],
      ['binary.bin', randomBytes(300_000)],
      ['dir/with space/ünïcödé+%.bin', randomBytes(1234)],
    ];
    for (const [key, bytes] of cases) {
      const put = await s3.send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: bytes, ContentType: 'application/x-test', Metadata: { Origin: 'Test' } }));
      assert.equal(put.ETag, `"${md5(bytes)}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: key }));
      assert.deepEqual(await bodyBytes(got), bytes, key);
      assert.equal(got.ContentType, 'application/x-test');
      assert.equal(got.ContentLength, bytes.length);
      assert.deepEqual(got.Metadata, { origin: 'Test' });
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: key }));
      assert.equal(head.ContentLength, bytes.length);
      assert.equal(head.ETag, put.ETag);
    }
  });

  test('a stream body is sent aws-chunked with a trailing checksum and stored decoded', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-s3-'));
    try {
      const file = path.join(dir, 'stream.bin');
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      await pipeline(Readable.from([bytes]), createWriteStream(file));
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'stream.bin', Body: createReadStream(file), ContentLength: bytes.length }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'stream.bin', ChecksumMode: 'ENABLED' }));
      assert.ok(got.ChecksumCRC32, 'the trailing CRC32 is stored and returned');
      assert.deepEqual(await bodyBytes(got), bytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a 100 MB object round-trips through a multipart upload', async () => {
    const bytes = randomBytes(100 * 1024 * 1024);
    const upload = new Upload({ client: s3, params: { Bucket: 'data', Key: 'big/100mb.bin', Body: bytes }, partSize: 8 * 1024 * 1024, queueSize: 4 });
    const done = await upload.done();
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-13"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'big/100mb.bin' }));
    assert.equal(head.ContentLength, bytes.length);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'big/100mb.bin' }));
    const hash = createHash('sha256');
    for await (const chunk of got.Body as Readable) hash.update(chunk as Buffer);
    assert.equal(hash.digest('hex'), createHash('sha256').update(bytes).digest('hex'));
  });

  test('ranges and conditional requests', async () => {
    const bytes = Buffer.from('0123456789abcdef');
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'range.txt', Body: bytes }));
    const part = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'range.txt', Range: 'bytes=2-5' }));
    assert.equal((await bodyBytes(part)).toString(), '2345');
    assert.equal(part.ContentRange, 'bytes 2-5/16');
    const suffix = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'range.txt', Range: 'bytes=-3' }));
    assert.equal((await bodyBytes(suffix)).toString(), 'def');
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'range.txt', Range: 'bytes=99-' })), 'InvalidRange', 416);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'range.txt', IfMatch: '"nope"' })), 'PreconditionFailed', 412);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'range.txt', IfNoneMatch: ETag })), undefined, 304);
    const same = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'range.txt', IfMatch: ETag }));
    assert.equal((await bodyBytes(same)).toString(), bytes.toString());
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'range.txt', IfModifiedSince: new Date(Date.now() + 60_000) })),
      undefined,
      304,
    );
  });

  test('copy keeps or replaces metadata by directive', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'src.txt', Body: 'copy me', ContentType: 'text/plain', Metadata: { a: '1' } }));
    await s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'copy1.txt', CopySource: 'data/src.txt' }));
    const c1 = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'copy1.txt' }));
    assert.deepEqual(c1.Metadata, { a: '1' });
    assert.equal(c1.ContentType, 'text/plain');
    await s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'copy2.txt', CopySource: '/data/src.txt', MetadataDirective: 'REPLACE', Metadata: { b: '2' }, ContentType: 'text/csv' }));
    const c2 = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'copy2.txt' }));
    assert.deepEqual(c2.Metadata, { b: '2' });
    assert.equal(c2.ContentType, 'text/csv');
    assert.equal((await bodyBytes(c2)).toString(), 'copy me');
    await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'src.txt', CopySource: 'data/src.txt' })), 'InvalidRequest', 400);
  });

  test('listing with prefix, delimiter, start-after and continuation (v2 and v1)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    const keys = ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'c/'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }));
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }));
    assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'b/', 'c/']);
    assert.deepEqual(top.Contents?.map((o) => o.Key), ['c']);
    const inA = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'a/', Delimiter: '/' }));
    assert.deepEqual(inA.Contents?.map((o) => o.Key), ['a/1', 'a/2']);
    assert.deepEqual(inA.CommonPrefixes?.map((p) => p.Prefix), ['a/b/']);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
      assert.equal(page.IsTruncated, !!token);
    } while (token);
    assert.deepEqual(seen, keys);
    const afterB = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'b/1' }));
    assert.deepEqual(afterB.Contents?.map((o) => o.Key), ['c', 'c/']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Marker: 'a/2', MaxKeys: 2 }));
    assert.deepEqual(v1.Contents?.map((o) => o.Key), ['a/b/3', 'b/1']);
    assert.equal(v1.IsTruncated, true);
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: 'listing', Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    assert.equal(del.Deleted?.length, keys.length);
    await s3.send(new DeleteBucketCommand({ Bucket: 'listing' }));
  });

  test('multipart: list parts and uploads, abort, wrong part refused', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp.bin' }));
    const p1 = randomBytes(5 * 1024 * 1024);
    const r1 = await s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp.bin', UploadId, PartNumber: 1, Body: p1 }));
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'data', Key: 'mp.bin', UploadId }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, p1.length, r1.ETag]]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data' }));
    assert.ok(uploads.Uploads?.some((u) => u.UploadId === UploadId));
    await rejectsWith(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'mp.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } })),
      'InvalidPart',
      400,
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'mp.bin', UploadId }));
    await rejectsWith(s3.send(new ListPartsCommand({ Bucket: 'data', Key: 'mp.bin', UploadId })), 'NoSuchUpload', 404);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'mp.bin' })), 'NotFound', 404);
  });

  test('buckets: list, head, location, errors in S3 shape', async () => {
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === 'data'));
    assert.ok(list.Owner?.ID);
    await s3.send(new HeadBucketCommand({ Bucket: 'data' }));
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'data' }));
    assert.equal(loc.LocationConstraint, undefined);
    await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: 'data' })), 'BucketAlreadyOwnedByYou', 409);
    await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })), 'InvalidBucketName', 400);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'nope-bucket', Key: 'x' })), 'NoSuchBucket', 404);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'missing' })), 'NoSuchKey', 404);
    await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: 'data' })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'missing-is-fine' }));
  });

  test('keys cannot escape the data directory', async () => {
    for (const Key of ['../../escape.txt', '..', '/abs/path', 'a/../../b']) {
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: 'x' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key }));
      assert.equal((await bodyBytes(got)).toString(), 'x');
    }
  });

  test('virtual-hosted-style addressing', async () => {
    // Resolve every *.localhost name to loopback, as browsers and systemd-resolved do.
    const agent = new Agent({
      lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
        opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never,
    });
    const port = new URL(k.endpoint).port;
    const vhost = new S3Client({
      endpoint: `http://localhost:${port}`,
      region: k.region,
      credentials: k.credentials,
      forcePathStyle: false,
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    });
    try {
      await vhost.send(new PutObjectCommand({ Bucket: 'data', Key: 'vhost/obj.txt', Body: 'virtual' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'vhost/obj.txt' }));
      assert.equal((await bodyBytes(got)).toString(), 'virtual');
      const list = await vhost.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'vhost/' }));
      assert.deepEqual(list.Contents?.map((o) => o.Key), ['vhost/obj.txt']);
    } finally {
      vhost.destroy();
      agent.destroy();
    }
  });
});
