import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateModelCommand, CreateTransformJobCommand, DescribeTransformJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { killStartedKilns, spawnKiln } from './helpers/child-server.ts';
import { PYTHON, run } from './helpers/processes.ts';
import { CHURN_XGBOOST } from './helpers/shared-data.ts';

after(killStartedKilns);

const credentials = { accessKeyId: 'AKIAKILNTESTROOT0005', secretAccessKey: 'kiln-test-secret-key-5' };
const MAKE_MODEL = `
import sys, os, tarfile, numpy as np, xgboost as xgb
tr = np.loadtxt(os.path.join(sys.argv[2], 'train.csv'), delimiter=',')
b = xgb.train(dict(max_depth=3, objective='binary:logistic', nthread=1), xgb.DMatrix(tr[:, 1:], label=tr[:, 0]), 10)
b.save_model(os.path.join(sys.argv[1], 'xgboost-model'))
with tarfile.open(os.path.join(sys.argv[1], 'model.tar.gz'), 'w:gz') as t: t.add(os.path.join(sys.argv[1], 'xgboost-model'), arcname='xgboost-model')
`;
/** The model workers of a job (the bracket keeps pgrep's own shell from matching). */
const workers = (job: string) => execSync(`pgrep -f -- '--kiln-endpoint=[${job[0]}]${job.slice(1)}/' || true`).toString().trim().split('\n').filter(Boolean).map(Number);

test('a server killed during a transform job leaves no job stuck, no partial output and no worker behind', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-transform-restart-'));
  const env = { KILN_DATA_DIR: dataDir, KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey };
  try {
    const made = await run(PYTHON, ['-c', MAKE_MODEL, dataDir, CHURN_XGBOOST]);
    assert.equal(made.code, 0, made.stderr);
    const clients = (url: string) => ({
      s3: new S3Client({ endpoint: url, region: 'us-east-1', credentials, forcePathStyle: true }),
      sm: new SageMakerClient({ endpoint: url, region: 'us-east-1', credentials }),
    });
    const first = await spawnKiln(env);
    const a = clients(first.url);
    await a.s3.send(new CreateBucketCommand({ Bucket: 'batch' }));
    await a.s3.send(new PutObjectCommand({ Bucket: 'batch', Key: 'model.tar.gz', Body: readFileSync(path.join(dataDir, 'model.tar.gz')) }));
    const rows = readFileSync(path.join(CHURN_XGBOOST, 'test.csv'), 'utf8').trim().split('\n');
    await a.s3.send(new PutObjectCommand({ Bucket: 'batch', Key: 'in/rows.csv', Body: `${Array.from({ length: 500 }, () => rows).flat().join('\n')}\n` }));
    await a.sm.send(new CreateModelCommand({ ModelName: 'm', ExecutionRoleArn: 'arn:aws:iam::000000000000:role/kiln', PrimaryContainer: { Image: 'kiln/xgboost', ModelDataUrl: 's3://batch/model.tar.gz' } }));
    await a.sm.send(
      new CreateTransformJobCommand({
        TransformJobName: 'interrupted',
        ModelName: 'm',
        BatchStrategy: 'SingleRecord',
        MaxConcurrentTransforms: 1,
        TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://batch/in/' } }, ContentType: 'text/csv', SplitType: 'Line' },
        TransformOutput: { S3OutputPath: 's3://batch/out/', AssembleWith: 'Line' },
        TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
      }),
    );
    for (let i = 0; i < 300 && !workers('interrupted').length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(workers('interrupted').length > 0, 'the model workers run');
    await new Promise((r) => setTimeout(r, 300));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnKiln(env);
    const b = clients(second.url);
    const d = await b.sm.send(new DescribeTransformJobCommand({ TransformJobName: 'interrupted' }));
    assert.equal(d.TransformJobStatus, 'Failed');
    assert.match(d.FailureReason!, /Kiln server stopped while this transform job was running/);
    assert.ok(d.TransformEndTime instanceof Date);
    await assert.rejects(b.s3.send(new GetObjectCommand({ Bucket: 'batch', Key: 'out/rows.csv.out' })), (e: Error) => e.name === 'NoSuchKey');
    for (let i = 0; i < 50 && workers('interrupted').length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(workers('interrupted'), []);
    second.child.kill('SIGTERM');
    await second.exited;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
