import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { getAwsChunkedEncodingStream } from '@smithy/core/serde';
import { AwsError } from './errors.ts';
import { AwsChunkedDecoder, createAwsChunkedDecoder, decodeAwsChunked, type ChunkSigning } from './aws-chunked.ts';
import { EMPTY_SHA256, verifySignature, type SignedRequestParts, type VerifiedSignature } from './sigv4.ts';

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const hmacHex = (key: Buffer, s: string) => createHmac('sha256', key).update(s).digest('hex');

/** Encodes by the documented algorithm: each chunk signed over the previous signature and the chunk's SHA-256. */
function encodeSigned(chunks: Buffer[], s: ChunkSigning, trailers?: Record<string, string>): Buffer {
  const out: Buffer[] = [];
  let previous = s.seedSignature;
  for (const data of [...chunks, Buffer.alloc(0)]) {
    const sig = hmacHex(s.signingKey, ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, previous, EMPTY_SHA256, sha256(data)].join('\n'));
    out.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`));
    if (data.length) out.push(data, Buffer.from('\r\n'));
    previous = sig;
  }
  if (!trailers) {
    out.push(Buffer.from('\r\n'));
    return Buffer.concat(out);
  }
  const canonical = Object.keys(trailers).sort().map((n) => `${n}:${trailers[n]}\n`).join('');
  const trailerSig = hmacHex(s.signingKey, ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, previous, sha256(canonical)].join('\n'));
  for (const [n, v] of Object.entries(trailers)) out.push(Buffer.from(`${n}:${v}\r\n`));
  out.push(Buffer.from(`x-amz-trailer-signature:${trailerSig}\r\n\r\n`));
  return Buffer.concat(out);
}

/** The STREAMING-UNSIGNED-PAYLOAD-TRAILER framing the JS SDK v3 produces. */
function encodeUnsigned(chunks: Buffer[], trailers: Record<string, string> = {}): Buffer {
  const out: Buffer[] = [];
  for (const data of chunks) out.push(Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n'));
  out.push(Buffer.from('0\r\n'));
  for (const [n, v] of Object.entries(trailers)) out.push(Buffer.from(`${n}:${v}\r\n`));
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/** Feeds `input` in pieces of `step` bytes (1 = byte by byte) and collects the decoded output. */
async function decode(decoder: AwsChunkedDecoder, input: Buffer, step = input.length || 1): Promise<Buffer> {
  const out: Buffer[] = [];
  decoder.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  for (let i = 0; i < input.length; i += step) {
    if (decoder.destroyed) break;
    decoder.write(input.subarray(i, i + step));
  }
  if (!decoder.destroyed) decoder.end();
  await done;
  return Buffer.concat(out);
}

async function rejectsWith(p: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AwsError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    return true;
  });
}

// The example of the S3 documentation ("Transferring Payload in Multiple Chunks"): 64 KiB + 1 KiB of 'a'.
const DOC_SIGNING: ChunkSigning = {
  signingKey: [ '20130524', 'us-east-1', 's3', 'aws4_request' ].reduce(
    (k: Buffer, part) => createHmac('sha256', k).update(part).digest(),
    Buffer.from('AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
  ),
  scope: '20130524/us-east-1/s3/aws4_request',
  amzDate: '20130524T000000Z',
  seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
};
const DOC_BODY = Buffer.concat([
  Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
  Buffer.alloc(65536, 'a'),
  Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
  Buffer.alloc(1024, 'a'),
  Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
]);

test('the AWS documentation example decodes and verifies, whole and in small pieces', async () => {
  for (const step of [DOC_BODY.length, 4096, 7, 1]) {
    const decoder = new AwsChunkedDecoder({ signing: DOC_SIGNING, decodedContentLength: 66560 });
    const out = await decode(decoder, DOC_BODY, step);
    assert.equal(out.length, 66560);
    assert.ok(out.every((b) => b === 0x61));
    assert.equal(decoder.decodedLength, 66560);
  }
  assert.equal(encodeSigned([Buffer.alloc(65536, 'a'), Buffer.alloc(1024, 'a')], DOC_SIGNING).toString('latin1'), DOC_BODY.toString('latin1'));
});

test('signed chunks: tampering with data, signatures or order is refused', async () => {
  const chunks = [Buffer.from('first chunk'), Buffer.from('second'), Buffer.from('3')];
  const body = encodeSigned(chunks, DOC_SIGNING);
  assert.equal((await decode(new AwsChunkedDecoder({ signing: DOC_SIGNING }), body, 1)).toString(), 'first chunksecond3');

  const tamperedData = Buffer.from(body.toString('latin1').replace('second', 'SECOND'), 'latin1');
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: DOC_SIGNING }), tamperedData), 'SignatureDoesNotMatch', 403);
  // Frames are [size line, data] pairs; swap the first two chunks, each with its own signature.
  const lines = body.toString('latin1').split('\r\n');
  const swapped = Buffer.from([...lines.slice(2, 4), ...lines.slice(0, 2), ...lines.slice(4)].join('\r\n'), 'latin1');
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: DOC_SIGNING }), swapped), 'SignatureDoesNotMatch', 403);
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: { ...DOC_SIGNING, seedSignature: '0'.repeat(64) } }), body), 'SignatureDoesNotMatch', 403);
  const noSignature = Buffer.from(body.toString('latin1').replace(/;chunk-signature=[0-9a-f]+/, ''), 'latin1');
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: DOC_SIGNING }), noSignature), 'SignatureDoesNotMatch', 403);
  // Dropping the middle chunk breaks the chain.
  const dropped = Buffer.from([...lines.slice(0, 2), ...lines.slice(4)].join('\r\n'), 'latin1');
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: DOC_SIGNING }), dropped), 'SignatureDoesNotMatch', 403);
  // The final zero-length chunk is signed too.
  const badFinal = Buffer.from(body.toString('latin1').replace(/0;chunk-signature=[0-9a-f]{64}/, `0;chunk-signature=${'1'.repeat(64)}`), 'latin1');
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: DOC_SIGNING }), badFinal), 'SignatureDoesNotMatch', 403);
});

test('signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', async () => {
  const data = Buffer.from('trailer body');
  const checksum = crc32(data).toString(16);
  const trailers = { 'x-amz-checksum-crc32': Buffer.from(checksum, 'hex').toString('base64') };
  const body = encodeSigned([data], DOC_SIGNING, trailers);
  for (const step of [body.length, 1]) {
    const decoder = new AwsChunkedDecoder({ signing: DOC_SIGNING, trailer: true, decodedContentLength: data.length });
    assert.equal((await decode(decoder, body, step)).toString(), 'trailer body');
    assert.deepEqual(decoder.trailers, trailers);
  }
  const tampered = Buffer.from(body.toString('latin1').replace(trailers['x-amz-checksum-crc32'], 'AAAAAA=='), 'latin1');
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: DOC_SIGNING, trailer: true }), tampered), 'SignatureDoesNotMatch', 403);
  const unsignedTrailer = Buffer.from(body.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: DOC_SIGNING, trailer: true }), unsignedTrailer), 'SignatureDoesNotMatch', 403);
  // Also accepted: a blank line between the final chunk and the trailers.
  const withBlank = Buffer.from(body.toString('latin1').replace(/(0;chunk-signature=[0-9a-f]{64}\r\n)/, '$1\r\n'), 'latin1');
  const decoder = new AwsChunkedDecoder({ signing: DOC_SIGNING, trailer: true });
  await decode(decoder, withBlank, 1);
  assert.deepEqual(decoder.trailers, trailers);
});

test('unsigned trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER), as built by the SDK encoder', async () => {
  const data = Buffer.from('x'.repeat(70000));
  const sha = createHash('sha256').update(data).digest('base64');
  const hand = encodeUnsigned([data.subarray(0, 65536), data.subarray(65536)], { 'x-amz-checksum-sha256': sha });
  for (const step of [hand.length, 1]) {
    const decoder = new AwsChunkedDecoder({ trailer: true, decodedContentLength: data.length });
    assert.ok((await decode(decoder, hand, step)).equals(data));
    assert.deepEqual(decoder.trailers, { 'x-amz-checksum-sha256': sha });
  }

  // The SDK's own aws-chunked encoder (@smithy/core), with a SHA-256 trailing checksum.
  class NodeSha256 {
    private h = createHash('sha256');
    update(d: Uint8Array) { this.h.update(d); }
    async digest() { return new Uint8Array(this.h.digest()); }
    reset() {}
  }
  const source = Readable.from([data.subarray(0, 1000), data.subarray(1000, 50000), data.subarray(50000)]);
  const encoded = getAwsChunkedEncodingStream(source, {
    base64Encoder: (b: Uint8Array) => Buffer.from(b).toString('base64'),
    bodyLengthChecker: (b: Uint8Array) => b.byteLength,
    checksumAlgorithmFn: NodeSha256,
    checksumLocationName: 'x-amz-checksum-sha256',
    streamHasher: (Ctor: new () => NodeSha256, stream: Readable) =>
      new Promise((resolve) => {
        const h = new Ctor();
        stream.on('data', (c: Buffer) => h.update(c));
        stream.on('end', () => resolve(h.digest()));
      }),
  } as unknown as Parameters<typeof getAwsChunkedEncodingStream>[1]) as Readable;
  const sdkBody: Buffer[] = [];
  for await (const c of encoded) sdkBody.push(Buffer.from(c as Buffer | string));
  const decoder = new AwsChunkedDecoder({ trailer: true, decodedContentLength: data.length });
  assert.ok((await decode(decoder, Buffer.concat(sdkBody), 3)).equals(data));
  assert.deepEqual(decoder.trailers, { 'x-amz-checksum-sha256': sha });
});

test('length, truncation and framing errors', async () => {
  const body = encodeUnsigned([Buffer.from('hello')]);
  await rejectsWith(decode(new AwsChunkedDecoder({ trailer: true, decodedContentLength: 6 }), body), 'IncompleteBody', 400);
  await rejectsWith(decode(new AwsChunkedDecoder({ trailer: true, decodedContentLength: 4 }), body), 'InvalidRequest', 400);
  assert.equal((await decode(new AwsChunkedDecoder({ trailer: true, decodedContentLength: 5 }), body)).toString(), 'hello');
  for (let cut = 1; cut < body.length; cut++) {
    await rejectsWith(decode(new AwsChunkedDecoder({ trailer: true }), body.subarray(0, cut)), 'IncompleteBody', 400);
  }
  await rejectsWith(decode(new AwsChunkedDecoder({ signing: DOC_SIGNING }), DOC_BODY.subarray(0, DOC_BODY.length - 2)), 'IncompleteBody', 400);
  await rejectsWith(decode(new AwsChunkedDecoder(), Buffer.from('zz\r\nhello\r\n0\r\n\r\n')), 'InvalidRequest', 400);
  await rejectsWith(decode(new AwsChunkedDecoder(), Buffer.from('5\r\nhelloXX0\r\n\r\n')), 'InvalidRequest', 400);
  await rejectsWith(decode(new AwsChunkedDecoder(), Buffer.from('5\nhello\r\n0\r\n\r\n')), 'InvalidRequest', 400);
  await rejectsWith(decode(new AwsChunkedDecoder(), Buffer.from('0\r\n\r\nextra')), 'InvalidRequest', 400);
  await rejectsWith(decode(new AwsChunkedDecoder({ trailer: true }), Buffer.from('0\r\n__proto__:x\r\n\r\n')), 'InvalidRequest', 400);
  await rejectsWith(decode(new AwsChunkedDecoder({ trailer: true }), Buffer.from('0\r\nno-colon\r\n\r\n')), 'InvalidRequest', 400);
  await rejectsWith(decode(new AwsChunkedDecoder(), Buffer.from(`${'0'.repeat(5000)}\r\n`)), 'InvalidRequest', 400);
});

test('createAwsChunkedDecoder / decodeAwsChunked follow the verified payload', async () => {
  assert.equal(createAwsChunkedDecoder({ kind: 'unsigned' }, {}), undefined);
  assert.equal(createAwsChunkedDecoder({ kind: 'sha256', hex: EMPTY_SHA256 }, {}), undefined);
  assert.throws(() => createAwsChunkedDecoder({ kind: 'streaming-unsigned-trailer' }, { 'x-amz-decoded-content-length': 'ten' }),
    (e: unknown) => e instanceof AwsError && e.code === 'InvalidArgument');

  const verified: Pick<VerifiedSignature, 'payload'> = { payload: { kind: 'streaming-signed', trailer: false, ...DOC_SIGNING } };
  const pieces = [];
  for (let i = 0; i < DOC_BODY.length; i += 1000) pieces.push(DOC_BODY.subarray(i, i + 1000));
  const decoded = decodeAwsChunked(Readable.from(pieces), verified, { 'x-amz-decoded-content-length': '66560' });
  let n = 0;
  for await (const c of decoded) n += (c as Buffer).length;
  assert.equal(n, 66560);

  // On a bad signature the decoder fails but the request body is drained, not destroyed.
  const source = new PassThrough();
  const bad = decodeAwsChunked(source, { payload: { kind: 'streaming-signed', trailer: false, ...DOC_SIGNING, seedSignature: '0'.repeat(64) } }, {});
  const failed = new Promise<unknown>((resolve) => bad.on('error', resolve));
  source.write(DOC_BODY.subarray(0, 70000));
  const err = await failed;
  assert.ok(err instanceof AwsError && err.code === 'SignatureDoesNotMatch');
  const drained = new Promise<void>((resolve) => source.on('end', resolve));
  source.end(DOC_BODY.subarray(70000));
  await drained;
});

test('real client: the JS SDK streams a PutObject body as aws-chunked with a trailing checksum', async () => {
  const KEY_ID = 'AKIDCHUNKED';
  const SECRET = 'chunked/secret';
  const data = Buffer.alloc(200_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
  const seen: { verified?: VerifiedSignature; decoded?: Buffer; trailers?: Record<string, string>; error?: unknown; headers?: SignedRequestParts['headers'] } = {};
  const server = createServer(async (req, res) => {
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const parts = { method: req.method ?? 'PUT', rawPath: q < 0 ? url : url.slice(0, q), rawQuery: q < 0 ? '' : url.slice(q + 1), headers: req.headersDistinct };
      seen.headers = req.headersDistinct;
      seen.verified = verifySignature(parts, (id) => (id === KEY_ID ? SECRET : undefined), new Date());
      const decoder = decodeAwsChunked(req, seen.verified, req.headersDistinct);
      const out: Buffer[] = [];
      for await (const c of decoder) out.push(c as Buffer);
      seen.decoded = Buffer.concat(out);
      seen.trailers = decoder.trailers;
      res.writeHead(200, { etag: '"x"' });
      res.end();
    } catch (e) {
      seen.error = e;
      req.resume();
      res.writeHead(403);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const s3 = new S3Client({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    });
    const body = Readable.from([data.subarray(0, 70_000), data.subarray(70_000, 140_000), data.subarray(140_000)]);
    await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'a b/ü.bin', Body: body, ContentLength: data.length, ChecksumAlgorithm: 'CRC32' }));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  assert.equal(seen.error, undefined, String(seen.error));
  assert.equal(seen.verified!.payload.kind, 'streaming-unsigned-trailer');
  assert.ok(seen.decoded!.equals(data));
  const expected = Buffer.alloc(4);
  expected.writeUInt32BE(crc32(data));
  assert.deepEqual(seen.trailers, { 'x-amz-checksum-crc32': expected.toString('base64') });
});
