import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { AwsError } from '../../server/errors.ts';
import { createDigester } from './checksums.ts';
import { FsObjectStore } from './fs-store.ts';
import type { ObjectRow } from './index-db.ts';
import { listPage, type KeyRange } from './listing.ts';
import type { ListObjectsInput, ObjectMeta } from './types.ts';

const MiB = 1024 * 1024;

interface Fixture {
  store: FsObjectStore;
  root: string;
  /** The directory holding `root`; nothing else may appear in it. */
  parent: string;
}

function openFixture(t: TestContext, bucket: string | null = 'bucket'): Promise<Fixture> {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'kiln-fs-store-'));
  const root = path.join(parent, 'objects');
  const store = new FsObjectStore(root);
  t.after(async () => {
    await store.close().catch(() => {});
    rmSync(parent, { recursive: true, force: true });
  });
  const fixture = { store, root, parent };
  return bucket ? store.createBucket(bucket, 'us-east-1').then(() => fixture) : Promise.resolve(fixture);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function put(store: FsObjectStore, key: string, data: Buffer | string, bucket = 'bucket'): Promise<ObjectMeta> {
  return store.putObject({ bucket, key, body: Readable.from([Buffer.from(data)]) });
}

async function get(store: FsObjectStore, key: string, bucket = 'bucket'): Promise<Buffer> {
  return readAll((await store.getObject(bucket, key)).body);
}

function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

function b64(algorithm: 'sha1' | 'sha256' | 'md5', data: Buffer): string {
  return createHash(algorithm).update(data).digest('base64');
}

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlibCrc32(data));
  return out.toString('base64');
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  status: number,
  message?: string,
  fields?: Record<string, string | number>,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AwsError, `expected AwsError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    if (message !== undefined) assert.equal(error.message, message);
    for (const [name, value] of Object.entries(fields ?? {})) assert.equal(error.fields[name], value);
    return true;
  });
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

const blobFiles = (root: string) => filesUnder(path.join(root, 'blobs'));
const tempFiles = (root: string) => readdirSync(path.join(root, 'tmp'));

async function listAll(store: FsObjectStore, input: Omit<ListObjectsInput, 'bucket'>) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let after = input.after;
  let pages = 0;
  for (;;) {
    const page = await store.listObjects({ bucket: 'bucket', ...input, after });
    pages++;
    keys.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.commonPrefixes);
    assert.ok(page.objects.length + page.commonPrefixes.length <= input.maxKeys);
    if (!page.isTruncated) {
      assert.equal(page.nextAfter, undefined);
      return { keys, prefixes, pages };
    }
    assert.ok(page.nextAfter !== undefined);
    after = page.nextAfter;
  }
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// Buckets

test('buckets: create, head, list, duplicate, delete', async (t) => {
  const { store } = await openFixture(t, null);
  const created = await store.createBucket('zeta', 'eu-west-1');
  assert.equal(created.name, 'zeta');
  assert.equal(created.region, 'eu-west-1');
  await store.createBucket('alpha.example-1', 'us-east-1');
  await rejectsWith(
    store.createBucket('zeta', 'eu-west-1'),
    'BucketAlreadyOwnedByYou',
    409,
    'Your previous request to create the named bucket succeeded and you already own it.',
    { BucketName: 'zeta' },
  );
  assert.deepEqual(
    (await store.listBuckets()).map((b) => b.name),
    ['alpha.example-1', 'zeta'],
  );
  const head = await store.headBucket('zeta');
  assert.equal(head.region, 'eu-west-1');
  assert.equal(head.creationDate.getTime(), created.creationDate.getTime());

  await put(store, 'k', 'v', 'zeta');
  await rejectsWith(store.deleteBucket('zeta'), 'BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', {
    BucketName: 'zeta',
  });
  await store.deleteObject('zeta', 'k');
  await store.deleteBucket('zeta');
  await rejectsWith(store.headBucket('zeta'), 'NoSuchBucket', 404, 'The specified bucket does not exist', {
    BucketName: 'zeta',
  });
  await rejectsWith(store.deleteBucket('zeta'), 'NoSuchBucket', 404);
  await rejectsWith(put(store, 'k', 'v', 'zeta'), 'NoSuchBucket', 404);
  await rejectsWith(store.getObject('nope', 'k'), 'NoSuchBucket', 404);
  await rejectsWith(store.listObjects({ bucket: 'nope', maxKeys: 10 }), 'NoSuchBucket', 404);
});

test('buckets: name rules', async (t) => {
  const { store } = await openFixture(t, null);
  const invalid = [
    'ab',
    'a'.repeat(64),
    'Upper',
    'under_score',
    '-leading',
    'trailing-',
    '.leading',
    'trailing.',
    'two..dots',
    '192.168.1.1',
    'xn--punycode',
    'name-s3alias',
    'with space',
    '../etc',
    'sl/ash',
    '',
  ];
  for (const name of invalid) {
    await rejectsWith(store.createBucket(name, 'us-east-1'), 'InvalidBucketName', 400, 'The specified bucket is not valid.', {
      BucketName: name,
    });
  }
  for (const name of ['abc', 'a'.repeat(63), 'my.bucket-1', '1bucket', '192.168.1.1a']) {
    await store.createBucket(name, 'us-east-1');
  }
});

test('deleting a bucket discards its in-progress multipart uploads', async (t) => {
  const { store, root } = await openFixture(t);
  const upload = await store.createMultipartUpload({
    bucket: 'bucket',
    key: 'big',
    contentType: 'x/y',
    systemHeaders: {},
    userMetadata: {},
  });
  await store.uploadPart({ bucket: 'bucket', key: 'big', uploadId: upload.uploadId, partNumber: 1, body: Readable.from([Buffer.from('x')]) });
  assert.equal(blobFiles(root).length, 1);
  await store.deleteBucket('bucket');
  assert.equal(blobFiles(root).length, 0);
  await store.createBucket('bucket', 'us-east-1');
  assert.deepEqual((await store.listMultipartUploads('bucket', { maxUploads: 10 })).uploads, []);
});

// Objects

test('put/get round trip with metadata, ETag and persistence across reopen', async (t) => {
  const { store, root } = await openFixture(t);
  const data = randomBytes(3 * MiB + 17);
  const meta = await store.putObject({
    bucket: 'bucket',
    key: 'dir/file.bin',
    body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
    contentType: 'application/x-test',
    systemHeaders: { 'Cache-Control': 'no-cache' },
    userMetadata: { owner: 'me' },
  });
  assert.equal(meta.size, data.length);
  assert.equal(meta.etag, `"${md5Hex(data)}"`);
  assert.equal(meta.lastModified.getMilliseconds(), 0);
  assert.equal(meta.partsCount, undefined);

  const { meta: got, body } = await store.getObject('bucket', 'dir/file.bin');
  assert.deepEqual(await readAll(body), data);
  assert.deepEqual(got, meta);
  assert.deepEqual(await store.headObject('bucket', 'dir/file.bin'), meta);

  await store.close();
  const reopened = new FsObjectStore(root);
  try {
    assert.deepEqual(await get(reopened, 'dir/file.bin'), data);
    assert.equal((await reopened.headObject('bucket', 'dir/file.bin')).contentType, 'application/x-test');
  } finally {
    await reopened.close();
  }
});

test('empty object, default content type, missing key', async (t) => {
  const { store } = await openFixture(t);
  const meta = await store.putObject({ bucket: 'bucket', key: 'empty', body: Readable.from([]) });
  assert.equal(meta.size, 0);
  assert.equal(meta.etag, '"d41d8cd98f00b204e9800998ecf8427e"');
  assert.equal(meta.contentType, 'binary/octet-stream');
  assert.equal((await get(store, 'empty')).length, 0);
  await rejectsWith(store.getObject('bucket', 'missing'), 'NoSuchKey', 404, 'The specified key does not exist.', {
    Key: 'missing',
  });
  await rejectsWith(store.headObject('bucket', 'missing'), 'NoSuchKey', 404);
});

test('linkObject: a hard link to the stored bytes that keeps them when the object is replaced or deleted', async (t) => {
  const { store } = await openFixture(t);
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'kiln-fs-store-link-'));
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  await put(store, 'data.csv', 'a,b\n1,2\n');
  const linked = path.join(elsewhere, 'data.csv');
  assert.equal(await store.linkObject('bucket', 'data.csv', linked), true);
  await put(store, 'data.csv', 'replaced');
  await store.deleteObject('bucket', 'data.csv');
  assert.equal(readFileSync(linked, 'utf8'), 'a,b\n1,2\n');
  await rejectsWith(store.linkObject('bucket', 'missing', path.join(elsewhere, 'missing')), 'NoSuchKey', 404);
  // A target that exists already cannot be linked: the caller falls back to a copy.
  await put(store, 'other', 'x');
  assert.equal(await store.linkObject('bucket', 'other', linked), false);
});

test('keys "a" and "a/b" coexist, and weird keys never escape the root', async (t) => {
  const { store, root, parent } = await openFixture(t);
  const keys = [
    'a',
    'a/b',
    'a/b/',
    '../x',
    '../../../../etc/passwd',
    '/absolute',
    '.',
    '..',
    'with spaces  and\ttabs',
    'ключ/значение',
    'emoji/😀',
    'back\\slash',
    'percent%2F..%2F',
    'nul\u0000byte',
    'new\nline',
  ];
  for (const [i, key] of keys.entries()) await put(store, key, `value ${i}`);
  for (const [i, key] of keys.entries()) assert.equal((await get(store, key)).toString(), `value ${i}`);

  const listed = await store.listObjects({ bucket: 'bucket', maxKeys: 1000 });
  assert.deepEqual(
    listed.objects.map((o) => o.key),
    [...keys].sort(utf8Order),
  );

  assert.deepEqual(readdirSync(parent), ['objects']);
  const blobPattern = /^\d+\/[0-9a-f]{2}\/[0-9a-f-]{36}$/;
  for (const file of blobFiles(root)) {
    assert.match(path.relative(path.join(root, 'blobs'), file).split(path.sep).join('/'), blobPattern);
  }
  assert.equal(blobFiles(root).length, keys.length);
  assert.deepEqual(tempFiles(root), []);
});

test('key rules: length in UTF-8 bytes, empty key', async (t) => {
  const { store } = await openFixture(t);
  await put(store, 'k'.repeat(1024), 'ok');
  await put(store, 'é'.repeat(512), 'ok');
  await rejectsWith(put(store, 'k'.repeat(1025), 'no'), 'KeyTooLongError', 400, 'Your key is too long', {
    Size: 1025,
    MaxSizeAllowed: 1024,
  });
  await rejectsWith(put(store, 'é'.repeat(513), 'no'), 'KeyTooLongError', 400, 'Your key is too long', { Size: 1026 });
  await rejectsWith(put(store, '', 'no'), 'InvalidArgument', 400);
  await rejectsWith(put(store, 'lone\ud800surrogate', 'no'), 'InvalidArgument', 400);
});

test('overwrite replaces bytes and deletes the old blob; delete is idempotent', async (t) => {
  const { store, root } = await openFixture(t);
  await put(store, 'k', 'first version');
  const second = await put(store, 'k', 'second');
  assert.equal((await get(store, 'k')).toString(), 'second');
  assert.equal((await store.headObject('bucket', 'k')).etag, second.etag);
  assert.equal(blobFiles(root).length, 1);

  await store.deleteObject('bucket', 'k');
  await rejectsWith(store.getObject('bucket', 'k'), 'NoSuchKey', 404);
  assert.equal(blobFiles(root).length, 0);
  await store.deleteObject('bucket', 'k');
  await store.deleteObject('bucket', 'never-existed');
  await rejectsWith(store.deleteObject('nobucket', 'k'), 'NoSuchBucket', 404);
});

test('a reader keeps the old bytes while the object is overwritten', async (t) => {
  const { store } = await openFixture(t);
  const oldData = randomBytes(2 * MiB);
  await put(store, 'k', oldData);
  const { body } = await store.getObject('bucket', 'k');
  await put(store, 'k', 'new');
  await store.deleteObject('bucket', 'k');
  assert.deepEqual(await readAll(body), oldData);
});

test('range reads return exactly the slice', async (t) => {
  const { store } = await openFixture(t);
  const data = randomBytes(1 * MiB + 3);
  await put(store, 'r', data);
  for (const [start, end] of [
    [0, 0],
    [0, 9],
    [10, 19],
    [65_530, 65_545],
    [data.length - 5, data.length - 1],
    [0, data.length - 1],
  ] as const) {
    const { body, meta } = await store.getObject('bucket', 'r', { start, end });
    assert.equal(meta.size, data.length);
    assert.deepEqual(await readAll(body), data.subarray(start, end + 1));
  }
});

// Checksums and commit hooks

test('flexible checksums are computed and verified', async (t) => {
  const { store } = await openFixture(t);
  const data = Buffer.from('123456789');
  const meta = await store.putObject({
    bucket: 'bucket',
    key: 'c',
    body: Readable.from([data]),
    computeChecksums: ['CRC32', 'CRC32C', 'SHA1', 'SHA256'],
  });
  assert.equal(meta.checksums.CRC32, Buffer.from('cbf43926', 'hex').toString('base64'));
  assert.equal(meta.checksums.CRC32C, Buffer.from('e3069283', 'hex').toString('base64'));
  assert.equal(meta.checksums.SHA1, b64('sha1', data));
  assert.equal(meta.checksums.SHA256, b64('sha256', data));

  const verified = await store.putObject({
    bucket: 'bucket',
    key: 'v',
    body: Readable.from([data]),
    expectedChecksums: { CRC32: crc32Base64(data), SHA256: b64('sha256', data) },
    contentMD5: b64('md5', data),
  });
  assert.deepEqual(verified.checksums, { CRC32: crc32Base64(data), SHA256: b64('sha256', data) });

  const plain = await put(store, 'p', data);
  assert.deepEqual(plain.checksums, {});
});

test('checksum mismatch leaves no object, no temp file and no blob', async (t) => {
  const { store, root } = await openFixture(t);
  const data = randomBytes(100_000);
  const wrong = randomBytes(100_000);
  const cases: [string, Parameters<FsObjectStore['putObject']>[0], string][] = [
    ['CRC32', { bucket: 'bucket', key: 'x', body: Readable.from([data]), expectedChecksums: { CRC32: crc32Base64(wrong) } }, 'The CRC32 you specified did not match the calculated checksum.'],
    ['CRC32C', { bucket: 'bucket', key: 'x', body: Readable.from([data]), expectedChecksums: { CRC32C: 'AAAAAA==' } }, 'The CRC32C you specified did not match the calculated checksum.'],
    ['SHA1', { bucket: 'bucket', key: 'x', body: Readable.from([data]), expectedChecksums: { SHA1: b64('sha1', wrong) } }, 'The SHA1 you specified did not match the calculated checksum.'],
    ['SHA256', { bucket: 'bucket', key: 'x', body: Readable.from([data]), expectedChecksums: { SHA256: b64('sha256', wrong) } }, 'The SHA256 you specified did not match the calculated checksum.'],
    ['Content-MD5', { bucket: 'bucket', key: 'x', body: Readable.from([data]), contentMD5: b64('md5', wrong) }, 'The Content-MD5 you specified did not match what we received.'],
  ];
  for (const [, input, message] of cases) {
    await rejectsWith(store.putObject(input), 'BadDigest', 400, message);
  }
  await rejectsWith(store.headObject('bucket', 'x'), 'NoSuchKey', 404);
  assert.deepEqual(tempFiles(root), []);
  assert.deepEqual(blobFiles(root), []);

  await rejectsWith(
    store.putObject({ bucket: 'bucket', key: 'x', body: Readable.from([data]), expectedChecksums: { CRC32: 'not base64!' } }),
    'InvalidRequest',
    400,
    'Value for x-amz-checksum-crc32 header is invalid.',
  );
  await rejectsWith(
    store.putObject({ bucket: 'bucket', key: 'x', body: Readable.from([data]), contentMD5: 'AAAA' }),
    'InvalidDigest',
    400,
  );
  // A failed overwrite keeps the previous object intact.
  await put(store, 'x', 'original');
  await rejectsWith(
    store.putObject({ bucket: 'bucket', key: 'x', body: Readable.from([data]), expectedChecksums: { SHA1: b64('sha1', wrong) } }),
    'BadDigest',
    400,
  );
  assert.equal((await get(store, 'x')).toString(), 'original');
});

test('beforeCommit sees the digest; throwing leaves no object and no temp file', async (t) => {
  const { store, root } = await openFixture(t);
  const data = randomBytes(500_000);
  let seen: { sha256Hex: string; size: number } | undefined;
  await store.putObject({
    bucket: 'bucket',
    key: 'ok',
    body: Readable.from([data]),
    beforeCommit: (digest) => {
      seen = digest;
    },
  });
  assert.deepEqual(seen, { sha256Hex: createHash('sha256').update(data).digest('hex'), size: data.length, checksums: {} });

  await rejectsWith(
    store.putObject({
      bucket: 'bucket',
      key: 'vetoed',
      body: Readable.from([data]),
      beforeCommit: async () => {
        throw new AwsError('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.', 400);
      },
    }),
    'XAmzContentSHA256Mismatch',
    400,
  );
  await rejectsWith(store.headObject('bucket', 'vetoed'), 'NoSuchKey', 404);
  assert.deepEqual(tempFiles(root), []);
  assert.equal(blobFiles(root).length, 1);
});

test('a body stream that fails midway leaves nothing behind', async (t) => {
  const { store, root } = await openFixture(t);
  const body = new Readable({ read() {} });
  body.push(randomBytes(64 * 1024));
  setImmediate(() => body.destroy(new Error('client aborted')));
  await assert.rejects(store.putObject({ bucket: 'bucket', key: 'partial', body }), /client aborted/);
  await rejectsWith(store.headObject('bucket', 'partial'), 'NoSuchKey', 404);
  assert.deepEqual(tempFiles(root), []);
  assert.deepEqual(blobFiles(root), []);
});

// Copy

test('copyObject copies or replaces metadata and writes a new blob', async (t) => {
  const { store, root } = await openFixture(t);
  await store.createBucket('other', 'us-east-1');
  const data = randomBytes(200_000);
  const source = await store.putObject({
    bucket: 'bucket',
    key: 'src',
    body: Readable.from([data]),
    contentType: 'text/plain',
    systemHeaders: { 'Content-Encoding': 'gzip' },
    userMetadata: { a: '1' },
    computeChecksums: ['CRC32C'],
  });

  const copied = await store.copyObject({ bucket: 'bucket', key: 'src' }, { bucket: 'other', key: 'dst' });
  assert.equal(copied.etag, source.etag);
  assert.equal(copied.contentType, 'text/plain');
  assert.deepEqual(copied.systemHeaders, { 'Content-Encoding': 'gzip' });
  assert.deepEqual(copied.userMetadata, { a: '1' });
  assert.deepEqual(copied.checksums, source.checksums);
  assert.deepEqual(await get(store, 'dst', 'other'), data);

  const replaced = await store.copyObject(
    { bucket: 'bucket', key: 'src' },
    { bucket: 'bucket', key: 'dst2' },
    { contentType: 'application/json', userMetadata: { b: '2' } },
  );
  assert.equal(replaced.contentType, 'application/json');
  assert.deepEqual(replaced.userMetadata, { b: '2' });
  assert.deepEqual(replaced.systemHeaders, {});

  await store.deleteObject('bucket', 'src');
  assert.deepEqual(await get(store, 'dst', 'other'), data);
  assert.equal(blobFiles(root).length, 2);

  await rejectsWith(store.copyObject({ bucket: 'bucket', key: 'dst2' }, { bucket: 'bucket', key: 'dst2' }), 'InvalidRequest', 400);
  const inPlace = await store.copyObject({ bucket: 'bucket', key: 'dst2' }, { bucket: 'bucket', key: 'dst2' }, { userMetadata: { c: '3' } });
  assert.deepEqual(inPlace.userMetadata, { c: '3' });
  assert.deepEqual(await get(store, 'dst2'), data);
  assert.equal(blobFiles(root).length, 2);

  await rejectsWith(store.copyObject({ bucket: 'bucket', key: 'gone' }, { bucket: 'bucket', key: 'x' }), 'NoSuchKey', 404);
  await rejectsWith(store.copyObject({ bucket: 'nope', key: 'dst2' }, { bucket: 'bucket', key: 'x' }), 'NoSuchBucket', 404);
  await rejectsWith(store.copyObject({ bucket: 'bucket', key: 'dst2' }, { bucket: 'nope', key: 'x' }), 'NoSuchBucket', 404);
});

// Listing

test('listing 2,500+ keys: prefix, delimiter, start-after, pagination, UTF-8 order', async (t) => {
  const { store } = await openFixture(t);
  const keys: string[] = [];
  for (let d = 0; d < 50; d++) for (let f = 0; f < 50; f++) keys.push(`dir${d}/file${f}`);
  keys.push('dir1', 'top1', 'top2', 'u/é', 'u/\uFFFD', 'u/😀', 'u/😀/deep');
  for (let i = 0; i < keys.length; i += 64) {
    await Promise.all(keys.slice(i, i + 64).map((key) => put(store, key, key)));
  }
  const sorted = [...keys].sort(utf8Order);

  const flat = await listAll(store, { maxKeys: 1000 });
  assert.deepEqual(flat.keys, sorted);
  assert.equal(flat.pages, 3);
  assert.deepEqual((await listAll(store, { maxKeys: 333 })).keys, sorted);

  const expectedPrefixes = [...Array.from({ length: 50 }, (_, d) => `dir${d}/`), 'u/'].sort(utf8Order);
  const rolled = await store.listObjects({ bucket: 'bucket', delimiter: '/', maxKeys: 1000 });
  assert.deepEqual(rolled.commonPrefixes, expectedPrefixes);
  assert.deepEqual(
    rolled.objects.map((o) => o.key),
    ['dir1', 'top1', 'top2'],
  );
  assert.equal(rolled.isTruncated, false);

  const paged = await listAll(store, { delimiter: '/', maxKeys: 7 });
  assert.deepEqual(paged.prefixes, expectedPrefixes);
  assert.deepEqual(paged.keys, ['dir1', 'top1', 'top2']);
  assert.equal(paged.pages, Math.ceil((expectedPrefixes.length + 3) / 7));

  const dir1 = await listAll(store, { prefix: 'dir1/', delimiter: '/', maxKeys: 1000 });
  assert.deepEqual(dir1.keys, sorted.filter((k) => k.startsWith('dir1/')));
  assert.equal(dir1.keys.length, 50);
  assert.deepEqual(dir1.prefixes, []);

  const dir1Rolled = await store.listObjects({ bucket: 'bucket', prefix: 'dir1', delimiter: '/', maxKeys: 1000 });
  assert.deepEqual(
    dir1Rolled.objects.map((o) => o.key),
    ['dir1'],
  );
  assert.deepEqual(dir1Rolled.commonPrefixes, ['dir1/', ...Array.from({ length: 10 }, (_, i) => `dir1${i}/`)]);

  // A common prefix as the marker skips its whole subtree.
  const afterPrefix = await store.listObjects({ bucket: 'bucket', delimiter: '/', after: 'dir3/', maxKeys: 2 });
  assert.deepEqual(afterPrefix.commonPrefixes, ['dir30/', 'dir31/']);
  assert.equal(afterPrefix.nextAfter, 'dir31/');
  assert.equal(afterPrefix.isTruncated, true);

  const afterKey = await store.listObjects({ bucket: 'bucket', after: 'dir5/file3', maxKeys: 3 });
  assert.deepEqual(
    afterKey.objects.map((o) => o.key),
    ['dir5/file30', 'dir5/file31', 'dir5/file32'],
  );
  const afterBeforePrefix = await store.listObjects({ bucket: 'bucket', prefix: 'top', after: 'a', maxKeys: 10 });
  assert.deepEqual(
    afterBeforePrefix.objects.map((o) => o.key),
    ['top1', 'top2'],
  );

  // UTF-8 byte order puts U+FFFD before astral characters, unlike UTF-16 string order.
  const unicode = await store.listObjects({ bucket: 'bucket', prefix: 'u/', maxKeys: 10 });
  assert.deepEqual(
    unicode.objects.map((o) => o.key),
    ['u/é', 'u/\uFFFD', 'u/😀', 'u/😀/deep'],
  );
  const unicodeRolled = await store.listObjects({ bucket: 'bucket', prefix: 'u/', delimiter: '/', maxKeys: 10 });
  assert.deepEqual(unicodeRolled.commonPrefixes, ['u/😀/']);
  assert.deepEqual(
    unicodeRolled.objects.map((o) => o.key),
    ['u/é', 'u/\uFFFD', 'u/😀'],
  );

  const exact = await store.listObjects({ bucket: 'bucket', prefix: 'top', maxKeys: 2 });
  assert.equal(exact.isTruncated, false);
  assert.equal(exact.nextAfter, undefined);
  const none = await store.listObjects({ bucket: 'bucket', maxKeys: 0 });
  assert.deepEqual([none.objects, none.commonPrefixes, none.isTruncated], [[], [], false]);
  const multiCharDelimiter = await store.listObjects({ bucket: 'bucket', prefix: 'dir4', delimiter: '/file1', maxKeys: 1000 });
  assert.ok(multiCharDelimiter.commonPrefixes.includes('dir4/file1'));
  assert.ok(!multiCharDelimiter.objects.some((o) => o.key.startsWith('dir4/file1')));
  assert.ok(multiCharDelimiter.objects.some((o) => o.key === 'dir4/file2'));
});

test('delimiter listing seeks past common prefixes instead of reading them', () => {
  const keys: Buffer[] = [];
  for (let d = 0; d < 50; d++) for (let f = 0; f < 500; f++) keys.push(Buffer.from(`dir${d}/file${f}`));
  keys.push(Buffer.from('loose'));
  keys.sort(Buffer.compare);
  let rowsRead = 0;
  const lowerIndex = (bound: Buffer) => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare(keys[mid]!, bound) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const source = {
    *rowsInRange(range: KeyRange): Generator<ObjectRow> {
      for (let i = lowerIndex(range.lower); i < keys.length && Buffer.compare(keys[i]!, range.upper) < 0; i++) {
        rowsRead++;
        yield { key: keys[i]! } as ObjectRow;
      }
    },
    anyInRange: (range: KeyRange) => {
      const i = lowerIndex(range.lower);
      return i < keys.length && Buffer.compare(keys[i]!, range.upper) < 0;
    },
  };
  const page = listPage(source, { prefix: '', delimiter: '/', after: undefined, maxKeys: 1000 });
  assert.equal(page.commonPrefixes.length, 50);
  assert.deepEqual(
    page.rows.map((r) => r.key.toString()),
    ['loose'],
  );
  assert.ok(rowsRead <= 51, `read ${rowsRead} rows for 25,001 keys`);
});

// Multipart

async function uploadParts(store: FsObjectStore, key: string, uploadId: string, parts: Buffer[]) {
  const infos = [];
  for (const [i, body] of parts.entries()) {
    infos.push(await store.uploadPart({ bucket: 'bucket', key, uploadId, partNumber: i + 1, body: Readable.from([body]) }));
  }
  return infos;
}

function md5OfMd5s(parts: Buffer[]): string {
  const concatenated = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
  return `"${md5Hex(concatenated)}-${parts.length}"`;
}

test('multipart: complete builds the object with an MD5-of-MD5s ETag and drops unlisted parts', async (t) => {
  const { store, root } = await openFixture(t);
  const upload = await store.createMultipartUpload({
    bucket: 'bucket',
    key: 'big/object',
    contentType: 'video/mp4',
    systemHeaders: { 'Content-Disposition': 'attachment' },
    userMetadata: { m: 'v' },
  });
  assert.match(upload.uploadId, /^[0-9a-f]+$/);
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 1), randomBytes(1234)];
  const infos = await uploadParts(store, 'big/object', upload.uploadId, parts);
  assert.deepEqual(
    infos.map((p) => p.etag),
    parts.map((p) => `"${md5Hex(p)}"`),
  );
  // Re-uploading part 2 replaces it; part 4 is uploaded but never listed.
  parts[1] = randomBytes(6 * MiB);
  const part2 = await store.uploadPart({ bucket: 'bucket', key: 'big/object', uploadId: upload.uploadId, partNumber: 2, body: Readable.from([parts[1]]) });
  await store.uploadPart({ bucket: 'bucket', key: 'big/object', uploadId: upload.uploadId, partNumber: 4, body: Readable.from([Buffer.from('unlisted')]) });
  assert.equal(blobFiles(root).length, 4);

  const listed = await store.listParts('bucket', 'big/object', upload.uploadId, { maxParts: 2 });
  assert.deepEqual(
    listed.parts.map((p) => p.partNumber),
    [1, 2],
  );
  assert.equal(listed.isTruncated, true);
  assert.equal(listed.upload.contentType, 'video/mp4');
  const rest = await store.listParts('bucket', 'big/object', upload.uploadId, { after: 2, maxParts: 10 });
  assert.deepEqual(
    rest.parts.map((p) => [p.partNumber, p.size]),
    [
      [3, 1234],
      [4, 8],
    ],
  );
  assert.equal(rest.isTruncated, false);

  const meta = await store.completeMultipartUpload({
    bucket: 'bucket',
    key: 'big/object',
    uploadId: upload.uploadId,
    parts: [
      { partNumber: 1, etag: infos[0]!.etag },
      { partNumber: 2, etag: part2.etag.replaceAll('"', '') },
      { partNumber: 3, etag: infos[2]!.etag },
    ],
  });
  assert.equal(meta.etag, md5OfMd5s(parts));
  assert.equal(meta.partsCount, 3);
  assert.equal(meta.size, parts.reduce((n, p) => n + p.length, 0));
  assert.equal(meta.contentType, 'video/mp4');
  assert.deepEqual(meta.userMetadata, { m: 'v' });
  assert.deepEqual(meta.systemHeaders, { 'Content-Disposition': 'attachment' });
  assert.deepEqual(await get(store, 'big/object'), Buffer.concat(parts));
  assert.deepEqual(await store.headObject('bucket', 'big/object'), meta);

  assert.equal(blobFiles(root).length, 1);
  await rejectsWith(
    store.listParts('bucket', 'big/object', upload.uploadId, { maxParts: 10 }),
    'NoSuchUpload',
    404,
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: upload.uploadId },
  );
  await rejectsWith(
    store.completeMultipartUpload({ bucket: 'bucket', key: 'big/object', uploadId: upload.uploadId, parts: [{ partNumber: 1, etag: infos[0]!.etag }] }),
    'NoSuchUpload',
    404,
  );
});

test('multipart: validation of the part list', async (t) => {
  const { store, root } = await openFixture(t);
  const upload = await store.createMultipartUpload({ bucket: 'bucket', key: 'k', contentType: 'a/b', systemHeaders: {}, userMetadata: {} });
  const small = [randomBytes(1000), randomBytes(5 * MiB), randomBytes(10)];
  const infos = await uploadParts(store, 'k', upload.uploadId, small);
  const complete = (parts: { partNumber: number; etag: string }[]) =>
    store.completeMultipartUpload({ bucket: 'bucket', key: 'k', uploadId: upload.uploadId, parts });
  const listed = infos.map((p) => ({ partNumber: p.partNumber, etag: p.etag }));

  await rejectsWith(complete([listed[1]!, listed[0]!]), 'InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.');
  await rejectsWith(complete([listed[0]!, listed[0]!]), 'InvalidPartOrder', 400);
  await rejectsWith(
    complete([{ partNumber: 1, etag: `"${md5Hex(Buffer.from('other'))}"` }]),
    'InvalidPart',
    400,
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
    { PartNumber: 1 },
  );
  await rejectsWith(complete([listed[0]!, { partNumber: 7, etag: listed[1]!.etag }]), 'InvalidPart', 400, undefined, { PartNumber: 7 });
  await rejectsWith(complete(listed), 'EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed size', {
    ProposedSize: 1000,
    MinSizeAllowed: 5 * MiB,
    PartNumber: 1,
  });
  await rejectsWith(complete([]), 'MalformedXML', 400);
  await rejectsWith(
    store.uploadPart({ bucket: 'bucket', key: 'k', uploadId: upload.uploadId, partNumber: 10_001, body: Readable.from([]) }),
    'InvalidArgument',
    400,
  );
  await rejectsWith(
    store.uploadPart({ bucket: 'bucket', key: 'other-key', uploadId: upload.uploadId, partNumber: 1, body: Readable.from([]) }),
    'NoSuchUpload',
    404,
  );
  await rejectsWith(
    store.uploadPart({ bucket: 'bucket', key: 'k', uploadId: 'bogus', partNumber: 1, body: Readable.from([]) }),
    'NoSuchUpload',
    404,
  );

  // The failed attempts changed nothing: the last part may be small, and a single part may be tiny.
  const meta = await complete([listed[1]!, listed[2]!]);
  assert.equal(meta.etag, md5OfMd5s([small[1]!, small[2]!]));
  assert.deepEqual(await get(store, 'k'), Buffer.concat([small[1]!, small[2]!]));
  assert.equal(blobFiles(root).length, 1);
  assert.deepEqual(tempFiles(root), []);

  const single = await store.createMultipartUpload({ bucket: 'bucket', key: 'tiny', contentType: 'a/b', systemHeaders: {}, userMetadata: {} });
  const [one] = await uploadParts(store, 'tiny', single.uploadId, [Buffer.from('hi')]);
  const tiny = await store.completeMultipartUpload({ bucket: 'bucket', key: 'tiny', uploadId: single.uploadId, parts: [{ partNumber: 1, etag: one!.etag }] });
  assert.equal(tiny.etag, md5OfMd5s([Buffer.from('hi')]));
});

test('multipart: composite checksums and part checksum verification', async (t) => {
  const { store } = await openFixture(t);
  const parts = [randomBytes(5 * MiB), randomBytes(777)];
  for (const algorithm of ['SHA256', 'CRC32'] as const) {
    const key = `composite-${algorithm}`;
    const upload = await store.createMultipartUpload({ bucket: 'bucket', key, contentType: 'a/b', systemHeaders: {}, userMetadata: {}, checksumAlgorithm: algorithm });
    assert.equal(upload.checksumAlgorithm, algorithm);
    const infos = await uploadParts(store, key, upload.uploadId, parts);
    const partSums = parts.map((p) => (algorithm === 'SHA256' ? b64('sha256', p) : crc32Base64(p)));
    assert.deepEqual(
      infos.map((p) => p.checksums[algorithm]),
      partSums,
    );
    const meta = await store.completeMultipartUpload({
      bucket: 'bucket',
      key,
      uploadId: upload.uploadId,
      parts: infos.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
    });
    const joined = Buffer.concat(partSums.map((s) => Buffer.from(s, 'base64')));
    const expected = algorithm === 'SHA256' ? b64('sha256', joined) : crc32Base64(joined);
    assert.deepEqual(meta.checksums, { [algorithm]: `${expected}-2` });
  }

  const upload = await store.createMultipartUpload({ bucket: 'bucket', key: 'p', contentType: 'a/b', systemHeaders: {}, userMetadata: {} });
  await rejectsWith(
    store.uploadPart({
      bucket: 'bucket',
      key: 'p',
      uploadId: upload.uploadId,
      partNumber: 1,
      body: Readable.from([Buffer.from('data')]),
      expectedChecksums: { SHA1: b64('sha1', Buffer.from('other')) },
    }),
    'BadDigest',
    400,
    'The SHA1 you specified did not match the calculated checksum.',
  );
  assert.deepEqual((await store.listParts('bucket', 'p', upload.uploadId, { maxParts: 10 })).parts, []);
});

test('multipart: abort and list uploads', async (t) => {
  const { store, root } = await openFixture(t);
  const created = [];
  for (const key of ['b', 'a', 'b', 'c/d', 'a']) {
    created.push(await store.createMultipartUpload({ bucket: 'bucket', key, contentType: 'a/b', systemHeaders: {}, userMetadata: {} }));
  }
  const all = await store.listMultipartUploads('bucket', { maxUploads: 100 });
  assert.deepEqual(
    all.uploads.map((u) => u.key),
    ['a', 'a', 'b', 'b', 'c/d'],
  );
  // Within a key, in initiation order.
  assert.deepEqual(
    all.uploads.filter((u) => u.key === 'a').map((u) => u.uploadId),
    [created[1]!.uploadId, created[4]!.uploadId],
  );
  const page1 = await store.listMultipartUploads('bucket', { maxUploads: 3 });
  assert.equal(page1.isTruncated, true);
  const last = page1.uploads.at(-1)!;
  const page2 = await store.listMultipartUploads('bucket', { maxUploads: 3, keyAfter: last.key, uploadIdAfter: last.uploadId });
  assert.deepEqual(
    [...page1.uploads, ...page2.uploads].map((u) => u.uploadId),
    all.uploads.map((u) => u.uploadId),
  );
  assert.equal(page2.isTruncated, false);
  const afterKey = await store.listMultipartUploads('bucket', { maxUploads: 10, keyAfter: 'a' });
  assert.deepEqual(
    afterKey.uploads.map((u) => u.key),
    ['b', 'b', 'c/d'],
  );
  const prefixed = await store.listMultipartUploads('bucket', { maxUploads: 10, prefix: 'c/' });
  assert.deepEqual(
    prefixed.uploads.map((u) => u.key),
    ['c/d'],
  );

  const target = created[0]!;
  await uploadParts(store, 'b', target.uploadId, [Buffer.from('one'), Buffer.from('two')]);
  assert.equal(blobFiles(root).length, 2);
  await rejectsWith(store.abortMultipartUpload('bucket', 'a', target.uploadId), 'NoSuchUpload', 404);
  await store.abortMultipartUpload('bucket', 'b', target.uploadId);
  assert.equal(blobFiles(root).length, 0);
  await rejectsWith(store.abortMultipartUpload('bucket', 'b', target.uploadId), 'NoSuchUpload', 404);
  assert.equal((await store.listMultipartUploads('bucket', { maxUploads: 100 })).uploads.length, 4);
});

// Recovery

test('recover() removes temp files and orphan blobs and keeps live data', async (t) => {
  const { store, root } = await openFixture(t);
  const data = randomBytes(10_000);
  await put(store, 'keep', data);
  const upload = await store.createMultipartUpload({ bucket: 'bucket', key: 'mp', contentType: 'a/b', systemHeaders: {}, userMetadata: {} });
  await uploadParts(store, 'mp', upload.uploadId, [Buffer.from('part')]);

  writeFileSync(path.join(root, 'tmp', randomUUID()), 'half-written');
  const orphanId = randomUUID();
  const orphanDir = path.join(root, 'blobs', '99', orphanId.slice(0, 2));
  mkdirSync(orphanDir, { recursive: true });
  writeFileSync(path.join(orphanDir, orphanId), 'renamed but never committed');

  assert.deepEqual(await store.recover(), { removedTempFiles: 1, removedOrphans: 1 });
  assert.deepEqual(tempFiles(root), []);
  assert.equal(blobFiles(root).length, 2);
  assert.throws(() => statSync(path.join(root, 'blobs', '99')), /ENOENT/);
  assert.deepEqual(await get(store, 'keep'), data);
  assert.deepEqual(await store.recover(), { removedTempFiles: 0, removedOrphans: 0 });
});

test('multipart: an abort racing a completion keeps the parts readable until the completion fails', async (t) => {
  const { store, root } = await openFixture(t);
  const upload = await store.createMultipartUpload({ bucket: 'bucket', key: 'race', contentType: 'a/b', systemHeaders: {}, userMetadata: {} });
  const infos = await uploadParts(store, 'race', upload.uploadId, [randomBytes(5 * MiB), randomBytes(5 * MiB)]);
  const completing = store.completeMultipartUpload({
    bucket: 'bucket',
    key: 'race',
    uploadId: upload.uploadId,
    parts: infos.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
  });
  await store.abortMultipartUpload('bucket', 'race', upload.uploadId);
  assert.equal(blobFiles(root).length, 2, 'pinned part blobs outlive the abort');
  await rejectsWith(completing, 'NoSuchUpload', 404);
  await rejectsWith(store.headObject('bucket', 'race'), 'NoSuchKey', 404);
  assert.deepEqual(blobFiles(root), []);
  assert.deepEqual(tempFiles(root), []);
});
