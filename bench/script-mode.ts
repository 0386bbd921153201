/**
 * Script mode end to end through the real clients, against a `kiln serve` child process: the
 * course's wine-quality job (scikit-learn random forest, --estimators 20) from
 * CreateTrainingJob to Completed, its endpoint from CreateEndpoint to InService, and
 * InvokeEndpoint latency through the course's own handlers (sequential, BENCH_INVOCATIONS).
 * The anchors: the same train.py run directly with the same interpreter; for the overhead
 * before user code runs, CreateTrainingJob → the first line of a script (it prints the
 * time); for serving, the same invocation loop against the built-in XGBoost runtime.
 *
 *   node --import tsx bench/script-mode.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { spawnKiln } from '../test/helpers/child-server.ts';
import { sdkHyperparameters, sourceTarball } from '../test/helpers/script-mode.ts';
import { CHURN_XGBOOST, WINE_QUALITY } from '../test/helpers/shared-data.ts';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

const here = path.dirname(fileURLToPath(import.meta.url));
const INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? 200);
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:0.23-1-cpu-py3';
const TRAIN_PY = readFileSync(path.join(here, '..', 'test', 'fixtures', 'wine-quality', 'train.py'), 'utf8');
const credentials = { accessKeyId: 'AKIAKILNBENCH0000005', secretAccessKey: 'kiln-bench-secret-5' };
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-script-'));
const kiln = await spawnKiln({ KILN_DATA_DIR: dataDir, KILN_LOG_LEVEL: 'warn', KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey });
const s3 = new S3Client({ endpoint: kiln.url, region: 'us-east-1', credentials, forcePathStyle: true });
const sm = new SageMakerClient({ endpoint: kiln.url, region: 'us-east-1', credentials });
const rt = new SageMakerRuntimeClient({ endpoint: kiln.url, region: 'us-east-1', credentials });

try {
  const lines = readFileSync(path.join(WINE_QUALITY, 'winequality-red.csv'), 'utf8').trim().split('\n');
  const trainCsv = `${[lines[0], ...lines.slice(1, 529)].join('\n')}\n`;
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'wine/train/train.csv', Body: trainCsv }));
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'wine/source/sourcedir.tar.gz', Body: await sourceTarball({ 'train.py': TRAIN_PY }) }));
  const source = 's3://bench/wine/source/sourcedir.tar.gz';

  // Anchor: the script alone, on the same interpreter and data.
  const direct = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-direct-'));
  writeFileSync(path.join(direct, 'train.csv'), trainCsv);
  writeFileSync(path.join(direct, 'train.py'), TRAIN_PY);
  const d0 = performance.now();
  execFileSync('/usr/bin/python3', ['train.py', '--estimators', '20'], { cwd: direct, env: { ...process.env, SM_MODEL_DIR: direct, SM_CHANNEL_TRAIN: direct } });
  const directMs = performance.now() - d0;
  rmSync(direct, { recursive: true, force: true });

  const t0 = performance.now();
  await sm.send(
    new CreateTrainingJobCommand({
      TrainingJobName: 'wine-bench',
      AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
      RoleArn: 'arn:aws:iam::000000000000:role/bench',
      HyperParameters: sdkHyperparameters({ estimators: 20 }, 'train.py', source),
      InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bench/wine/train' } } }],
      OutputDataConfig: { S3OutputPath: 's3://bench/out' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
      StoppingCondition: { MaxRuntimeInSeconds: 600 },
    }),
  );
  let job;
  for (;;) {
    job = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'wine-bench' }));
    if (job.TrainingJobStatus !== 'InProgress') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const trainingMs = performance.now() - t0;
  if (job.TrainingJobStatus !== 'Completed') throw new Error(`wine-bench: ${job.TrainingJobStatus} ${job.FailureReason ?? ''}`);

  await sm.send(
    new CreateModelCommand({
      ModelName: 'wine-bench',
      ExecutionRoleArn: 'arn:aws:iam::000000000000:role/bench',
      PrimaryContainer: { Image: IMAGE, ModelDataUrl: job.ModelArtifacts!.S3ModelArtifacts, Environment: { SAGEMAKER_PROGRAM: 'train.py', SAGEMAKER_SUBMIT_DIRECTORY: source } },
    }),
  );
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'wine-bench', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'wine-bench', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
  const e0 = performance.now();
  await sm.send(new CreateEndpointCommand({ EndpointName: 'wine-bench', EndpointConfigName: 'wine-bench' }));
  for (;;) {
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'wine-bench' }));
    if (d.EndpointStatus !== 'Creating') {
      if (d.EndpointStatus !== 'InService') throw new Error(`endpoint: ${d.EndpointStatus} ${d.FailureReason ?? ''}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const endpointMs = performance.now() - e0;

  const body = JSON.stringify({ Input: [[5.3, 0.47, 0.11, 2.2, 0.048, 16, 89, 0.99182, 3.54, 0.88, 13.56666667]] });
  const latencies: number[] = [];
  let output = '';
  for (let i = 0; i < INVOCATIONS; i++) {
    const i0 = performance.now();
    const r = await rt.send(new InvokeEndpointCommand({ EndpointName: 'wine-bench', ContentType: 'application/json', Body: body }));
    latencies.push(performance.now() - i0);
    output = Buffer.from(r.Body!).toString();
  }

  // Create → the first line of user code: a script whose first statement prints the time.
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'first/sourcedir.tar.gz', Body: await sourceTarball({ 'first.py': 'import time\nprint("KILN_FIRST_LINE", time.time())\n' }) }));
  const wait = async (name: string) => {
    for (;;) {
      const d = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
      if (d.TrainingJobStatus !== 'InProgress') return d;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const firstLineMs: number[] = [];
  const logs = new CloudWatchLogsClient({ endpoint: kiln.url, region: 'us-east-1', credentials });
  for (let i = 0; i < 5; i++) {
    const name = `first-line-${i}`;
    const created = Date.now();
    await sm.send(
      new CreateTrainingJobCommand({
        TrainingJobName: name,
        AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
        RoleArn: 'arn:aws:iam::000000000000:role/bench',
        HyperParameters: sdkHyperparameters({}, 'first.py', 's3://bench/first/sourcedir.tar.gz'),
        InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bench/wine/train' } } }],
        OutputDataConfig: { S3OutputPath: 's3://bench/out' },
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      }),
    );
    const done = await wait(name);
    if (done.TrainingJobStatus !== 'Completed') throw new Error(`${name}: ${done.TrainingJobStatus} ${done.FailureReason ?? ''}`);
    const events = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamNamePrefix: `${name}/`, filterPattern: 'KILN_FIRST_LINE' }));
    const printed = Number(/KILN_FIRST_LINE ([\d.]+)/.exec(events.events?.[0]?.message ?? '')?.[1]);
    firstLineMs.push(printed * 1000 - created);
  }
  logs.destroy();

  // The built-in runtime, invoked the same way: Kiln's XGBoost trained on churn, one CSV row per call.
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'churn/train.csv', Body: readFileSync(path.join(CHURN_XGBOOST, 'train.csv')) }));
  await sm.send(
    new CreateTrainingJobCommand({
      TrainingJobName: 'churn-builtin',
      AlgorithmSpecification: { TrainingImage: 'kiln/xgboost:1.7-1', TrainingInputMode: 'File' },
      RoleArn: 'arn:aws:iam::000000000000:role/bench',
      HyperParameters: { objective: 'binary:logistic', num_round: '50', max_depth: '5' },
      InputDataConfig: [{ ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bench/churn/' } } }],
      OutputDataConfig: { S3OutputPath: 's3://bench/out' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
      StoppingCondition: { MaxRuntimeInSeconds: 600 },
    }),
  );
  const churn = await wait('churn-builtin');
  await sm.send(new CreateModelCommand({ ModelName: 'churn-builtin', ExecutionRoleArn: 'arn:aws:iam::000000000000:role/bench', PrimaryContainer: { Image: 'kiln/xgboost:1.7-1', ModelDataUrl: churn.ModelArtifacts!.S3ModelArtifacts } }));
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'churn-builtin', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'churn-builtin', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
  await sm.send(new CreateEndpointCommand({ EndpointName: 'churn-builtin', EndpointConfigName: 'churn-builtin' }));
  while ((await sm.send(new DescribeEndpointCommand({ EndpointName: 'churn-builtin' }))).EndpointStatus === 'Creating') await new Promise((r) => setTimeout(r, 10));
  const row = readFileSync(path.join(CHURN_XGBOOST, 'test.csv'), 'utf8').split('\n')[0]!;
  const builtin: number[] = [];
  for (let i = 0; i < INVOCATIONS; i++) {
    const i0 = performance.now();
    await rt.send(new InvokeEndpointCommand({ EndpointName: 'churn-builtin', ContentType: 'text/csv', Body: row }));
    builtin.push(performance.now() - i0);
  }

  const result = {
    createToFirstLineOfUserCodeMs: { median: Math.round(percentile(firstLineMs, 0.5)), all: firstLineMs.map(Math.round) },
    builtinInvokeMsP50: Number(percentile(builtin, 0.5).toFixed(2)),
    builtinInvokeMsP99: Number(percentile(builtin, 0.99).toFixed(2)),
    trainScriptDirectMs: Math.round(directMs),
    createTrainingJobToCompletedMs: Math.round(trainingMs),
    trainingTimeInSeconds: job.TrainingTimeInSeconds,
    createEndpointToInServiceMs: Math.round(endpointMs),
    invocations: INVOCATIONS,
    invokeMsP50: Number(percentile(latencies, 0.5).toFixed(2)),
    invokeMsP99: Number(percentile(latencies, 0.99).toFixed(2)),
    output,
    node: process.version,
    cpus: os.availableParallelism(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'script-mode.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  kiln.child.kill('SIGTERM');
  await kiln.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
