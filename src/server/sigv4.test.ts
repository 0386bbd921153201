import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, SourceData } from '@smithy/types';
import { S3Client, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SageMakerClient, ListModelsCommand } from '@aws-sdk/client-sagemaker';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AwsError } from './errors.ts';
import {
  EMPTY_SHA256,
  assertPayloadHash,
  parseAuthService,
  payloadMismatchError,
  uriDecode,
  uriEncode,
  verifySignature,
  type SignedRequestParts,
  type VerifiedSignature,
} from './sigv4.ts';

const KEY_ID = 'AKIDKILNTEST';
const SECRET = 'kiln/secret+key=with chars';
const lookup = (id: string) => (id === KEY_ID ? SECRET : undefined);
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** The hash constructor @smithy/signature-v4 wants, on node:crypto. */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {}
}
const toBytes = (d: SourceData): Buffer =>
  typeof d === 'string' ? Buffer.from(d, 'utf8') : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

function signer(service: string, opts: { uriEscapePath?: boolean; applyChecksum?: boolean; sessionToken?: string } = {}) {
  return new SignatureV4({
    service,
    region: 'us-west-2',
    sha256: Sha256,
    credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET, ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}) },
    uriEscapePath: opts.uriEscapePath ?? service !== 's3',
    applyChecksum: opts.applyChecksum ?? true,
  });
}

function request(method: string, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, body?: string): HttpRequest {
  return { method, protocol: 'http:', hostname: 'localhost', port: 4566, path, query, headers: { host: 'localhost:4566', ...headers }, body };
}

/** The request as a server sees it: wire query (encodeURIComponent leaves !'()* bare, unlike the signer), lower-case headers. */
function wire(r: HttpRequest): SignedRequestParts {
  const rawQuery = Object.entries(r.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
  return { method: r.method, rawPath: r.path, rawQuery, headers };
}

function rejects(fn: () => unknown, code: string, status: number, message?: string | RegExp): AwsError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AwsError, `expected AwsError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const S3_BAD_SIG = 'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const SVC_BAD_SIG =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const KEY_PATH = `/bucket/${'a b/ü+%.txt'.split('/').map(encodeURIComponent).join('/')}`;

// ---------------------------------------------------------------------------------------

test('AWS documentation vectors (S3 GET with Range, presigned GET, streaming seed)', () => {
  const secret = () => 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const docNow = new Date('2013-05-24T00:05:00Z');
  const get = verifySignature({
    method: 'GET', rawPath: '/test.txt', rawQuery: '',
    headers: {
      host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': '20130524T000000Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    },
  }, secret, docNow);
  assert.deepEqual(get.payload, { kind: 'sha256', hex: EMPTY_SHA256 });

  const presigned = verifySignature({
    method: 'GET', rawPath: '/test.txt',
    rawQuery: 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    headers: { host: 'examplebucket.s3.amazonaws.com' },
  }, secret, docNow);
  assert.equal(presigned.presigned, true);
  assert.deepEqual(presigned.payload, { kind: 'unsigned' });

  const streaming = verifySignature({
    method: 'PUT', rawPath: '/examplebucket/chunkObject.txt', rawQuery: '',
    headers: {
      host: 's3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560', 'content-length': '66824',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    },
  }, secret, docNow);
  assert.equal(streaming.payload.kind, 'streaming-signed');
  if (streaming.payload.kind === 'streaming-signed') {
    assert.equal(streaming.payload.seedSignature, '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
    assert.equal(streaming.payload.trailer, false);
    assert.equal(streaming.payload.scope, '20130524/us-east-1/s3/aws4_request');
    assert.equal(streaming.payload.amzDate, '20130524T000000Z');
  }
});

test('S3 PUT with a body hash, a key with spaces, unicode, + and %', async () => {
  const body = 'hello kiln';
  const signed = await signer('s3').sign(
    request('PUT', KEY_PATH, {}, { 'content-type': 'text/plain', 'x-amz-meta-note': '  two   spaces  ' }, body),
    { signingDate: T0 },
  );
  const parts = wire(signed);
  const v = verifySignature(parts, lookup, at(60));
  assert.equal(v.accessKeyId, KEY_ID);
  assert.equal(v.region, 'us-west-2');
  assert.equal(v.service, 's3');
  assert.equal(v.date, '20260101');
  assert.equal(v.requestTime.toISOString(), T0.toISOString());
  assert.equal(v.presigned, false);
  assert.ok(v.signedHeaders.includes('host') && v.signedHeaders.includes('x-amz-meta-note'));
  assert.deepEqual(v.payload, { kind: 'sha256', hex: sha256(body) });
  assert.doesNotThrow(() => assertPayloadHash(v, sha256(body)));
  const mismatch = rejects(() => assertPayloadHash(v, sha256('other')), 'XAmzContentSHA256Mismatch', 400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.");
  assert.deepEqual(mismatch.fields, { ClientComputedContentSHA256: sha256(body), S3ComputedContentSHA256: sha256('other') });
  rejects(() => verifySignature(parts, lookup, at(60), { bodySha256Hex: sha256('other') }), 'XAmzContentSHA256Mismatch', 400);
  assert.equal(verifySignature(parts, lookup, at(60), { bodySha256Hex: sha256(body) }).payload.kind, 'sha256');

  // Header values: repeated values come as arrays (req.headersDistinct) and are joined with ','.
  const multi = await signer('s3').sign(request('GET', '/bucket/k', {}, { 'x-amz-meta-list': 'a,b' }), { signingDate: T0 });
  const multiParts = wire(multi);
  multiParts.headers['x-amz-meta-list'] = ['a', ' b '];
  assert.equal(verifySignature(multiParts, lookup, at(0)).service, 's3');

  // Tampering with the path, a signed header, the method or the signature is refused.
  const bad = rejects(() => verifySignature({ ...parts, rawPath: '/bucket/a%20b/other.txt' }, lookup, at(60)), 'SignatureDoesNotMatch', 403, S3_BAD_SIG);
  assert.equal(bad.fields.AWSAccessKeyId, KEY_ID);
  assert.match(String(bad.fields.StringToSign), /^AWS4-HMAC-SHA256\n20260101T000000Z\n20260101\/us-west-2\/s3\/aws4_request\n[0-9a-f]{64}$/);
  assert.match(String(bad.fields.CanonicalRequest), /^PUT\n\/bucket\/a%20b\/other.txt\n/);
  rejects(() => verifySignature({ ...parts, headers: { ...parts.headers, 'content-type': 'text/html' } }, lookup, at(60)), 'SignatureDoesNotMatch', 403);
  rejects(() => verifySignature({ ...parts, method: 'POST' }, lookup, at(60)), 'SignatureDoesNotMatch', 403);
  const wrongSig = String(parts.headers.authorization).replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
  rejects(() => verifySignature({ ...parts, headers: { ...parts.headers, authorization: wrongSig } }, lookup, at(60)), 'SignatureDoesNotMatch', 403);
  rejects(() => verifySignature(parts, (id) => (id === KEY_ID ? 'another secret' : undefined), at(60)), 'SignatureDoesNotMatch', 403);
  // S3 refuses x-amz-* headers that were not signed.
  const unsigned = rejects(() => verifySignature({ ...parts, headers: { ...parts.headers, 'x-amz-acl': 'public-read' } }, lookup, at(60)),
    'AccessDenied', 403, 'There were headers present in the request which were not signed');
  assert.equal(unsigned.fields.HeadersNotSigned, 'x-amz-acl');
});

test('S3 query parameters with special characters, and a bucket-level GET', async () => {
  const query = { 'list-type': '2', prefix: "a b/ü+%&=!'()*~", delimiter: '/', 'start-after': 'x y', acl: '' };
  const signed = await signer('s3').sign(request('GET', '/bucket', query), { signingDate: T0 });
  const parts = wire(signed);
  assert.match(parts.rawQuery, /prefix=a%20b%2F%C3%BC%2B%25%26%3D!'\(\)\*~/);
  const v = verifySignature(parts, lookup, at(0));
  assert.deepEqual(v.payload, { kind: 'sha256', hex: EMPTY_SHA256 });
  // The same request with every byte percent-encoded, in another order, still verifies.
  const reordered = parts.rawQuery.split('&').reverse().join('&').replace(/~/g, '%7E').replace(/!/g, '%21');
  assert.equal(verifySignature({ ...parts, rawQuery: reordered }, lookup, at(0)).service, 's3');
  rejects(() => verifySignature({ ...parts, rawQuery: parts.rawQuery.replace('list-type=2', 'list-type=1') }, lookup, at(0)), 'SignatureDoesNotMatch', 403);
  rejects(() => verifySignature({ ...parts, rawQuery: `${parts.rawQuery}&extra=1` }, lookup, at(0)), 'SignatureDoesNotMatch', 403);
});

test('SageMaker JSON POST with x-amz-target, with and without x-amz-content-sha256', async () => {
  const body = JSON.stringify({ ModelName: 'm', ExecutionRoleArn: 'arn:aws:iam::000000000000:role/r' });
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.CreateModel' };
  // The JS SDK v3 sends x-amz-content-sha256.
  const js = wire(await signer('sagemaker').sign(request('POST', '/', {}, headers, body), { signingDate: T0 }));
  assert.equal(js.headers['x-amz-content-sha256'], sha256(body));
  const v = verifySignature(js, lookup, at(0));
  assert.equal(v.service, 'sagemaker');
  assert.deepEqual(v.payload, { kind: 'sha256', hex: sha256(body) });
  rejects(() => verifySignature(js, lookup, at(0), { bodySha256Hex: sha256('{}') }), 'InvalidSignatureException', 403, SVC_BAD_SIG);
  rejects(() => verifySignature({ ...js, headers: { ...js.headers, 'x-amz-target': 'SageMaker.DeleteModel' } }, lookup, at(0)),
    'InvalidSignatureException', 403, SVC_BAD_SIG);
  assert.equal(payloadMismatchError(v, 'a', 'b').code, 'InvalidSignatureException');

  // boto3 sends no x-amz-content-sha256 outside S3: the caller passes the body hash.
  const boto = wire(await signer('sagemaker', { applyChecksum: false }).sign(request('POST', '/', {}, headers, body), { signingDate: T0 }));
  assert.equal(boto.headers['x-amz-content-sha256'], undefined);
  assert.deepEqual(verifySignature(boto, lookup, at(0), { bodySha256Hex: sha256(body) }).payload, { kind: 'sha256', hex: sha256(body) });
  rejects(() => verifySignature(boto, lookup, at(0), { bodySha256Hex: sha256(`${body} `) }), 'InvalidSignatureException', 403, SVC_BAD_SIG);
  rejects(() => verifySignature(boto, lookup, at(0)), 'InternalFailure', 500);
});

test('non-S3 services: the signer double-encodes and normalizes the path', async () => {
  const path = '/endpoints/my%20endpoint%3Av1/invocations';
  const signed = wire(await signer('sagemaker').sign(request('POST', path, {}, { 'content-type': 'text/csv' }, '1,2,3'), { signingDate: T0 }));
  assert.equal(verifySignature(signed, lookup, at(0)).service, 'sagemaker');
  const dotted = wire(await signer('sagemaker').sign(request('POST', '/endpoints/./x/../e%2Fp/invocations', {}, {}, ''), { signingDate: T0 }));
  assert.equal(verifySignature(dotted, lookup, at(0)).service, 'sagemaker');
  // A signer that did not double-encode (S3 style) is accepted too.
  const single = wire(await signer('sagemaker', { uriEscapePath: false }).sign(request('POST', path, {}, {}, '1,2,3'), { signingDate: T0 }));
  assert.equal(verifySignature(single, lookup, at(0)).service, 'sagemaker');
  // ...but S3 never accepts the double-encoded form.
  const s3double = wire(await signer('s3', { uriEscapePath: true }).sign(request('GET', '/bucket/a%20b', {}, {}), { signingDate: T0 }));
  rejects(() => verifySignature(s3double, lookup, at(0)), 'SignatureDoesNotMatch', 403);
});

test('presigned S3 GET: validity window, expiry, limits, session token', async () => {
  const presign = (expiresIn: number, extraQuery: Record<string, string> = {}, token?: string) =>
    signer('s3', { applyChecksum: false, ...(token ? { sessionToken: token } : {}) }).presign(
      request('GET', KEY_PATH, extraQuery, { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }),
      { signingDate: T0, expiresIn },
    );
  const parts = wire(await presign(3600, { 'response-content-disposition': 'attachment; filename="ü.txt"' }));
  assert.match(parts.rawQuery, /X-Amz-Content-Sha256=UNSIGNED-PAYLOAD/);
  const v = verifySignature(parts, lookup, at(600));
  assert.equal(v.presigned, true);
  assert.deepEqual(v.payload, { kind: 'unsigned' });
  assert.deepEqual(parseAuthService(parts), { service: 's3', region: 'us-west-2', accessKeyId: KEY_ID });
  assert.equal(verifySignature(parts, lookup, at(3600)).presigned, true);
  // A hoisted header keeps the case it had; the verifier does not care.
  const lower = wire(await signer('s3').presign(request('GET', KEY_PATH, {}, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), { signingDate: T0, expiresIn: 60 }));
  assert.deepEqual(verifySignature(lower, lookup, at(0)).payload, { kind: 'unsigned' });

  const expired = rejects(() => verifySignature(parts, lookup, at(3601)), 'AccessDenied', 403, 'Request has expired');
  assert.deepEqual(expired.fields, { 'X-Amz-Expires': '3600', Expires: '2026-01-01T01:00:00Z', ServerTime: '2026-01-01T01:00:01Z' });
  rejects(() => verifySignature(parts, lookup, at(-901)), 'AccessDenied', 403, 'Request is not valid yet');
  rejects(() => verifySignature({ ...parts, rawQuery: parts.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=604801') }, lookup, at(0)),
    'AuthorizationQueryParametersError', 400, 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  rejects(() => verifySignature({ ...parts, rawQuery: parts.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=7200') }, lookup, at(0)),
    'SignatureDoesNotMatch', 403);
  rejects(() => verifySignature({ ...parts, rawQuery: parts.rawQuery.replace(/&X-Amz-Signature=[0-9a-f]+/, '') }, lookup, at(0)),
    'AuthorizationQueryParametersError', 400, /requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature/);
  rejects(() => verifySignature({ ...parts, headers: { ...parts.headers, authorization: 'AWS4-HMAC-SHA256 Credential=x' } }, lookup, at(0)),
    'InvalidArgument', 400, /^Only one auth mechanism allowed/);
  rejects(() => verifySignature({ ...parts, rawQuery: parts.rawQuery.replace(`Credential=${KEY_ID}`, 'Credential=AKIDUNKNOWN') }, lookup, at(0)),
    'InvalidAccessKeyId', 403);

  const withToken = wire(await presign(60, {}, 'session-token/+='));
  assert.equal(verifySignature(withToken, lookup, at(0)).sessionToken, 'session-token/+=');
  assert.equal(verifySignature(withToken, lookup, at(0)).presigned, true);
});

test('S3 presigned URLs in the legacy signature version 2 query form (boto3 / aws s3 presign default)', () => {
  // The example of the S3 documentation (path-style form of the same resource).
  const doc = verifySignature({
    method: 'GET', rawPath: '/johnsmith/photos/puppy.jpg',
    rawQuery: 'AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620',
    headers: { host: 's3.amazonaws.com' },
  }, () => 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', new Date('2007-03-29T00:00:00Z'));
  assert.equal(doc.signatureVersion, 2);
  assert.equal(doc.service, 's3');
  assert.equal(doc.presigned, true);
  assert.deepEqual(doc.payload, { kind: 'unsigned' });

  // Signed by hand: sub-resources and response overrides (decoded, sorted) and x-amz-* query params take part.
  const expires = String(T0.getTime() / 1000 + 300);
  const stringToSign = `GET\n\ntext/plain\n${expires}\nx-amz-security-token:tok/+=\n${KEY_PATH}?response-content-disposition=attachment; filename="ü"&versionId=v 1`;
  const sig = createHmac('sha1', SECRET).update(stringToSign).digest('base64');
  const rawQuery = [
    'versionId=v%201', `response-content-disposition=${encodeURIComponent('attachment; filename="ü"')}`, `AWSAccessKeyId=${KEY_ID}`,
    `Signature=${encodeURIComponent(sig)}`, 'content-type=text%2Fplain', 'x-amz-security-token=tok%2F%2B%3D', `Expires=${expires}`,
  ].join('&');
  const parts: SignedRequestParts = { method: 'GET', rawPath: KEY_PATH, rawQuery, headers: { host: 'localhost:4566' } };
  const v = verifySignature(parts, lookup, at(60));
  assert.equal(v.signatureVersion, 2);
  assert.equal(v.accessKeyId, KEY_ID);
  assert.equal(v.sessionToken, 'tok/+=');
  const expired = rejects(() => verifySignature(parts, lookup, at(301)), 'AccessDenied', 403, 'Request has expired');
  assert.deepEqual(expired.fields, { Expires: '2026-01-01T00:05:00Z', ServerTime: '2026-01-01T00:05:01Z' });
  rejects(() => verifySignature({ ...parts, rawQuery: rawQuery.replace('v%201', 'v%202') }, lookup, at(0)), 'SignatureDoesNotMatch', 403, S3_BAD_SIG);
  rejects(() => verifySignature({ ...parts, method: 'DELETE' }, lookup, at(0)), 'SignatureDoesNotMatch', 403);
  rejects(() => verifySignature({ ...parts, headers: { ...parts.headers, 'x-amz-meta-a': 'b' } }, lookup, at(0)), 'SignatureDoesNotMatch', 403);
  rejects(() => verifySignature(parts, () => undefined, at(0)), 'InvalidAccessKeyId', 403);
});

test('presigned URL for a non-S3 service signs the (empty) body hash', async () => {
  const presigned = wire(await signer('sts', { applyChecksum: false }).presign(
    request('GET', '/', { Action: 'GetCallerIdentity', Version: '2011-06-15' }), { signingDate: T0, expiresIn: 900 }));
  const v = verifySignature(presigned, lookup, at(0));
  assert.deepEqual(v.payload, { kind: 'sha256', hex: EMPTY_SHA256 });
  rejects(() => verifySignature(presigned, lookup, at(901)), 'SignatureDoesNotMatch', 403, /^Signature expired: 20260101T001500Z is now earlier than 20260101T001501Z$/);
});

test('clock skew', async () => {
  const s3 = wire(await signer('s3').sign(request('GET', '/bucket/key'), { signingDate: T0 }));
  assert.equal(verifySignature(s3, lookup, at(900)).service, 's3');
  assert.equal(verifySignature(s3, lookup, at(-900)).service, 's3');
  const skewed = rejects(() => verifySignature(s3, lookup, at(901)), 'RequestTimeTooSkewed', 403,
    'The difference between the request time and the current time is too large.');
  assert.deepEqual(skewed.fields, { RequestTime: '20260101T000000Z', ServerTime: '2026-01-01T00:15:01Z', MaxAllowedSkewMilliseconds: 900000 });
  rejects(() => verifySignature(s3, lookup, at(120), { maxSkewSeconds: 60 }), 'RequestTimeTooSkewed', 403);

  const sm = wire(await signer('sagemaker').sign(request('POST', '/', {}, { 'x-amz-target': 'SageMaker.ListModels' }, '{}'), { signingDate: T0 }));
  rejects(() => verifySignature(sm, lookup, at(1200)), 'InvalidSignatureException', 403,
    'Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z (20260101T002000Z - 15 min.)');
  rejects(() => verifySignature(sm, lookup, at(-1200)), 'InvalidSignatureException', 403,
    'Signature not yet current: 20260101T000000Z is still later than 20251231T235500Z (20251231T234000Z + 15 min.)');
});

test('unknown access keys, per service flavour', async () => {
  const none = () => undefined;
  const s3 = wire(await signer('s3').sign(request('GET', '/bucket/key'), { signingDate: T0 }));
  const e = rejects(() => verifySignature(s3, none, at(0)), 'InvalidAccessKeyId', 403,
    'The AWS Access Key Id you provided does not exist in our records.');
  assert.deepEqual(e.fields, { AWSAccessKeyId: KEY_ID });
  const sm = wire(await signer('sagemaker').sign(request('POST', '/', {}, {}, '{}'), { signingDate: T0 }));
  rejects(() => verifySignature(sm, none, at(0)), 'UnrecognizedClientException', 403, 'The security token included in the request is invalid.');
  const logs = wire(await signer('logs').sign(request('POST', '/', {}, {}, '{}'), { signingDate: T0 }));
  rejects(() => verifySignature(logs, none, at(0)), 'UnrecognizedClientException', 403);
  // Query-protocol services (STS) answer with their own codes.
  const sts = wire(await signer('sts').sign(request('POST', '/', {}, { 'content-type': 'application/x-www-form-urlencoded' }, 'Action=GetCallerIdentity&Version=2011-06-15'), { signingDate: T0 }));
  rejects(() => verifySignature(sts, none, at(0)), 'InvalidClientTokenId', 403, 'The security token included in the request is invalid.');
  const stsBad = { ...sts, headers: { ...sts.headers, 'x-amz-content-sha256': sha256('Action=GetCallerIdentity') } };
  rejects(() => verifySignature(stsBad, lookup, at(0)), 'SignatureDoesNotMatch', 403, SVC_BAD_SIG);
});

test('missing and malformed authentication', async () => {
  const bare: SignedRequestParts = { method: 'GET', rawPath: '/bucket/key', rawQuery: '', headers: { host: 'localhost' } };
  rejects(() => verifySignature(bare, lookup, at(0), { service: 's3' }), 'AccessDenied', 403, 'Access Denied');
  rejects(() => verifySignature(bare, lookup, at(0), { service: 'sagemaker' }), 'MissingAuthenticationTokenException', 403, 'Missing Authentication Token');
  rejects(() => verifySignature(bare, lookup, at(0)), 'MissingAuthenticationTokenException', 403);
  rejects(() => verifySignature(bare, lookup, at(0), { service: 'sts' }), 'MissingAuthenticationToken', 403);

  const good = wire(await signer('s3').sign(request('GET', '/bucket/key'), { signingDate: T0 }));
  const withAuth = (authorization: string, extra: Record<string, string> = {}) => ({ ...good, headers: { ...good.headers, ...extra, authorization } });
  const auth = String(good.headers.authorization);
  rejects(() => verifySignature(withAuth(auth.replace(/, Signature=[0-9a-f]+/, '')), lookup, at(0)), 'AuthorizationHeaderMalformed', 400,
    /^The authorization header is malformed; the authorization header requires three components/);
  rejects(() => verifySignature(withAuth(auth.replace('/aws4_request', '/aws5_request')), lookup, at(0)), 'AuthorizationHeaderMalformed', 400,
    /the Credential is mal-formed/);
  rejects(() => verifySignature(withAuth(auth.replace('20260101/', '2026011/')), lookup, at(0)), 'AuthorizationHeaderMalformed', 400);
  rejects(() => verifySignature(withAuth(auth.replace('20260101/', '20260102/')), lookup, at(0)), 'AuthorizationHeaderMalformed', 400,
    /Date is not the same as X-Amz-Date/);
  // Without a readable credential scope the flavour comes from the routed service.
  rejects(() => verifySignature(withAuth(`AWS ${KEY_ID}:c2lnbmF0dXJl`), lookup, at(0), { service: 's3' }), 'InvalidRequest', 400);
  rejects(() => verifySignature(withAuth('Bearer abc'), lookup, at(0), { service: 's3' }), 'InvalidArgument', 400);
  rejects(() => verifySignature(withAuth('Bearer abc'), lookup, at(0), { service: 'sagemaker' }), 'IncompleteSignatureException', 400);
  rejects(() => verifySignature(withAuth('Bearer abc'), lookup, at(0), { service: 's3' }), 'InvalidArgument', 400,
    'Unsupported Authorization Type');
  rejects(() => verifySignature({ ...good, headers: { ...good.headers, 'x-amz-date': '2026-01-01T00:00:00Z' } }, lookup, at(0)),
    'AuthorizationHeaderMalformed', 400);

  const sm = wire(await signer('sagemaker').sign(request('POST', '/', {}, {}, '{}'), { signingDate: T0 }));
  const smAuth = String(sm.headers.authorization);
  rejects(() => verifySignature({ ...sm, headers: { ...sm.headers, authorization: smAuth.replace(/SignedHeaders=[^,]+, /, '') } }, lookup, at(0)),
    'IncompleteSignatureException', 400);
  rejects(() => verifySignature({ ...sm, headers: { ...sm.headers, authorization: smAuth.replace('20260101/', '20260102/') } }, lookup, at(0)),
    'InvalidSignatureException', 403, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260102' != '20260101', from '20260101T000000Z'.");
  const noDate = { ...sm, headers: { ...sm.headers } };
  delete noDate.headers['x-amz-date'];
  rejects(() => verifySignature(noDate, lookup, at(0)), 'IncompleteSignatureException', 400, /'X-Amz-Date' or a 'Date' header/);
});

test('host must be signed; S3 needs x-amz-content-sha256 and a known value in it', async () => {
  const noHost = wire(await signer('s3').sign(request('GET', '/bucket/key'), { signingDate: T0, unsignableHeaders: new Set(['host']) }));
  rejects(() => verifySignature(noHost, lookup, at(0)), 'AuthorizationHeaderMalformed', 400, /'Host' or ':authority' must be a 'SignedHeader'/);
  const smNoHost = wire(await signer('sagemaker').sign(request('POST', '/', {}, {}, '{}'), { signingDate: T0, unsignableHeaders: new Set(['host']) }));
  rejects(() => verifySignature(smNoHost, lookup, at(0)), 'IncompleteSignatureException', 400);

  const noSha = wire(await signer('s3', { applyChecksum: false }).sign(request('GET', '/bucket/key'), { signingDate: T0 }));
  rejects(() => verifySignature(noSha, lookup, at(0)), 'InvalidRequest', 400, 'Missing required header for this request: x-amz-content-sha256');

  const weird = wire(await signer('s3').sign(request('PUT', '/bucket/key', {}, { 'x-amz-content-sha256': 'SOMETHING-ELSE' }), { signingDate: T0 }));
  rejects(() => verifySignature(weird, lookup, at(0)), 'InvalidArgument', 400, /^x-amz-content-sha256 must be UNSIGNED-PAYLOAD/);

  const unsignedPayload = wire(await signer('s3').sign(request('PUT', '/bucket/key', {}, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, 'x'), { signingDate: T0 }));
  assert.deepEqual(verifySignature(unsignedPayload, lookup, at(0)).payload, { kind: 'unsigned' });
  const trailer = wire(await signer('s3').sign(request('PUT', '/bucket/key', {}, {
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32',
  }), { signingDate: T0 }));
  assert.deepEqual(verifySignature(trailer, lookup, at(0)).payload, { kind: 'streaming-unsigned-trailer' });
  const signedTrailer = wire(await signer('s3').sign(request('PUT', '/bucket/key', {}, {
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked',
  }), { signingDate: T0 }));
  const st = verifySignature(signedTrailer, lookup, at(0)).payload;
  assert.ok(st.kind === 'streaming-signed' && st.trailer);
});

test('Date header instead of x-amz-date', () => {
  // Signed by hand: the string to sign carries the Date header's time in ISO 8601 basic form.
  const headers: Record<string, string> = { host: 'localhost', date: 'Thu, 01 Jan 2026 00:00:00 GMT', 'x-amz-content-sha256': EMPTY_SHA256 };
  const canonical = ['GET', '/bucket/key', '', 'date:Thu, 01 Jan 2026 00:00:00 GMT\nhost:localhost\nx-amz-content-sha256:' + EMPTY_SHA256 + '\n', 'date;host;x-amz-content-sha256', EMPTY_SHA256].join('\n');
  const scope = '20260101/us-east-1/s3/aws4_request';
  const sts = `AWS4-HMAC-SHA256\n20260101T000000Z\n${scope}\n${sha256(canonical)}`;
  let k: Buffer = createHmac('sha256', `AWS4${SECRET}`).update('20260101').digest();
  for (const part of ['us-east-1', 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  const sig = createHmac('sha256', k).update(sts).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${KEY_ID}/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${sig}`;
  const v = verifySignature({ method: 'GET', rawPath: '/bucket/key', rawQuery: '', headers }, lookup, at(10));
  assert.equal(v.requestTime.toISOString(), T0.toISOString());
});

test('parseAuthService reads the credential scope cheaply', async () => {
  const sm = wire(await signer('sagemaker').sign(request('POST', '/', {}, {}, '{}'), { signingDate: T0 }));
  assert.deepEqual(parseAuthService(sm), { service: 'sagemaker', region: 'us-west-2', accessKeyId: KEY_ID });
  assert.equal(parseAuthService({ rawQuery: 'a=b', headers: {} }), undefined);
  assert.equal(parseAuthService({ rawQuery: '', headers: { authorization: 'Bearer x' } }), undefined);
});

test('uriEncode / uriDecode', () => {
  assert.equal(uriEncode("a b/ü+%&=!'()*~-_."), "a%20b%2F%C3%BC%2B%25%26%3D%21%27%28%29%2A~-_.");
  assert.equal(uriDecode('a%20b%2f%C3%BC+%zz%').toString('utf8'), 'a b/ü+%zz%');
});

// ---------------------------------------------------------------------------------------
// The real AWS SDK for JavaScript v3 against a server that verifies with this module.

interface Seen { verified?: VerifiedSignature; error?: AwsError; body: Buffer; req: IncomingMessage }

async function withServer(respond: (seen: Seen) => { status?: number; headers?: Record<string, string>; body?: string }, run: (endpoint: string, seen: Seen[]) => Promise<void>) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const parts: SignedRequestParts = {
        method: req.method ?? 'GET',
        rawPath: q < 0 ? url : url.slice(0, q),
        rawQuery: q < 0 ? '' : url.slice(q + 1),
        headers: req.headersDistinct,
      };
      const entry: Seen = { body, req };
      try {
        entry.verified = verifySignature(parts, lookup, new Date(), { bodySha256Hex: sha256(body) });
      } catch (e) {
        entry.error = e as AwsError;
      }
      seen.push(entry);
      const out = entry.error ? { status: 403, body: '' } : respond(entry);
      res.writeHead(out.status ?? 200, { 'x-amzn-requestid': 'r', ...out.headers });
      res.end(out.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const credentials = { accessKeyId: KEY_ID, secretAccessKey: SECRET };

test('real clients: S3 (path-style, special keys, queries, presigned URL), SageMaker, STS', async () => {
  await withServer(
    (s): { headers: Record<string, string>; body: string } => {
      const url = s.req.url ?? '';
      if (url.includes('list-type=2')) {
        return { headers: { 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>' };
      }
      if (s.req.headers['x-amz-target'] === 'SageMaker.ListModels') return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: '{"Models":[]}' };
      if (s.verified?.service === 'sts') {
        return { headers: { 'content-type': 'text/xml' }, body: '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root</Arn><UserId>000000000000</UserId><Account>000000000000</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>' };
      }
      return { headers: { etag: '"0"', 'content-type': 'text/plain' }, body: 'object' };
    },
    async (endpoint, seen) => {
      const s3 = new S3Client({ endpoint, region: 'eu-central-1', forcePathStyle: true, credentials });
      const key = "dir with space/ü+%!'()*~.txt";
      await s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: key, Body: 'payload', ContentType: 'text/plain', Metadata: { note: 'x  y' } }));
      await s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: key, Range: 'bytes=0-3' }));
      await s3.send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: "a b/ü+%&=!'()*", StartAfter: 'x~y', Delimiter: '/' }));
      const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bucket', Key: key, ResponseContentType: 'text/plain; charset=utf-8' }), { expiresIn: 300 }));
      const fetched = await fetch(url);
      assert.equal(fetched.status, 200);
      await fetched.text();
      const sm = new SageMakerClient({ endpoint, region: 'eu-central-1', credentials });
      await sm.send(new ListModelsCommand({ NameContains: 'x' }));
      const sts = new STSClient({ endpoint, region: 'eu-central-1', credentials });
      await sts.send(new GetCallerIdentityCommand({}));

      for (const s of seen) assert.equal(s.error, undefined, `${s.req.method} ${s.req.url}: ${s.error?.code} ${s.error?.message}`);
      assert.equal(seen.length, 6);
      assert.deepEqual(seen.map((s) => s.verified!.service), ['s3', 's3', 's3', 's3', 'sagemaker', 'sts']);
      assert.equal(seen[0]!.verified!.region, 'eu-central-1');
      assert.equal(seen[3]!.verified!.presigned, true);
      assert.equal(seen[3]!.verified!.payload.kind, 'unsigned');
      const put = seen[0]!;
      if (put.verified!.payload.kind === 'sha256') assert.equal(put.verified!.payload.hex, sha256(put.body));
    },
  );
});
