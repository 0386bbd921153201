/**
 * Training-job latency through the real client: how long CreateTrainingJob takes to answer
 * and to show InProgress, when the algorithm starts training, and the whole churn job
 * end to end, against a `kiln serve` child process. (SageMaker itself takes minutes to
 * provision an instance before Training starts.)
 *
 *   node --import tsx bench/training-jobs.ts      (BENCH_JOBS=5 by default)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { spawnKiln } from '../test/helpers/child-server.ts';
import { CHURN_XGBOOST } from '../test/helpers/shared-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA = CHURN_XGBOOST;
const JOBS = Number(process.env.BENCH_JOBS ?? 5);
const credentials = { accessKeyId: 'AKIAKILNBENCH0000002', secretAccessKey: 'kiln-bench-secret-2' };

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-train-'));
const kiln = await spawnKiln({ KILN_DATA_DIR: dataDir, KILN_LOG_LEVEL: 'warn', KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey });
const s3 = new S3Client({ endpoint: kiln.url, region: 'us-east-1', credentials, forcePathStyle: true });
const sm = new SageMakerClient({ endpoint: kiln.url, region: 'us-east-1', credentials });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'train/train.csv', Body: readFileSync(path.join(DATA, 'train.csv')) }));
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'validation/validation.csv', Body: readFileSync(path.join(DATA, 'validation.csv')) }));
  const samples = { createMs: [] as number[], toInProgressMs: [] as number[], toTrainingMs: [] as number[], toCompletedMs: [] as number[] };
  let validationError = NaN;
  for (let i = 0; i < JOBS; i++) {
    const name = `bench-${i}`;
    const t0 = performance.now();
    await sm.send(
      new CreateTrainingJobCommand({
        TrainingJobName: name,
        AlgorithmSpecification: { TrainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', TrainingInputMode: 'File' },
        RoleArn: 'arn:aws:iam::000000000000:role/bench',
        HyperParameters: { max_depth: '5', eta: '0.2', gamma: '4', min_child_weight: '6', subsample: '0.8', objective: 'binary:logistic', eval_metric: 'error', num_round: '100' },
        InputDataConfig: [
          { ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bench/train' } } },
          { ChannelName: 'validation', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bench/validation' } } },
        ],
        OutputDataConfig: { S3OutputPath: 's3://bench/out' },
        ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 10 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      }),
    );
    samples.createMs.push(performance.now() - t0);
    let sawInProgress = false;
    let sawTraining = false;
    for (;;) {
      const d = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
      const now = performance.now() - t0;
      if (!sawInProgress && d.TrainingJobStatus) {
        sawInProgress = true;
        samples.toInProgressMs.push(now);
      }
      if (!sawTraining && (d.SecondaryStatus === 'Training' || d.TrainingJobStatus !== 'InProgress')) {
        sawTraining = true;
        samples.toTrainingMs.push(now);
      }
      if (d.TrainingJobStatus !== 'InProgress') {
        if (d.TrainingJobStatus !== 'Completed') throw new Error(`${name}: ${d.TrainingJobStatus} ${d.FailureReason ?? ''}`);
        samples.toCompletedMs.push(now);
        validationError = d.FinalMetricDataList!.find((m) => m.MetricName === 'validation:error')!.Value!;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const result = {
    jobs: JOBS,
    createCallMsMedian: median(samples.createMs),
    createToInProgressMsMedian: median(samples.toInProgressMs),
    createToTrainingMsMedian: median(samples.toTrainingMs),
    createToCompletedMsMedian: median(samples.toCompletedMs),
    churnValidationError: validationError,
    samples,
    node: process.version,
    cpus: os.availableParallelism(),
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'training-jobs.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  kiln.child.kill('SIGTERM');
  await kiln.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
