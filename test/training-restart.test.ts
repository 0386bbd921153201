import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { killStartedKilns, spawnKiln } from './helpers/child-server.ts';
import { CHURN_XGBOOST } from './helpers/shared-data.ts';

after(killStartedKilns);

const DATA = CHURN_XGBOOST;
const credentials = { accessKeyId: 'AKIAKILNTESTROOT0002', secretAccessKey: 'kiln-test-secret-key-2' };

test('a server killed during a training job leaves no job stuck and no orphan process', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-restart-'));
  const env = { KILN_DATA_DIR: dataDir, KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey };
  try {
    const first = await spawnKiln(env);
    const clients = (url: string) => ({
      s3: new S3Client({ endpoint: url, region: 'us-east-1', credentials, forcePathStyle: true }),
      sm: new SageMakerClient({ endpoint: url, region: 'us-east-1', credentials }),
    });
    const a = clients(first.url);
    await a.s3.send(new CreateBucketCommand({ Bucket: 'churn' }));
    await a.s3.send(new PutObjectCommand({ Bucket: 'churn', Key: 'train/train.csv', Body: readFileSync(path.join(DATA, 'train.csv')) }));
    await a.sm.send(
      new CreateTrainingJobCommand({
        TrainingJobName: 'interrupted',
        AlgorithmSpecification: { TrainingImage: 'kiln/xgboost:1.7-1', TrainingInputMode: 'File' },
        RoleArn: 'arn:aws:iam::000000000000:role/kiln',
        HyperParameters: { objective: 'binary:logistic', num_round: '1000000', max_depth: '8' },
        InputDataConfig: [{ ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://churn/train' } } }],
        OutputDataConfig: { S3OutputPath: 's3://churn/out' },
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
        StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      }),
    );
    let pid = 0;
    for (let i = 0; i < 300 && !pid; i++) {
      const d = await a.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'interrupted' }));
      if (d.SecondaryStatus === 'Training') {
        // the job process is the one whose command line names the job
        const { execSync } = await import('node:child_process');
        pid = Number(execSync(`pgrep -f -- '--kiln-job=[i]nterrupted' || true`).toString().trim().split('\n')[0] || 0);
      }
      if (!pid) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(pid > 0, 'the job process runs');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnKiln(env);
    const b = clients(second.url);
    const d = await b.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'interrupted' }));
    assert.equal(d.TrainingJobStatus, 'Failed');
    assert.match(d.FailureReason!, /Kiln server stopped while this training job was running/);
    assert.ok(d.TrainingEndTime instanceof Date);
    for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ'), 'the orphaned job process was ended');
    second.child.kill('SIGTERM');
    await second.exited;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
