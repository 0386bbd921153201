import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient, waitUntilTrainingJobCompletedOrStopped, type CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { killStartedKilns, spawnKiln } from './helpers/child-server.ts';
import { jobLog, sdkHyperparameters, sourceTarball } from './helpers/script-mode.ts';

after(killStartedKilns);

const credentials = { accessKeyId: 'AKIAKILNTESTROOT0005', secretAccessKey: 'kiln-test-secret-key-5' };

/** Counts epochs in a checkpoint file, starting from where the last checkpoint left off. */
const TRAIN = `
import json, os, time
state = os.path.join(os.environ.get('SM_CHECKPOINT_DIR', '/opt/ml/checkpoints'), 'state.json')
epoch = json.load(open(state))['epoch'] if os.path.exists(state) else 0
print('starting at epoch %d' % epoch, flush=True)
while epoch < 40:
    time.sleep(0.1)
    epoch += 1
    json.dump({'epoch': epoch}, open(state + '.tmp', 'w'))
    os.replace(state + '.tmp', state)
open(os.path.join(os.environ['SM_MODEL_DIR'], 'epochs.txt'), 'w').write(str(epoch))
print('finished at epoch %d' % epoch, flush=True)
`;

test('a managed spot job interrupted by a server restart resumes from its last checkpoint and is billed for less than it took', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-spot-'));
  const env = { KILN_DATA_DIR: dataDir, KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey, KILN_CHECKPOINT_SYNC_MS: '200', KILN_LOG_LEVEL: 'warn' };
  const clients = (url: string) => ({
    s3: new S3Client({ endpoint: url, region: 'us-east-1', credentials, forcePathStyle: true }),
    sm: new SageMakerClient({ endpoint: url, region: 'us-east-1', credentials }),
    logs: new CloudWatchLogsClient({ endpoint: url, region: 'us-east-1', credentials }),
  });
  try {
    const first = await spawnKiln(env);
    const a = clients(first.url);
    await a.s3.send(new CreateBucketCommand({ Bucket: 'spot' }));
    await a.s3.send(new PutObjectCommand({ Bucket: 'spot', Key: 'code/sourcedir.tar.gz', Body: await sourceTarball({ 'train.py': TRAIN }) }));
    const input: CreateTrainingJobCommandInput = {
      TrainingJobName: 'spot-epochs',
      AlgorithmSpecification: { TrainingImage: 'kiln/python', TrainingInputMode: 'File' },
      RoleArn: 'arn:aws:iam::000000000000:role/kiln',
      HyperParameters: sdkHyperparameters({}, 'train.py', 's3://spot/code/sourcedir.tar.gz'),
      OutputDataConfig: { S3OutputPath: 's3://spot/out' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
      CheckpointConfig: { S3Uri: 's3://spot/checkpoints/spot-epochs' },
      EnableManagedSpotTraining: true,
      StoppingCondition: { MaxRuntimeInSeconds: 600, MaxWaitTimeInSeconds: 1200 },
    };
    await assert.rejects(
      a.sm.send(new CreateTrainingJobCommand({ ...input, StoppingCondition: { MaxRuntimeInSeconds: 600 } })),
      (e: Error) => e.name === 'ValidationException' && /Invalid MaxWaitTimeInSeconds/.test(e.message),
    );
    await a.sm.send(new CreateTrainingJobCommand(input));

    // Wait until a checkpoint of a few epochs has reached S3, then kill the server outright.
    let saved = 0;
    for (let i = 0; i < 600 && saved < 5; i++) {
      try {
        const got = await a.s3.send(new GetObjectCommand({ Bucket: 'spot', Key: 'checkpoints/spot-epochs/state.json' }));
        saved = JSON.parse(await got.Body!.transformToString()).epoch;
      } catch {
        // not uploaded yet
      }
      if (saved < 5) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(saved >= 5, 'a checkpoint reached S3');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnKiln(env);
    const b = clients(second.url);
    await waitUntilTrainingJobCompletedOrStopped({ client: b.sm, maxWaitTime: 120, minDelay: 0.2, maxDelay: 0.5 }, { TrainingJobName: 'spot-epochs' }).catch(() => undefined);
    const d = await b.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'spot-epochs' }));
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const statuses = d.SecondaryStatusTransitions!.map((t) => t.Status);
    assert.deepEqual(statuses.slice(statuses.indexOf('Interrupted')), ['Interrupted', 'Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
    assert.ok(d.BillableTimeInSeconds! < d.TrainingTimeInSeconds!, `billable ${d.BillableTimeInSeconds} s, training ${d.TrainingTimeInSeconds} s`);

    const log = await jobLog(b.logs, '/aws/sagemaker/TrainingJobs', 'spot-epochs');
    const resumedAt = log.map((l) => /^starting at epoch (\d+)$/.exec(l)?.[1]).filter((x) => x !== undefined).map(Number);
    assert.equal(resumedAt[0], 0);
    assert.ok(resumedAt.length === 2 && resumedAt[1]! >= saved, `runs started at epochs ${resumedAt}`);
    assert.ok(log.some((l) => /^Kiln: restored 1 checkpoint file\(s\) from s3:\/\/spot\/checkpoints\/spot-epochs/.test(l)));
    assert.ok(log.includes('finished at epoch 40'));
    second.child.kill('SIGTERM');
    await second.exited;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
