/**
 * Kiln Studio page loads against a big store: 10,000 training jobs (and as many transform
 * jobs) and 10,000 experiment runs with 20 parameters and 10 metrics each, each page opened
 * in Chromium and timed from navigation until its content shows.
 * The bar is under 1 s per page.
 *
 *   node --import tsx bench/studio.ts       (BENCH_JOBS=10000 by default)
 *
 * Needs Debian's chromium and a built UI (npm install builds it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AssociateTrialComponentCommand, CreateExperimentCommand, CreateTrialCommand, CreateTrialComponentCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ResourceRepository } from '../src/store/metadata/resources.ts';
import { MetricsClient } from '../test/helpers/metrics-client.ts';
import { startTestKiln } from '../test/helpers/kiln.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const k = await startTestKiln();
const arn = (kind: string, name: string) => `arn:aws:sagemaker:${k.region}:000000000000:${kind}/${name}`;

// Seed the store as finished jobs would leave it (the Describe documents the engines write).
const training = new ResourceRepository<Record<string, any>>(k.kiln.metadata, 'training-job', (d) => ({ name: d.TrainingJobName, arn: d.TrainingJobArn, status: d.TrainingJobStatus, creationTime: d.CreationTime, lastModifiedTime: d.LastModifiedTime }));
const transforms = new ResourceRepository<Record<string, any>>(k.kiln.metadata, 'transform-job', (d) => ({ name: d.TransformJobName, arn: d.TransformJobArn, status: d.TransformJobStatus, creationTime: d.CreationTime, lastModifiedTime: d.LastModifiedTime }));
const base = Date.now() - JOBS * 60_000;
const seeded = performance.now();
for (let i = 0; i < JOBS; i++) {
  const at = new Date(base + i * 60_000);
  const end = new Date(at.getTime() + 30_000);
  const name = `job-${String(i).padStart(6, '0')}`;
  const status = i % 17 === 0 ? 'Failed' : 'Completed';
  await training.insert({
    TrainingJobName: name,
    TrainingJobArn: arn('training-job', name),
    TrainingJobStatus: status,
    SecondaryStatus: status,
    HyperParameters: { objective: 'binary:logistic', num_round: String(50 + (i % 100)), max_depth: String(3 + (i % 6)), eta: '0.2' },
    AlgorithmSpecification: { TrainingImage: 'kiln/xgboost:1.7-1', TrainingInputMode: 'File' },
    OutputDataConfig: { S3OutputPath: 's3://bench/out' },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    CreationTime: at,
    TrainingStartTime: at,
    TrainingEndTime: end,
    LastModifiedTime: end,
    SecondaryStatusTransitions: [{ Status: 'Starting', StartTime: at, EndTime: at, StatusMessage: 'Preparing the instances for training' }, { Status: status, StartTime: end, EndTime: end, StatusMessage: status }],
    FinalMetricDataList: [{ MetricName: 'validation:error', Value: 0.06 + (i % 10) / 1000, Timestamp: end }],
    ...(status === 'Failed' ? { FailureReason: 'AlgorithmError: seeded failure' } : {}),
  });
  await transforms.insert({
    TransformJobName: name,
    TransformJobArn: arn('transform-job', name),
    TransformJobStatus: 'Completed',
    ModelName: 'm',
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bench/in/' } }, ContentType: 'text/csv', SplitType: 'Line', CompressionType: 'None' },
    TransformOutput: { S3OutputPath: 's3://bench/out/', AssembleWith: 'Line' },
    TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
    CreationTime: at,
    TransformStartTime: at,
    TransformEndTime: end,
    LastModifiedTime: end,
  });
}
// Runs go in through the API, as the SDK's Run would log them (16 callers at a time).
const RUNS = Number(process.env.BENCH_RUNS ?? JOBS);
const sm = new SageMakerClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials, maxAttempts: 1 });
const metrics = new MetricsClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials });
await sm.send(new CreateExperimentCommand({ ExperimentName: 'bench' }));
await sm.send(new CreateTrialCommand({ TrialName: 'Default-Run-Group-bench', ExperimentName: 'bench' }));
let next = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    for (let i = next++; i < RUNS; i = next++) {
      const name = `bench-run-${String(i).padStart(6, '0')}`;
      const Parameters = Object.fromEntries(Array.from({ length: 20 }, (_, p) => [`param_${p}`, { NumberValue: ((i * 7919 + p * 104729) % 1000) / 10 }]));
      await sm.send(new CreateTrialComponentCommand({ TrialComponentName: name, DisplayName: `run-${i}`, Parameters, Status: { PrimaryStatus: 'Completed' } }));
      await sm.send(new AssociateTrialComponentCommand({ TrialComponentName: name, TrialName: 'Default-Run-Group-bench' }));
      await metrics.batchPutMetrics(name, Array.from({ length: 10 }, (_, m) => ({ MetricName: `metric_${m}`, Timestamp: new Date(), Step: 0, Value: ((i * 31 + m * 17) % 997) / 997 })));
    }
  }),
);
metrics.close();
sm.destroy();
const seedSeconds = (performance.now() - seeded) / 1000;

const browser = await chromium.launch({
  executablePath: process.env.KILN_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results: Record<string, number[]> = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(k.endpoint);
  await page.getByLabel('Access key ID').fill(k.credentials.accessKeyId);
  await page.getByLabel('Secret access key').fill(k.credentials.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Home' }).waitFor();
  const last = `job-${String(JOBS - 1).padStart(6, '0')}`;
  const pages: [string, string, () => Promise<void>][] = [
    ['home', '/#/', () => page.getByRole('link', { name: last }).first().waitFor()],
    ['training-list', '/#/training', () => page.getByRole('link', { name: last }).waitFor()],
    ['training-filtered', '/#/training', async () => {
      await page.getByLabel('status filter').selectOption('Failed');
      await page.getByRole('link', { name: `job-${String(Math.floor((JOBS - 1) / 17) * 17).padStart(6, '0')}` }).waitFor();
    }],
    ['training-detail', `/#/training/${last}`, () => page.getByText('validation:error').waitFor()],
    ['transforms-list', '/#/transforms', () => page.getByRole('link', { name: last }).waitFor()],
    ['transform-detail', `/#/transforms/${last}`, () => page.getByText('s3://bench/in/').waitFor()],
    ['experiments-list', '/#/experiments', () => page.getByRole('link', { name: 'bench' }).waitFor()],
    ['experiment-runs', '/#/experiments/bench', () => page.getByText('run-99', { exact: true }).waitFor()],
    ['storage', '/#/storage', () => page.getByRole('heading', { name: 'Storage' }).waitFor()],
    ['endpoints', '/#/endpoints', () => page.getByText('No endpoints').waitFor()],
  ];
  for (let round = 0; round < 3; round++) {
    for (const [name, route, ready] of pages) {
      await page.goto('about:blank');
      const t0 = performance.now();
      await page.goto(`${k.endpoint}${route}`);
      await ready();
      (results[name] ??= []).push(performance.now() - t0);
    }
  }
} finally {
  await browser.close();
  await k.stop();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result = {
  jobs: JOBS,
  runs: RUNS,
  loadAverage: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100),
  seedSeconds: Math.round(seedSeconds * 10) / 10,
  pageLoadMs: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { median: Math.round(median(v)), max: Math.round(Math.max(...v)) }])),
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'studio.json'), `${JSON.stringify(result, null, 2)}\n`);
