import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  AddTagsCommand,
  CreateTrainingJobCommand,
  DeleteTagsCommand,
  DescribeTrainingJobCommand,
  ListTagsCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
  StopTrainingJobCommand,
  waitUntilTrainingJobCompletedOrStopped,
  type CreateTrainingJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { CloudWatchLogsClient, GetLogEventsCommand, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { CHURN_XGBOOST } from './helpers/shared-data.ts';
import { PYTHON, run } from './helpers/processes.ts';

const DATA = CHURN_XGBOOST;
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const CHURN_HPS = {
  max_depth: '5',
  eta: '0.2',
  gamma: '4',
  min_child_weight: '6',
  subsample: '0.8',
  objective: 'binary:logistic',
  eval_metric: 'error',
  num_round: '100',
};

/** Real xgboost 1.7 (Debian) on the same files and hyperparameters: its final validation error. */
async function referenceValidationError(): Promise<number> {
  const script = `
import numpy as np, xgboost as xgb
tr = np.loadtxt(${JSON.stringify(path.join(DATA, 'train.csv'))}, delimiter=',')
va = np.loadtxt(${JSON.stringify(path.join(DATA, 'validation.csv'))}, delimiter=',')
dtr = xgb.DMatrix(tr[:, 1:], label=tr[:, 0]); dva = xgb.DMatrix(va[:, 1:], label=va[:, 0])
params = dict(max_depth=5, eta=0.2, gamma=4, min_child_weight=6, subsample=0.8, objective='binary:logistic', eval_metric='error', tree_method='hist', nthread=2, seed=0)
res = {}
xgb.train(params, dtr, 100, evals=[(dtr, 'train'), (dva, 'validation')], evals_result=res, verbose_eval=False)
print(res['validation']['error'][-1])
`;
  const r = await run(PYTHON, ['-c', script]);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
}

describe('training jobs with the built-in XGBoost', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  let logs: CloudWatchLogsClient;
  let work: string;

  const jobInput = (name: string, over: Partial<CreateTrainingJobCommandInput> = {}): CreateTrainingJobCommandInput => ({
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
    RoleArn: 'arn:aws:iam::000000000000:role/kiln-training',
    HyperParameters: CHURN_HPS,
    InputDataConfig: [
      { ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://churn/data/train', S3DataDistributionType: 'FullyReplicated' } } },
      { ChannelName: 'validation', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://churn/data/validation' } } },
    ],
    OutputDataConfig: { S3OutputPath: 's3://churn/output' },
    ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    ...over,
  });
  const describeJob = (name: string) => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
  const waitDone = (name: string) => waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 300, minDelay: 1, maxDelay: 1 }, { TrainingJobName: name }).catch(() => undefined);
  const until = async (name: string, ok: (status: string, secondary: string) => boolean) => {
    for (let i = 0; i < 600; i++) {
      const d = await describeJob(name);
      if (ok(d.TrainingJobStatus!, d.SecondaryStatus!)) return d;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${name} never reached the expected state`);
  };

  before(async () => {
    k = await startTestKiln();
    const common = { endpoint: k.endpoint, region: k.region, credentials: k.credentials };
    sm = new SageMakerClient(common);
    logs = new CloudWatchLogsClient(common);
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-train-'));
    const s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'churn' }));
    await s3.send(new PutObjectCommand({ Bucket: 'churn', Key: 'data/train/train.csv', Body: readFileSync(path.join(DATA, 'train.csv')) }));
    await s3.send(new PutObjectCommand({ Bucket: 'churn', Key: 'data/validation/validation.csv', Body: readFileSync(path.join(DATA, 'validation.csv')) }));
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await k?.stop();
  });

  test('the churn job completes through @aws-sdk/client-sagemaker, agrees with real xgboost, and logs 100 rounds', async () => {
    const created = await sm.send(new CreateTrainingJobCommand(jobInput('churn-js', { Tags: [{ Key: 'project', Value: 'churn' }] })));
    assert.equal(created.TrainingJobArn, 'arn:aws:sagemaker:us-east-1:000000000000:training-job/churn-js');
    const early = await describeJob('churn-js');
    assert.equal(early.TrainingJobStatus, 'InProgress');

    await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 300, minDelay: 1, maxDelay: 2 }, { TrainingJobName: 'churn-js' });
    const d = await describeJob('churn-js');
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    assert.equal(d.SecondaryStatus, 'Completed');
    assert.deepEqual(d.SecondaryStatusTransitions!.map((t) => t.Status), ['Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
    assert.ok(d.SecondaryStatusTransitions!.every((t) => t.StartTime instanceof Date && t.EndTime instanceof Date));
    assert.ok(d.TrainingStartTime! <= d.TrainingEndTime!);
    assert.ok(d.TrainingTimeInSeconds! >= 1 && d.BillableTimeInSeconds === d.TrainingTimeInSeconds);
    assert.equal(d.ModelArtifacts?.S3ModelArtifacts, 's3://churn/output/churn-js/output/model.tar.gz');
    assert.deepEqual(d.HyperParameters, CHURN_HPS);

    const metrics = Object.fromEntries(d.FinalMetricDataList!.map((m) => [m.MetricName, m.Value]));
    const reference = await referenceValidationError();
    assert.ok(Math.abs(metrics['validation:error']! - reference) <= 0.01, `validation:error ${metrics['validation:error']} vs xgboost ${reference}`);
    assert.ok(metrics['train:error']! < 0.06);

    // The log stream: one per instance, named as SageMaker names it, 100 round lines.
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamNamePrefix: 'churn-js/' }));
    assert.equal(streams.logStreams?.length, 1);
    assert.match(streams.logStreams![0]!.logStreamName!, /^churn-js\/algo-1-\d{10}$/);
    const messages: string[] = [];
    let token: string | undefined;
    for (;;) {
      const page = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: streams.logStreams![0]!.logStreamName!, startFromHead: true, nextToken: token }));
      messages.push(...page.events!.map((e) => e.message!));
      if (page.nextForwardToken === token) break;
      token = page.nextForwardToken;
    }
    const rounds = messages.filter((m) => /^\[\d+\]#011train-error:[\d.]+#011validation-error:[\d.]+$/.test(m));
    assert.equal(rounds.length, 100);
    assert.match(rounds[0]!, /^\[0\]#011/);
    assert.match(rounds[99]!, /^\[99\]#011/);

    // The artifact is a real model.tar.gz that real xgboost loads and scores as Kiln reported.
    const tarball = await k.s3().send(new GetObjectCommand({ Bucket: 'churn', Key: 'output/churn-js/output/model.tar.gz' }));
    const file = path.join(work, 'model.tar.gz');
    writeFileSync(file, Buffer.from(await tarball.Body!.transformToByteArray()));
    const listing = await run('tar', ['-tzf', file]);
    assert.deepEqual(listing.stdout.trim().split('\n'), ['xgboost-model']);
    await run('tar', ['-xzf', file, '-C', work]);
    const check = await run(PYTHON, [
      '-c',
      `import numpy as np, xgboost as xgb
b = xgb.Booster(); b.load_model(${JSON.stringify(path.join(work, 'xgboost-model'))})
va = np.loadtxt(${JSON.stringify(path.join(DATA, 'validation.csv'))}, delimiter=',')
p = b.predict(xgb.DMatrix(va[:, 1:]))
print(float(np.mean((p > 0.5) != va[:, 0])))`,
    ]);
    assert.equal(check.code, 0, check.stderr);
    // the logged metric has xgboost's 5 significant digits
    assert.ok(Math.abs(Number(check.stdout.trim()) - metrics['validation:error']!) < 1e-5, `real xgboost scores the Kiln model at ${check.stdout.trim()}, Kiln said ${metrics['validation:error']}`);

    const tags = await sm.send(new ListTagsCommand({ ResourceArn: created.TrainingJobArn }));
    assert.deepEqual(tags.Tags, [{ Key: 'project', Value: 'churn' }]);
  });

  test('boto3 creates the churn job and its waiter sees it complete', async () => {
    const script = `
import boto3, os, json
sm = boto3.client('sagemaker', endpoint_url=os.environ['KILN_ENDPOINT'])
spec = json.loads(os.environ['JOB'])
sm.create_training_job(**spec)
sm.get_waiter('training_job_completed_or_stopped').wait(TrainingJobName=spec['TrainingJobName'], WaiterConfig={'Delay': 1, 'MaxAttempts': 300})
d = sm.describe_training_job(TrainingJobName=spec['TrainingJobName'])
print(json.dumps({'status': d['TrainingJobStatus'], 'metrics': {m['MetricName']: m['Value'] for m in d['FinalMetricDataList']}, 'artifact': d['ModelArtifacts']['S3ModelArtifacts']}))
`;
    const r = await run(PYTHON, ['-c', script], { env: { ...k.env, JOB: JSON.stringify(jobInput('churn-boto3')) } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 'Completed');
    assert.ok(out.metrics['validation:error'] < 0.09);
    assert.equal(out.artifact, 's3://churn/output/churn-boto3/output/model.tar.gz');
  });

  test('StopTrainingJob stops a long job; MaxRuntimeInSeconds fails one', async () => {
    const long = { ...CHURN_HPS, num_round: '1000000', max_depth: '8', subsample: '1', gamma: '0', min_child_weight: '1' };
    await sm.send(new CreateTrainingJobCommand(jobInput('long-stop', { HyperParameters: long })));
    await until('long-stop', (_s, secondary) => secondary === 'Training');
    await sm.send(new StopTrainingJobCommand({ TrainingJobName: 'long-stop' }));
    const stopping = await describeJob('long-stop');
    assert.ok(['Stopping', 'Stopped'].includes(stopping.TrainingJobStatus!));
    await waitDone('long-stop');
    const stopped = await describeJob('long-stop');
    assert.equal(stopped.TrainingJobStatus, 'Stopped');
    assert.equal(stopped.SecondaryStatus, 'Stopped');
    await assert.rejects(sm.send(new StopTrainingJobCommand({ TrainingJobName: 'long-stop' })), /in status Stopped/);

    await sm.send(new CreateTrainingJobCommand(jobInput('long-timeout', { HyperParameters: long, StoppingCondition: { MaxRuntimeInSeconds: 3 } })));
    const failed = await until('long-timeout', (s) => s === 'Failed' || s === 'Completed');
    assert.equal(failed.TrainingJobStatus, 'Failed');
    assert.equal(failed.SecondaryStatus, 'MaxRuntimeExceeded');
    assert.match(failed.FailureReason!, /MaxRuntimeInSeconds \(3 seconds\)/);
  });

  test('a bad hyperparameter, a missing channel and an unknown image fail the job with a clear reason', async () => {
    await sm.send(new CreateTrainingJobCommand(jobInput('bad-eta', { HyperParameters: { ...CHURN_HPS, eta: '2' } })));
    await sm.send(new CreateTrainingJobCommand(jobInput('no-data', { InputDataConfig: [{ ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://churn/nothing-here' } } }] })));
    await sm.send(new CreateTrainingJobCommand(jobInput('no-train', { InputDataConfig: [jobInput('x').InputDataConfig![1]!] })));
    await sm.send(new CreateTrainingJobCommand(jobInput('bad-image', { AlgorithmSpecification: { TrainingImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own:latest', TrainingInputMode: 'File' } })));
    const reasons: Record<string, string> = {};
    for (const name of ['bad-eta', 'no-data', 'no-train', 'bad-image']) {
      const d = await until(name, (s) => s !== 'InProgress');
      assert.equal(d.TrainingJobStatus, 'Failed', name);
      assert.equal(d.SecondaryStatus, 'Failed');
      reasons[name] = d.FailureReason!;
    }
    assert.match(reasons['bad-eta']!, /^ClientError: .*eta/);
    assert.match(reasons['no-data']!, /^ClientError: No S3 objects found under S3 URL "s3:\/\/churn\/nothing-here"/);
    assert.match(reasons['no-train']!, /^ClientError: .*'train'/);
    assert.match(reasons['bad-image']!, /^ClientError: .*my-own/);
  });

  test('create checks: duplicate names, quotas, validation; list filters, sorts and pages; tags', async () => {
    await assert.rejects(sm.send(new CreateTrainingJobCommand(jobInput('churn-js'))), (e: Error) => e.name === 'ResourceInUse');
    await assert.rejects(
      sm.send(new CreateTrainingJobCommand(jobInput('bad count', {}))),
      (e: Error) => e.name === 'ValidationException' && /'bad count' at 'trainingJobName'/.test(e.message),
    );
    const long = { ...CHURN_HPS, num_round: '1000000', max_depth: '8', subsample: '1', gamma: '0' };
    await sm.send(new CreateTrainingJobCommand(jobInput('quota-1', { HyperParameters: long, ResourceConfig: { InstanceType: 'ml.c5.9xlarge', InstanceCount: 1, VolumeSizeInGB: 10 } })));
    await assert.rejects(
      sm.send(new CreateTrainingJobCommand(jobInput('quota-2', { ResourceConfig: { InstanceType: 'ml.c5.9xlarge', InstanceCount: 1, VolumeSizeInGB: 10 } }))),
      (e: Error) => e.name === 'ResourceLimitExceeded' && /ml.c5.9xlarge for training job usage/.test(e.message),
    );
    await sm.send(new StopTrainingJobCommand({ TrainingJobName: 'quota-1' }));
    await waitDone('quota-1');

    const all = await sm.send(new ListTrainingJobsCommand({ SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 100 }));
    const names = all.TrainingJobSummaries!.map((s) => s.TrainingJobName!);
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('churn-js') && names.includes('quota-1'));
    const failed = await sm.send(new ListTrainingJobsCommand({ StatusEquals: 'Failed', NameContains: 'bad-' }));
    assert.deepEqual(failed.TrainingJobSummaries!.map((s) => s.TrainingJobName).sort(), ['bad-eta', 'bad-image']);
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await sm.send(new ListTrainingJobsCommand({ MaxResults: 2, NextToken: token }));
      assert.ok(page.TrainingJobSummaries!.length <= 2);
      paged.push(...page.TrainingJobSummaries!.map((s) => s.TrainingJobName!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual([...paged].sort(), [...names].sort());
    const newest = await sm.send(new ListTrainingJobsCommand({ MaxResults: 1 }));
    assert.equal(newest.TrainingJobSummaries![0]!.TrainingJobName, 'quota-1', 'CreationTime descending by default');

    const arn = (await describeJob('bad-eta')).TrainingJobArn!;
    await sm.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'stage', Value: 'dev' }] }));
    await sm.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ['stage'] }));
    assert.deepEqual((await sm.send(new ListTagsCommand({ ResourceArn: arn }))).Tags, [{ Key: 'team', Value: 'ml' }]);
    await assert.rejects(sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'never-was' })), (e: Error) => e.name === 'ValidationException' && e.message === 'Requested resource not found.');
  });
});
