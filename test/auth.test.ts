import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ListTrainingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';

/** Signs a request by hand so tests can send what no well-behaved client would. */
async function signed(k: TestKiln, opts: { service: string; method: string; path: string; body?: string; headers?: Record<string, string>; at?: Date; secret?: string }) {
  const url = new URL(k.endpoint);
  const signer = new SignatureV4({
    service: opts.service,
    region: k.region,
    credentials: { accessKeyId: k.credentials.accessKeyId, secretAccessKey: opts.secret ?? k.credentials.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: opts.service !== 's3',
    applyChecksum: true,
  });
  const request = {
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    method: opts.method,
    path: opts.path,
    headers: { host: url.host, ...opts.headers },
    query: {},
    body: opts.body,
  };
  return signer.sign(request, { signingDate: opts.at ?? new Date() });
}

async function send(k: TestKiln, req: Awaited<ReturnType<typeof signed>>, body?: string) {
  const res = await fetch(`${k.endpoint}${req.path}`, { method: req.method, headers: req.headers as Record<string, string>, body: body ?? (req.body as string | undefined) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('authentication and the audit log', () => {
  let k: TestKiln;
  let s3: S3Client;
  before(async () => {
    k = await startTestKiln();
    s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'auth' }));
    await s3.send(new PutObjectCommand({ Bucket: 'auth', Key: 'secret.txt', Body: 'presigned content' }));
  });
  after(async () => {
    s3?.destroy();
    await k?.stop();
  });

  test('root credentials are generated once and stored with mode 0600', () => {
    const file = path.join(k.dataDir, 'keys', 'root-credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(stored.accessKeyId, k.credentials.accessKeyId);
  });

  test('a presigned GET works with plain fetch; an expired one is refused', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'auth', Key: 'secret.txt' }), { expiresIn: 60 });
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'presigned content');

    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'auth', Key: 'secret.txt' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 10 * 60_000),
    });
    const expired = await fetch(old);
    assert.equal(expired.status, 403);
    const body = await expired.text();
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    assert.match(body, /Request has expired/);
  });

  test('a wrong secret is refused, for S3 and for SageMaker', async () => {
    const bad = k.s3({ credentials: { accessKeyId: k.credentials.accessKeyId, secretAccessKey: 'wrong-secret' } });
    await assert.rejects(bad.send(new GetObjectCommand({ Bucket: 'auth', Key: 'secret.txt' })), (e: Error & { $metadata: { httpStatusCode: number } }) => {
      assert.equal(e.name, 'SignatureDoesNotMatch');
      assert.equal(e.$metadata.httpStatusCode, 403);
      return true;
    });
    bad.destroy();
    const sm = new SageMakerClient({ endpoint: k.endpoint, region: k.region, credentials: { accessKeyId: k.credentials.accessKeyId, secretAccessKey: 'nope' }, maxAttempts: 1 });
    await assert.rejects(sm.send(new ListTrainingJobsCommand({})), (e: Error) => e.name === 'InvalidSignatureException');
    const unknown = new SageMakerClient({ endpoint: k.endpoint, region: k.region, credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' }, maxAttempts: 1 });
    await assert.rejects(unknown.send(new ListTrainingJobsCommand({})), (e: Error) => e.name === 'UnrecognizedClientException');
  });

  test('a tampered body is refused and nothing is stored', async () => {
    const req = await signed(k, { service: 's3', method: 'PUT', path: '/auth/tampered.txt', body: 'original', headers: { 'content-type': 'text/plain' } });
    const res = await send(k, req, 'tampered');
    assert.equal(res.status, 400);
    assert.match(res.text, /XAmzContentSHA256Mismatch/);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'auth', Key: 'tampered.txt' })), (e: Error) => e.name === 'NoSuchKey');

    const json = await signed(k, {
      service: 'sagemaker',
      method: 'POST',
      path: '/',
      body: '{}',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.ListTrainingJobs' },
    });
    const tampered = await send(k, json, '{"MaxResults":5}');
    assert.equal(tampered.status, 403);
    assert.match(tampered.text, /InvalidSignatureException/);
  });

  test('a clock 20 minutes off is refused', async () => {
    const skewed = await signed(k, { service: 's3', method: 'GET', path: '/auth/secret.txt', at: new Date(Date.now() - 20 * 60_000) });
    const res = await send(k, skewed);
    assert.equal(res.status, 403);
    assert.match(res.text, /<Code>RequestTimeTooSkewed<\/Code>/);
    const json = await signed(k, {
      service: 'sagemaker',
      method: 'POST',
      path: '/',
      body: '{}',
      at: new Date(Date.now() + 20 * 60_000),
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.ListTrainingJobs' },
    });
    const res2 = await send(k, json);
    assert.equal(res2.status, 403);
    assert.match(res2.text, /InvalidSignatureException.*Signature not yet current/);
  });

  test('an unsigned request is refused', async () => {
    const res = await fetch(`${k.endpoint}/auth/secret.txt`);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /AccessDenied/);
  });

  test('mutating calls are audited with principal, action, resource, result and request id', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'auth', Key: 'audited.txt', Body: 'x' }));
    const lines = readFileSync(path.join(k.dataDir, 'logs', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const entry = lines.find((l) => l.action === 's3:PutObject' && l.resource === 'arn:aws:s3:::auth/audited.txt');
    assert.ok(entry, 'PutObject is in the audit log');
    assert.equal(entry.principal, `arn:aws:iam::${k.kiln.config.accountId}:root`);
    assert.equal(entry.result, 'success');
    assert.equal(entry.requestId, put.$metadata.requestId);
    assert.ok(entry.sourceIp);
    assert.ok(!lines.some((l) => l.action === 's3:GetObject'), 'reads are not audited');
  });
});
