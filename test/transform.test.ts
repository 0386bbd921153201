import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelCommand,
  CreateTransformJobCommand,
  DescribeTransformJobCommand,
  DescribeTrialComponentCommand,
  SearchCommand,
  ListTransformJobsCommand,
  SageMakerClient,
  StopTransformJobCommand,
  waitUntilTransformJobCompletedOrStopped,
  type CreateTransformJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { CHURN_XGBOOST } from './helpers/shared-data.ts';
import { PYTHON, run } from './helpers/processes.ts';

const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const ROLE = 'arn:aws:iam::000000000000:role/kiln-transform';
/** The course's batch file: label in column 0, then the 69 features. */
const BATCH_ROWS = readFileSync(path.join(CHURN_XGBOOST, 'batch_data.csv'), 'utf8').trim().split('\n');
const FEATURE_ROWS = BATCH_ROWS.map((r) => r.slice(r.indexOf(',') + 1));

/** Real xgboost 1.7 trains the churn model, packs it as SageMaker does, and predicts the batch file offline. */
const MAKE_MODEL = `
import sys, os, json, tarfile, numpy as np, xgboost as xgb
out, data = sys.argv[1], sys.argv[2]
tr = np.loadtxt(os.path.join(data, 'train.csv'), delimiter=',')
batch = np.loadtxt(os.path.join(data, 'batch_data.csv'), delimiter=',')
b = xgb.train(dict(max_depth=5, eta=0.2, gamma=4, min_child_weight=6, subsample=0.8, objective='binary:logistic', tree_method='hist', nthread=2, seed=0), xgb.DMatrix(tr[:, 1:], label=tr[:, 0]), 50)
f = os.path.join(out, 'xgboost-model')
b.save_model(f)
with tarfile.open(os.path.join(out, 'model.tar.gz'), 'w:gz') as t: t.add(f, arcname='xgboost-model')
json.dump([float(x) for x in b.predict(xgb.DMatrix(batch[:, 1:]))], open(os.path.join(out, 'preds.json'), 'w'))
`;

describe('batch transform', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  let s3: S3Client;
  let work: string;
  let expected: number[];

  const getText = async (bucket: string, key: string) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { text: await r.Body!.transformToString(), contentType: r.ContentType };
  };
  const put = (Key: string, Body: string | Buffer) => s3.send(new PutObjectCommand({ Bucket: 'batch', Key, Body }));
  const transform = async (input: Partial<CreateTransformJobCommandInput> & { TransformJobName: string }) => {
    await sm.send(
      new CreateTransformJobCommand({
        ModelName: 'churn',
        TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://batch/in/features/' } }, ContentType: 'text/csv', SplitType: 'Line' },
        TransformOutput: { S3OutputPath: `s3://batch/out/${input.TransformJobName}/`, AssembleWith: 'Line' },
        TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
        ...input,
      } as CreateTransformJobCommandInput),
    );
    await waitUntilTransformJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 0.05, maxDelay: 0.25 }, { TransformJobName: input.TransformJobName }).catch(() => undefined);
    return sm.send(new DescribeTransformJobCommand({ TransformJobName: input.TransformJobName }));
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-transform-'));
    const made = await run(PYTHON, ['-c', MAKE_MODEL, work, CHURN_XGBOOST]);
    assert.equal(made.code, 0, made.stderr);
    expected = JSON.parse(readFileSync(path.join(work, 'preds.json'), 'utf8'));
    k = await startTestKiln();
    sm = new SageMakerClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials });
    s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'batch' }));
    await put('models/churn/model.tar.gz', readFileSync(path.join(work, 'model.tar.gz')));
    await put('in/features/batch_data.csv', `${FEATURE_ROWS.join('\n')}\n`);
    await put('in/labelled/batch_data.csv', `${BATCH_ROWS.join('\n')}\n`);
    await sm.send(new CreateModelCommand({ ModelName: 'churn', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: 's3://batch/models/churn/model.tar.gz' } }));
  });
  after(async () => {
    sm?.destroy();
    s3?.destroy();
    await k?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test("the course's MultiRecord transform writes one prediction per input line, as xgboost predicts offline", async () => {
    const job = await transform({ TransformJobName: 'churn-batch', BatchStrategy: 'MultiRecord', MaxPayloadInMB: 1 });
    assert.equal(job.TransformJobStatus, 'Completed', job.FailureReason);
    assert.equal(job.BatchStrategy, 'MultiRecord');
    assert.equal(job.TransformInput?.SplitType, 'Line');
    assert.equal(job.TransformOutput?.AssembleWith, 'Line');
    assert.ok(job.TransformStartTime && job.TransformEndTime && job.TransformEndTime >= job.TransformStartTime);
    const { text, contentType } = await getText('batch', 'out/churn-batch/batch_data.csv.out');
    assert.equal(contentType, 'text/csv');
    const lines = text.split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines.length, FEATURE_ROWS.length);
    lines.forEach((l, i) => assert.ok(close(Number(l), expected[i]!), `row ${i}: ${l} vs ${expected[i]}`));

    const logs = new CloudWatchLogsClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials });
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/sagemaker/TransformJobs', logStreamNamePrefix: 'churn-batch/' }));
    logs.destroy();
    const names = (streams.logStreams ?? []).map((s) => s.logStreamName);
    assert.ok(names.includes('churn-batch/data-log'), names.join(', '));
    assert.ok(names.some((n) => /^churn-batch\/i-[0-9a-f]+$/.test(n!)), names.join(', '));
  });

  test('a small MaxPayloadInMB and MaxConcurrentTransforms 1 still keep the input order', async () => {
    const big = Array.from({ length: 20 }, () => FEATURE_ROWS).flat();
    await put('in/big/rows.csv', `${big.join('\n')}\n`);
    const job = await transform({
      TransformJobName: 'churn-ordered',
      BatchStrategy: 'MultiRecord',
      MaxPayloadInMB: 1,
      MaxConcurrentTransforms: 1,
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://batch/in/big/' } }, ContentType: 'text/csv', SplitType: 'Line' },
    });
    assert.equal(job.TransformJobStatus, 'Completed', job.FailureReason);
    const lines = (await getText('batch', 'out/churn-ordered/rows.csv.out')).text.trim().split('\n');
    assert.equal(lines.length, big.length);
    lines.forEach((l, i) => assert.ok(close(Number(l), expected[i % FEATURE_ROWS.length]!), `row ${i}`));
  });

  test('InputFilter drops the label, JoinSource Input joins it back, OutputFilter keeps label and prediction', async () => {
    const job = await transform({
      TransformJobName: 'churn-joined',
      BatchStrategy: 'MultiRecord',
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://batch/in/labelled/' } }, ContentType: 'text/csv', SplitType: 'Line' },
      TransformOutput: { S3OutputPath: 's3://batch/out/churn-joined/', AssembleWith: 'Line', Accept: 'text/csv' },
      DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' },
    });
    assert.equal(job.TransformJobStatus, 'Completed', job.FailureReason);
    assert.deepEqual(job.DataProcessing, { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' });
    const lines = (await getText('batch', 'out/churn-joined/batch_data.csv.out')).text.trim().split('\n');
    assert.equal(lines.length, BATCH_ROWS.length);
    lines.forEach((l, i) => {
      const [label, score, ...rest] = l.split(',');
      assert.equal(rest.length, 0, l);
      assert.equal(label, BATCH_ROWS[i]!.split(',')[0]);
      assert.ok(close(Number(score), expected[i]!), `row ${i}`);
    });
  });

  test('JSON Lines records: InputFilter $.features, predictions joined under SageMakerOutput', async () => {
    const jsonl = FEATURE_ROWS.slice(0, 25).map((r, i) => JSON.stringify({ id: `c-${i}`, features: r.split(',').map(Number) }));
    await put('in/jsonl/customers.jsonl', `${jsonl.join('\n')}\n`);
    const job = await transform({
      TransformJobName: 'churn-jsonl',
      BatchStrategy: 'SingleRecord',
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://batch/in/jsonl/' } }, ContentType: 'application/jsonlines', SplitType: 'Line' },
      TransformOutput: { S3OutputPath: 's3://batch/out/churn-jsonl/', AssembleWith: 'Line', Accept: 'application/jsonlines' },
      DataProcessing: { InputFilter: '$.features', JoinSource: 'Input', OutputFilter: "$['id','SageMakerOutput']" },
    });
    assert.equal(job.TransformJobStatus, 'Completed', job.FailureReason);
    const { text, contentType } = await getText('batch', 'out/churn-jsonl/customers.jsonl.out');
    assert.equal(contentType, 'application/jsonlines');
    const rows = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 25);
    rows.forEach((row, i) => {
      assert.equal(row[0], `c-${i}`);
      assert.ok(close(row[1].score, expected[i]!), JSON.stringify(row));
    });
  });

  test('boto3: gzip input through a manifest, SingleRecord, waiter, list and describe', async () => {
    await put('in/gz/part-1.csv.gz', gzipSync(`${FEATURE_ROWS.slice(0, 40).join('\n')}\n`));
    await put('in/gz/part-2.csv.gz', gzipSync(`${FEATURE_ROWS.slice(40, 100).join('\r\n')}\r\n`));
    await put('in/manifest.json', JSON.stringify([{ prefix: 's3://batch/in/gz/' }, 'part-1.csv.gz', 'part-2.csv.gz']));
    const script = `
import boto3, json, os
sm = boto3.client('sagemaker', endpoint_url=os.environ['KILN_ENDPOINT'])
s3 = boto3.client('s3', endpoint_url=os.environ['KILN_ENDPOINT'])
sm.create_transform_job(
    TransformJobName='churn-boto3', ModelName='churn', BatchStrategy='SingleRecord', MaxConcurrentTransforms=2,
    TransformInput={'DataSource': {'S3DataSource': {'S3DataType': 'ManifestFile', 'S3Uri': 's3://batch/in/manifest.json'}},
                    'ContentType': 'text/csv', 'CompressionType': 'Gzip', 'SplitType': 'Line'},
    TransformOutput={'S3OutputPath': 's3://batch/out/churn-boto3', 'AssembleWith': 'Line'},
    TransformResources={'InstanceType': 'ml.m5.xlarge', 'InstanceCount': 1},
    Tags=[{'Key': 'team', 'Value': 'churn'}])
sm.get_waiter('transform_job_completed_or_stopped').wait(TransformJobName='churn-boto3', WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
d = sm.describe_transform_job(TransformJobName='churn-boto3')
jobs = sm.list_transform_jobs(NameContains='churn-boto', StatusEquals='Completed')['TransformJobSummaries']
outs = {k: s3.get_object(Bucket='batch', Key='out/churn-boto3/' + k)['Body'].read().decode() for k in ('part-1.csv.gz.out', 'part-2.csv.gz.out')}
tags = sm.list_tags(ResourceArn=d['TransformJobArn'])['Tags']
print(json.dumps({'status': d['TransformJobStatus'], 'reason': d.get('FailureReason'), 'arn': d['TransformJobArn'], 'listed': [j['TransformJobName'] for j in jobs], 'outs': outs, 'tags': tags}))
`;
    const r = await run(PYTHON, ['-c', script], { env: k.env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 'Completed', out.reason);
    assert.match(out.arn, /^arn:aws:sagemaker:[a-z0-9-]+:\d{12}:transform-job\/churn-boto3$/);
    assert.deepEqual(out.listed, ['churn-boto3']);
    assert.deepEqual(out.tags, [{ Key: 'team', Value: 'churn' }]);
    const first = out.outs['part-1.csv.gz.out'].trim().split('\n').map(Number);
    const second = out.outs['part-2.csv.gz.out'].trim().split('\n').map(Number);
    assert.equal(first.length, 40);
    assert.equal(second.length, 60);
    [...first, ...second].forEach((v, i) => assert.ok(close(v, expected[i]!), `row ${i}`));
  });

  test('a transform job with ExperimentConfig becomes a trial component of that experiment', async () => {
    const job = await transform({
      TransformJobName: 'churn-tracked',
      BatchStrategy: 'MultiRecord',
      ExperimentConfig: { ExperimentName: 'churn-experiment', TrialName: 'churn-trial', TrialComponentDisplayName: 'batch-scoring' },
    });
    assert.equal(job.TransformJobStatus, 'Completed', job.FailureReason);
    const tc = await sm.send(new DescribeTrialComponentCommand({ TrialComponentName: 'churn-tracked-aws-transform-job' }));
    assert.equal(tc.DisplayName, 'batch-scoring');
    assert.equal(tc.Status?.PrimaryStatus, 'Completed');
    assert.deepEqual(tc.Source, { SourceArn: job.TransformJobArn, SourceType: 'SageMakerTransformJob' });
    assert.equal(tc.Parameters?.['SageMaker.ModelName']?.StringValue, 'churn');
    assert.equal(tc.InputArtifacts?.['SageMaker.TransformInput']?.Value, 's3://batch/in/features/');
    assert.equal(tc.OutputArtifacts?.['SageMaker.TransformOutput']?.Value, 's3://batch/out/churn-tracked/');
    const found = await sm.send(new SearchCommand({ Resource: 'ExperimentTrialComponent', SearchExpression: { Filters: [{ Name: 'Parents.ExperimentName', Operator: 'Equals', Value: 'churn-experiment' }] } }));
    assert.deepEqual(found.Results?.map((r) => r.TrialComponent?.TrialComponentName), ['churn-tracked-aws-transform-job']);
  });

  test('bad requests are refused with the error SageMaker answers', async () => {
    const base = {
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: 's3://batch/in/features/' } }, ContentType: 'text/csv', SplitType: 'Line' as const },
      TransformOutput: { S3OutputPath: 's3://batch/out/x/' },
      TransformResources: { InstanceType: 'ml.m5.large' as const, InstanceCount: 1 },
    };
    await assert.rejects(sm.send(new CreateTransformJobCommand({ TransformJobName: 'no-model', ModelName: 'missing', ...base })), (e: Error) => {
      assert.equal(e.name, 'ValidationException');
      assert.match(e.message, /Could not find model "missing"/);
      return true;
    });
    await assert.rejects(
      sm.send(new CreateTransformJobCommand({ TransformJobName: 'too-much', ModelName: 'churn', MaxPayloadInMB: 50, MaxConcurrentTransforms: 4, ...base })),
      (e: Error) => e.name === 'ValidationException' && /MaxConcurrentTransforms/.test(e.message),
    );
    await assert.rejects(sm.send(new CreateTransformJobCommand({ TransformJobName: 'churn-batch', ModelName: 'churn', ...base })), (e: Error) => e.name === 'ResourceInUse');
    await assert.rejects(sm.send(new DescribeTransformJobCommand({ TransformJobName: 'never-made' })), (e: Error) => e.name === 'ValidationException');
    await assert.rejects(sm.send(new StopTransformJobCommand({ TransformJobName: 'churn-batch' })), (e: Error) => e.name === 'ValidationException' && /Completed/.test(e.message));
    const listed = await sm.send(new ListTransformJobsCommand({ SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 2 }));
    assert.equal(listed.TransformJobSummaries?.length, 2);
    assert.ok(listed.NextToken);
  });

  test('a malformed row fails the job with the container’s reason, and a record over MaxPayloadInMB fails clearly', async () => {
    await put('in/bad/rows.csv', `${FEATURE_ROWS[0]}\nnot,a,number\n`);
    const bad = await transform({
      TransformJobName: 'churn-bad-row',
      BatchStrategy: 'SingleRecord',
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://batch/in/bad/' } }, ContentType: 'text/csv', SplitType: 'Line' },
    });
    assert.equal(bad.TransformJobStatus, 'Failed');
    assert.match(bad.FailureReason ?? '', /ClientError: The model container answered 415 .*rows\.csv/);

    await put('in/huge/one.csv', `${Array.from({ length: 20_000 }, () => FEATURE_ROWS[0]).join(',')}\n`);
    const huge = await transform({
      TransformJobName: 'churn-huge-record',
      MaxPayloadInMB: 1,
      BatchStrategy: 'MultiRecord',
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://batch/in/huge/' } }, ContentType: 'text/csv', SplitType: 'Line' },
    });
    assert.equal(huge.TransformJobStatus, 'Failed');
    assert.match(huge.FailureReason ?? '', /larger than MaxPayloadInMB \(1 MB\)/);
  });

  test('StopTransformJob stops a running job', async () => {
    const many = Array.from({ length: 300 }, () => FEATURE_ROWS).flat();
    await put('in/slow/rows.csv', `${many.join('\n')}\n`);
    await sm.send(
      new CreateTransformJobCommand({
        TransformJobName: 'churn-stopped',
        ModelName: 'churn',
        BatchStrategy: 'SingleRecord',
        MaxConcurrentTransforms: 1,
        TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://batch/in/slow/' } }, ContentType: 'text/csv', SplitType: 'Line' },
        TransformOutput: { S3OutputPath: 's3://batch/out/churn-stopped/' },
        TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
      }),
    );
    await sm.send(new StopTransformJobCommand({ TransformJobName: 'churn-stopped' }));
    await waitUntilTransformJobCompletedOrStopped({ client: sm, maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.25 }, { TransformJobName: 'churn-stopped' });
    const d = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'churn-stopped' }));
    assert.equal(d.TransformJobStatus, 'Stopped');
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'batch', Key: 'out/churn-stopped/rows.csv.out' })), (e: Error) => e.name === 'NoSuchKey');
  });
});
