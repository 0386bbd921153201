import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  ListProcessingJobsCommand,
  DescribeTrialComponentCommand,
  ListTrialComponentsCommand,
  SageMakerClient,
  StopProcessingJobCommand,
  waitUntilProcessingJobCompletedOrStopped,
  type CreateProcessingJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { PYTHON, run } from './helpers/processes.ts';
import { jobLog } from './helpers/script-mode.ts';
import { WINE_QUALITY } from './helpers/shared-data.ts';

const SKLEARN_IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3';
const ROLE = 'arn:aws:iam::000000000000:role/kiln-processing';

/** A preprocessing script as SKLearnProcessor.run(code=...) runs it: arguments, inputs and outputs under /opt/ml/processing. */
const PREPROCESS = `
import argparse, json, os
import pandas as pd
from sklearn.model_selection import train_test_split
parser = argparse.ArgumentParser()
parser.add_argument('--train-test-split-ratio', type=float, default=0.3)
parser.add_argument('--input', default='/opt/ml/processing/input/data')
args = parser.parse_args()
df = pd.read_csv(os.path.join(args.input, 'winequality-red.csv'))
train, test = train_test_split(df, test_size=args.train_test_split_ratio, random_state=0)
train.to_csv('/'.join([os.environ['KILN_OPT_ML'], 'processing', 'train', 'train.csv']), index=False)
test.to_csv(os.path.join(os.path.dirname(args.input), '..', 'test', 'test.csv'), index=False)
config = json.load(open(os.path.join(os.environ['KILN_OPT_ML'], 'config', 'processingjobconfig.json')))
print('rows: %d train, %d test; stage %s; job %s' % (len(train), len(test), os.environ['STAGE'], config['ProcessingJobName']))
`;

const SLOW_WRITER = `
import os, sys, time
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
open(os.path.join(out, 'part-1.txt'), 'w').write('first part')
print('part 1 written', flush=True)
for _ in range(600):
    time.sleep(0.1)
`;

const FAILING = `
import os, sys
open(os.path.join(os.environ['KILN_OPT_ML'], 'output', 'message'), 'w').write('bad rows: 3')
raise SystemExit('the data has 3 bad rows')
`;

describe('processing jobs', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  let logs: CloudWatchLogsClient;

  const code = (name: string) => ({ InputName: 'code', S3Input: { S3Uri: `s3://proc/code/${name}`, LocalPath: '/opt/ml/processing/input/code', S3DataType: 'S3Prefix' as const, S3InputMode: 'File' as const } });
  const job = (name: string, script: string, over: Partial<CreateProcessingJobCommandInput> = {}): CreateProcessingJobCommandInput => ({
    ProcessingJobName: name,
    RoleArn: ROLE,
    AppSpecification: { ImageUri: SKLEARN_IMAGE, ContainerEntrypoint: ['python3', `/opt/ml/processing/input/code/${script}`] },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 5 } },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    ProcessingInputs: [code(script)],
    ...over,
  });
  const finished = async (name: string) => {
    await waitUntilProcessingJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 0.2, maxDelay: 0.5 }, { ProcessingJobName: name }).catch(() => undefined);
    return sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
  };
  const keys = async (prefix: string) => ((await k.s3().send(new ListObjectsV2Command({ Bucket: 'proc', Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
  const body = async (key: string) => (await k.s3().send(new GetObjectCommand({ Bucket: 'proc', Key: key }))).Body!.transformToString();

  before(async () => {
    k = await startTestKiln();
    const cfg = { endpoint: k.endpoint, region: k.region, credentials: k.credentials };
    sm = new SageMakerClient(cfg);
    logs = new CloudWatchLogsClient(cfg);
    const s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'proc' }));
    await s3.send(new PutObjectCommand({ Bucket: 'proc', Key: 'raw/winequality-red.csv', Body: readFileSync(path.join(WINE_QUALITY, 'winequality-red.csv')) }));
    for (const [file, text] of Object.entries({ 'preprocess.py': PREPROCESS, 'slow.py': SLOW_WRITER, 'fail.py': FAILING })) {
      await s3.send(new PutObjectCommand({ Bucket: 'proc', Key: `code/${file}`, Body: text }));
    }
  });
  after(async () => {
    await k?.stop();
  });

  test('an SKLearnProcessor-style job splits the wine data: inputs, arguments, environment, outputs, logs', async () => {
    const created = await sm.send(
      new CreateProcessingJobCommand(
        job('split-wine', 'preprocess.py', {
          AppSpecification: {
            ImageUri: SKLEARN_IMAGE,
            ContainerEntrypoint: ['python3', '/opt/ml/processing/input/code/preprocess.py'],
            ContainerArguments: ['--train-test-split-ratio', '0.2', '--input=/opt/ml/processing/input/data'],
          },
          Environment: { STAGE: 'demo' },
          ProcessingInputs: [
            code('preprocess.py'),
            { InputName: 'data', S3Input: { S3Uri: 's3://proc/raw', LocalPath: '/opt/ml/processing/input/data', S3DataType: 'S3Prefix', S3InputMode: 'File', S3DataDistributionType: 'ShardedByS3Key' } },
          ],
          ProcessingOutputConfig: {
            Outputs: [
              { OutputName: 'train', S3Output: { S3Uri: 's3://proc/out/train', LocalPath: '/opt/ml/processing/train', S3UploadMode: 'EndOfJob' } },
              { OutputName: 'test', S3Output: { S3Uri: 's3://proc/out/test', LocalPath: '/opt/ml/processing/test', S3UploadMode: 'EndOfJob' } },
            ],
          },
          Tags: [{ Key: 'stage', Value: 'demo' }],
          ExperimentConfig: { ExperimentName: 'wine-prep', TrialName: 'wine-prep-trial' },
        }),
      ),
    );
    assert.equal(created.ProcessingJobArn, 'arn:aws:sagemaker:us-east-1:000000000000:processing-job/split-wine');
    const d = await finished('split-wine');
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.ok(d.ProcessingStartTime! <= d.ProcessingEndTime!);
    assert.equal(d.AppSpecification?.ContainerArguments?.[1], '0.2');
    assert.equal(d.ProcessingResources?.ClusterConfig?.InstanceType, 'ml.m5.large');
    assert.deepEqual(await keys('out/'), ['out/test/test.csv', 'out/train/train.csv']);
    const trainRows = (await body('out/train/train.csv')).trim().split('\n').length - 1;
    const testRows = (await body('out/test/test.csv')).trim().split('\n').length - 1;
    assert.equal(trainRows + testRows, 1599);
    assert.equal(testRows, 320);
    const log = await jobLog(logs, '/aws/sagemaker/ProcessingJobs', 'split-wine');
    assert.ok(log.includes('rows: 1279 train, 320 test; stage demo; job split-wine'), log.join('\n'));

    // With ExperimentConfig the job is a trial component of that experiment, inputs and outputs as artifacts.
    const tc = await sm.send(new DescribeTrialComponentCommand({ TrialComponentName: 'split-wine-aws-processing-job' }));
    assert.equal(tc.Status?.PrimaryStatus, 'Completed');
    assert.equal(tc.Source?.SourceType, 'SageMakerProcessingJob');
    assert.equal(tc.InputArtifacts?.data?.Value, 's3://proc/raw');
    assert.deepEqual(tc.OutputArtifacts, { train: { Value: 's3://proc/out/train' }, test: { Value: 's3://proc/out/test' } });
    const trials = await sm.send(new ListTrialComponentsCommand({ ExperimentName: 'wine-prep' }));
    assert.deepEqual(trials.TrialComponentSummaries?.map((t) => t.TrialComponentName), ['split-wine-aws-processing-job']);

    const listed = await sm.send(new ListProcessingJobsCommand({ NameContains: 'split', StatusEquals: 'Completed' }));
    assert.deepEqual(listed.ProcessingJobSummaries?.map((s) => s.ProcessingJobName), ['split-wine']);
  });

  test('Continuous outputs reach S3 while the job runs; StopProcessingJob stops it and keeps its outputs', async () => {
    await sm.send(
      new CreateProcessingJobCommand(
        job('slow-writer', 'slow.py', {
          AppSpecification: { ImageUri: 'kiln/python', ContainerEntrypoint: ['python3', '/opt/ml/processing/input/code/slow.py', '/opt/ml/processing/parts'] },
          ProcessingOutputConfig: { Outputs: [{ OutputName: 'parts', S3Output: { S3Uri: 's3://proc/parts', LocalPath: '/opt/ml/processing/parts', S3UploadMode: 'Continuous' } }] },
        }),
      ),
    );
    let seen: string[] = [];
    for (let i = 0; i < 300 && !seen.length; i++) {
      seen = await keys('parts/');
      if (!seen.length) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(seen, ['parts/part-1.txt']);
    assert.equal((await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'slow-writer' }))).ProcessingJobStatus, 'InProgress');
    await sm.send(new StopProcessingJobCommand({ ProcessingJobName: 'slow-writer' }));
    const d = await finished('slow-writer');
    assert.equal(d.ProcessingJobStatus, 'Stopped');
    assert.equal(await body('parts/part-1.txt'), 'first part');
    await assert.rejects(sm.send(new StopProcessingJobCommand({ ProcessingJobName: 'slow-writer' })), /The request was rejected because the processing job is in status Stopped/);
  });

  test('StoppingCondition.MaxRuntimeInSeconds ends a job that runs too long', async () => {
    await sm.send(
      new CreateProcessingJobCommand(
        job('too-slow', 'slow.py', {
          AppSpecification: { ImageUri: 'kiln/python', ContainerEntrypoint: ['python3', '/opt/ml/processing/input/code/slow.py', '/opt/ml/processing/parts'] },
          StoppingCondition: { MaxRuntimeInSeconds: 1 },
        }),
      ),
    );
    const d = await finished('too-slow');
    assert.equal(d.ProcessingJobStatus, 'Failed');
    assert.match(d.FailureReason!, /^MaxRuntimeExceeded: Processing job ran longer than StoppingCondition\.MaxRuntimeInSeconds \(1 seconds\)/);
  });

  test('a failing container fails the job with its last error lines and ExitMessage from output/message', async () => {
    await sm.send(new CreateProcessingJobCommand(job('failing', 'fail.py')));
    const d = await finished('failing');
    assert.equal(d.ProcessingJobStatus, 'Failed');
    assert.match(d.FailureReason!, /^AlgorithmError: See job logs for more information\. The processing container ended with exit code 1: the data has 3 bad rows$/);
    assert.equal(d.ExitMessage, 'bad rows: 3');
  });

  test('requests SageMaker refuses, refused the same way', async () => {
    await assert.rejects(
      sm.send(new CreateProcessingJobCommand(job('outside', 'fail.py', { ProcessingInputs: [{ InputName: 'code', S3Input: { S3Uri: 's3://proc/code', LocalPath: '/etc/code', S3DataType: 'S3Prefix', S3InputMode: 'File' } }] }))),
      (e: Error) => e.name === 'ValidationException' && /LocalPath '\/etc\/code' must be an absolute path under \/opt\/ml\/processing\//.test(e.message),
    );
    await sm.send(new CreateProcessingJobCommand(job('twice', 'fail.py')));
    await assert.rejects(sm.send(new CreateProcessingJobCommand(job('twice', 'fail.py'))), (e: Error) => e.name === 'ResourceInUse' && /a job with this name already exists \(arn:aws:sagemaker:us-east-1:000000000000:processing-job\/twice\)/.test(e.message));
    await assert.rejects(sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'nope' })), (e: Error) => e.name === 'ValidationException' && /Could not find requested job with name nope/.test(e.message));
    const big = { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.c5.9xlarge' as const, VolumeSizeInGB: 5 } };
    const slow = { ImageUri: 'kiln/python', ContainerEntrypoint: ['python3', '/opt/ml/processing/input/code/slow.py', '/opt/ml/processing/parts'] };
    await sm.send(new CreateProcessingJobCommand(job('big-1', 'slow.py', { ProcessingResources: big, AppSpecification: slow })));
    await assert.rejects(sm.send(new CreateProcessingJobCommand(job('big-2', 'slow.py', { ProcessingResources: big, AppSpecification: slow }))), (e: Error) => {
      assert.equal(e.name, 'ResourceLimitExceeded');
      assert.match(e.message, /'ml\.c5\.9xlarge for processing job usage' is 1 Instances, with current utilization of 1 Instances/);
      return true;
    });
    await sm.send(new StopProcessingJobCommand({ ProcessingJobName: 'big-1' }));
    await sm.send(new CreateProcessingJobCommand(job('no-entry', 'fail.py', { AppSpecification: { ImageUri: SKLEARN_IMAGE } })));
    assert.match((await finished('no-entry')).FailureReason!, /ContainerEntrypoint is required/);
  });

  test('boto3 creates, waits for, lists and describes a processing job', async () => {
    const script = `
import boto3, sys, time
sm = boto3.client('sagemaker', endpoint_url=sys.argv[1], region_name='us-east-1')
sm.create_processing_job(
    ProcessingJobName='boto-split', RoleArn=sys.argv[3],
    AppSpecification={'ImageUri': sys.argv[2], 'ContainerEntrypoint': ['python3', '/opt/ml/processing/input/code/preprocess.py'],
                      'ContainerArguments': ['--input', '/opt/ml/processing/input/data']},
    Environment={'STAGE': 'boto'},
    ProcessingInputs=[
        {'InputName': 'code', 'S3Input': {'S3Uri': 's3://proc/code/preprocess.py', 'LocalPath': '/opt/ml/processing/input/code', 'S3DataType': 'S3Prefix', 'S3InputMode': 'File'}},
        {'InputName': 'data', 'S3Input': {'S3Uri': 's3://proc/raw/', 'LocalPath': '/opt/ml/processing/input/data', 'S3DataType': 'S3Prefix', 'S3InputMode': 'File'}}],
    ProcessingOutputConfig={'Outputs': [
        {'OutputName': 'train', 'S3Output': {'S3Uri': 's3://proc/boto/train', 'LocalPath': '/opt/ml/processing/train', 'S3UploadMode': 'EndOfJob'}},
        {'OutputName': 'test', 'S3Output': {'S3Uri': 's3://proc/boto/test', 'LocalPath': '/opt/ml/processing/test', 'S3UploadMode': 'EndOfJob'}}]},
    ProcessingResources={'ClusterConfig': {'InstanceCount': 1, 'InstanceType': 'ml.t3.medium', 'VolumeSizeInGB': 5}},
    StoppingCondition={'MaxRuntimeInSeconds': 300})
while sm.describe_processing_job(ProcessingJobName='boto-split')['ProcessingJobStatus'] in ('InProgress', 'Stopping'):
    time.sleep(0.2)
d = sm.describe_processing_job(ProcessingJobName='boto-split')
names = [s['ProcessingJobName'] for s in sm.list_processing_jobs(NameContains='boto')['ProcessingJobSummaries']]
print(d['ProcessingJobStatus'], d.get('FailureReason', ''), names)
`;
    const r = await run(PYTHON, ['-c', script, k.endpoint, SKLEARN_IMAGE, ROLE], { env: k.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "Completed  ['boto-split']");
    assert.deepEqual(await keys('boto/'), ['boto/test/test.csv', 'boto/train/train.csv']);
  });

  test('with a mount point for /opt/ml, a script that writes literal container paths works unchanged', async () => {
    // Stands in for /opt/ml, which Kiln uses only when it exists on the machine.
    const optMl = mkdtempSync(path.join(os.tmpdir(), 'kiln-opt-ml-'));
    process.env.KILN_CONTAINER_OPT_ML = optMl;
    try {
      const literal = `
import os
root = os.environ['CONTAINER_OPT_ML']
rows = sum(1 for _ in open(root + '/processing/input/data/winequality-red.csv')) - 1
os.makedirs(root + '/processing/count', exist_ok=True)
open(root + '/processing/count/rows.txt', 'w').write(str(rows))
`;
      await k.s3().send(new PutObjectCommand({ Bucket: 'proc', Key: 'code/literal.py', Body: literal }));
      await sm.send(
        new CreateProcessingJobCommand(
          job('literal-paths', 'literal.py', {
            Environment: { CONTAINER_OPT_ML: optMl },
            ProcessingInputs: [code('literal.py'), { InputName: 'data', S3Input: { S3Uri: 's3://proc/raw/', LocalPath: '/opt/ml/processing/input/data', S3DataType: 'S3Prefix', S3InputMode: 'File' } }],
            ProcessingOutputConfig: { Outputs: [{ OutputName: 'count', S3Output: { S3Uri: 's3://proc/literal', LocalPath: '/opt/ml/processing/count', S3UploadMode: 'EndOfJob' } }] },
          }),
        ),
      );
      const d = await finished('literal-paths');
      const log = await jobLog(logs, '/aws/sagemaker/ProcessingJobs', 'literal-paths');
      const mountable = (await run('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', 'mount --bind "$0" "$0"', optMl])).code === 0;
      if (mountable) {
        assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
        assert.ok(log.includes(`Kiln: the job's folder is mounted at ${optMl} (private mount namespace).`), log.join('\n'));
        assert.equal(await body('literal/rows.txt'), '1599');
        assert.deepEqual(readdirSync(optMl), [], 'the mount stayed inside the job');
      } else {
        assert.ok(log.some((l) => l.startsWith(`Kiln: the job's folder is not mounted at ${optMl}`)), log.join('\n'));
      }
    } finally {
      delete process.env.KILN_CONTAINER_OPT_ML;
      rmSync(optMl, { recursive: true, force: true });
    }
  });
});
