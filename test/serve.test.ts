import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, ListMultipartUploadsCommand, PutObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { killStartedKilns, spawnKiln } from './helpers/child-server.ts';

after(killStartedKilns);
import { run } from './helpers/processes.ts';

const credentials = { accessKeyId: 'AKIAKILNTESTROOT0001', secretAccessKey: 'kiln-test-secret-key' };
const client = (url: string) => new S3Client({ endpoint: url, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 });

test('kiln serve prints generated credentials once, answers health, and shuts down on SIGTERM', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-serve-'));
  try {
    const first = await spawnKiln({ KILN_DATA_DIR: dataDir });
    assert.match(first.output(), /export AWS_ACCESS_KEY_ID=AKIA/);
    const health = await fetch(`${first.url}/_kiln/health`);
    assert.equal(health.status, 200);
    first.child.kill('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null });

    const second = await spawnKiln({ KILN_DATA_DIR: dataDir });
    assert.doesNotMatch(second.output(), /export AWS_ACCESS_KEY_ID/, 'printed only at first start');
    second.child.kill('SIGINT');
    assert.equal((await second.exited).code, 0);

    const creds = await run(process.execPath, ['--import', 'tsx', 'src/cli/kiln.ts', 'credentials'], { env: { ...process.env, KILN_DATA_DIR: dataDir } });
    assert.equal(creds.code, 0, creds.stderr);
    assert.match(creds.stdout, /^export AWS_ACCESS_KEY_ID=AKIA[A-Z2-7]{16}$/m);
    assert.match(creds.stdout, /^export AWS_SECRET_ACCESS_KEY=\S{40}$/m);
    assert.equal(statSync(path.join(dataDir, 'keys', 'root-credentials.json')).mode & 0o777, 0o600);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('SIGKILL during a 100 MB upload leaves no partial object, and the store stays consistent', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-crash-'));
  const env = { KILN_DATA_DIR: dataDir, KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey };
  try {
    const first = await spawnKiln(env);
    const s3 = client(first.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'kept.txt', Body: 'survives' }));

    const total = 100 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let sent = 0;
    let killed = false;
    const body = new Readable({
      read() {
        if (sent >= total) return this.push(null);
        sent += chunk.length;
        if (sent >= 30 * 1024 * 1024 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
        this.push(chunk);
      },
    });
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'partial.bin', Body: body, ContentLength: total })));
    assert.equal((await first.exited).signal, 'SIGKILL');
    s3.destroy();

    const second = await spawnKiln(env);
    const s3b = client(second.url);
    await assert.rejects(s3b.send(new HeadObjectCommand({ Bucket: 'crash', Key: 'partial.bin' })), (e: Error) => e.name === 'NotFound');
    const list = await s3b.send(new ListObjectsV2Command({ Bucket: 'crash' }));
    assert.deepEqual(list.Contents?.map((o) => o.Key), ['kept.txt']);
    const kept = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: 'kept.txt' }));
    assert.equal(await kept.Body!.transformToString(), 'survives');
    const uploads = await s3b.send(new ListMultipartUploadsCommand({ Bucket: 'crash' }));
    assert.equal(uploads.Uploads?.length ?? 0, 0);
    const tmp = path.join(dataDir, 'objects', 'tmp');
    assert.deepEqual(readdirSync(tmp), [], 'temp files of the interrupted upload are gone');
    await s3b.send(new PutObjectCommand({ Bucket: 'crash', Key: 'partial.bin', Body: 'retried' }));
    const retried = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: 'partial.bin' }));
    assert.equal(await retried.Body!.transformToString(), 'retried');
    s3b.destroy();
    second.child.kill('SIGTERM');
    await second.exited;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
