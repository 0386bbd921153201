import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { AWS_CLI, PYTHON, run } from './helpers/processes.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('boto3 (Debian python3-boto3) and the aws CLI', () => {
  let k: TestKiln;
  let work: string;
  before(async () => {
    k = await startTestKiln();
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-'));
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await k?.stop();
  });

  const boto = (script: string) =>
    run(PYTHON, ['-c', `import boto3, os, sys, json\ns3 = boto3.client('s3', endpoint_url=os.environ['KILN_ENDPOINT'])\n${script}`], { env: k.env });

  test('boto3 upload_file / download_file with multipart, byte-exact', async () => {
    const src = path.join(work, 'upload.bin');
    const bytes = randomBytes(20 * 1024 * 1024 + 3);
    writeFileSync(src, bytes);
    const dst = path.join(work, 'download.bin');
    const r = await boto(
      `s3.create_bucket(Bucket='boto')\n` +
        `s3.upload_file(${JSON.stringify(src)}, 'boto', 'data/upload.bin')\n` +
        `s3.download_file('boto', 'data/upload.bin', ${JSON.stringify(dst)})\n` +
        `print(s3.head_object(Bucket='boto', Key='data/upload.bin')['ETag'])`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^"[0-9a-f]{32}-\d+"$/, 'uploaded in parts');
    assert.equal(sha(readFileSync(dst)), sha(bytes));
  });

  test('boto3 list_objects_v2 paginates over 2,500 keys', async () => {
    const s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'many' }));
    const keys = Array.from({ length: 2500 }, (_, i) => `k/${String(i).padStart(5, '0')}${i % 7 === 0 ? ' +special' : ''}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: 'many', Key, Body: Key }))));
    }
    s3.destroy();
    const r = await boto(
      `pages = list(s3.get_paginator('list_objects_v2').paginate(Bucket='many', Prefix='k/'))\n` +
        `keys = [o['Key'] for p in pages for o in p.get('Contents', [])]\n` +
        `print(json.dumps({'pages': len(pages), 'keys': keys}))`,
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.pages, 3);
    assert.deepEqual(out.keys, [...keys].sort());
  });

  test('boto3 errors arrive as ClientError with S3 codes', async () => {
    const r = await boto(
      `from botocore.exceptions import ClientError\n` +
        `try:\n  s3.get_object(Bucket='boto', Key='missing')\nexcept ClientError as e:\n  print(e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'])`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'NoSuchKey 404');
  });

  test('aws s3 cp, sync, ls and rm --recursive with --endpoint-url', async () => {
    const aws = (...args: string[]) => run(AWS_CLI, [...args, '--endpoint-url', k.endpoint], { env: k.env });
    assert.equal((await aws('s3', 'mb', 's3://cli')).code, 0);
    const file = path.join(work, 'one.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    const cp = await aws('s3', 'cp', file, 's3://cli/one.csv');
    assert.equal(cp.code, 0, cp.stderr);

    const tree = path.join(work, 'tree');
    mkdirSync(path.join(tree, 'sub'), { recursive: true });
    writeFileSync(path.join(tree, 'x.txt'), 'x');
    writeFileSync(path.join(tree, 'sub', 'y.txt'), 'y');
    writeFileSync(path.join(tree, 'sub', 'big.bin'), randomBytes(9 * 1024 * 1024));
    // sync compares local mtimes with LastModified, which S3 gives in whole seconds: keep the
    // files clearly older than the upload, as they would be outside a test.
    const past = new Date(Date.now() - 60_000);
    for (const f of ['x.txt', 'sub/y.txt', 'sub/big.bin']) utimesSync(path.join(tree, f), past, past);
    const sync = await aws('s3', 'sync', tree, 's3://cli/tree/');
    assert.equal(sync.code, 0, sync.stderr);
    const again = await aws('s3', 'sync', tree, 's3://cli/tree/');
    assert.equal(again.stdout.trim(), '', 'a second sync has nothing to upload');

    const ls = await aws('s3', 'ls', 's3://cli/', '--recursive');
    assert.equal(ls.code, 0, ls.stderr);
    const listed = ls.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).pop());
    assert.deepEqual(listed.sort(), ['one.csv', 'tree/sub/big.bin', 'tree/sub/y.txt', 'tree/x.txt']);

    const down = path.join(work, 'down');
    const syncDown = await aws('s3', 'sync', 's3://cli/tree/', down);
    assert.equal(syncDown.code, 0, syncDown.stderr);
    assert.equal(sha(readFileSync(path.join(down, 'sub', 'big.bin'))), sha(readFileSync(path.join(tree, 'sub', 'big.bin'))));

    const rm = await aws('s3', 'rm', 's3://cli/', '--recursive');
    assert.equal(rm.code, 0, rm.stderr);
    const s3 = k.s3();
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'cli' }));
    assert.equal(left.KeyCount, 0);
    s3.destroy();
  });

  test('aws sts get-caller-identity returns the account id', async () => {
    const r = await run(AWS_CLI, ['sts', 'get-caller-identity', '--endpoint-url', k.endpoint, '--output', 'json'], { env: k.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).Account, '000000000000');
  });

  test('boto3 sagemaker client gets the AWS-shaped errors', async () => {
    const r = await run(PYTHON, ['-c', `import boto3, os
from botocore.exceptions import ClientError
sm = boto3.client('sagemaker', endpoint_url=os.environ['KILN_ENDPOINT'])
try:
  sm.list_training_jobs(MaxResults=1000)
except ClientError as e:
  print(e.response['Error']['Code'])
try:
  sm.describe_labeling_job(LabelingJobName='x')
except ClientError as e:
  print(e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'])
`], { env: k.env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['ValidationException', 'NotImplemented 501']);
  });
});
