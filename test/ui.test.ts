/**
 * Kiln Studio driven in a real browser (Debian's Chromium through playwright-core) against a
 * real server: sign in, upload data, follow a training job started through the SDK, invoke an
 * endpoint from the invoke panel, clean up. Screenshots of each page go to test-artifacts/ui/.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  CreateEndpointCommand,
  AssociateTrialComponentCommand,
  CreateEndpointConfigCommand,
  CreateExperimentCommand,
  CreateModelCommand,
  CreateTrialCommand,
  CreateTrialComponentCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  waitUntilEndpointDeleted,
  waitUntilEndpointInService,
  waitUntilTrainingJobCompletedOrStopped,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { MetricsClient } from './helpers/metrics-client.ts';
import { CHURN_XGBOOST, HOTEL_BOOKINGS } from './helpers/shared-data.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHOTS = path.join(root, 'test-artifacts', 'ui');
const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
const TEST_ROW = readFileSync(path.join(CHURN_XGBOOST, 'test.csv'), 'utf8').split('\n')[0]!.trim();

describe('Kiln Studio in a browser', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  before(async () => {
    assert.ok(existsSync(path.join(root, 'ui', 'dist', 'index.html')), 'Kiln Studio is built (npm install runs npm run build:ui)');
    assert.ok(existsSync(CHROMIUM), `Chromium is installed at ${CHROMIUM} (Debian package chromium; .ci/run installs it)`);
    mkdirSync(SHOTS, { recursive: true });
    k = await startTestKiln();
    sm = new SageMakerClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (d) => void d.accept());
    // Script errors in the page fail the test that caused them, with the message.
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterEach(() => {
    assert.deepEqual(pageErrors.splice(0), [], 'no script errors in the page');
  });
  after(async () => {
    await browser?.close();
    sm?.destroy();
    await k?.stop();
  });

  test('signing in takes the key pair once and keeps the secret out of URLs', async () => {
    await page.goto(k.endpoint);
    await page.getByLabel('Access key ID').fill(k.credentials.accessKeyId);
    await page.getByLabel('Secret access key').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The access key ID or secret access key is not valid.').waitFor();
    await page.getByLabel('Secret access key').fill(k.credentials.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    assert.ok(!page.url().includes(k.credentials.secretAccessKey));
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'kiln_session');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(session?.sameSite, 'Strict');
    await shot('home-empty');
  });

  test('Storage: create a bucket and upload the churn CSVs', async () => {
    await page.goto(`${k.endpoint}/#/storage`);
    await page.getByLabel('bucket name').fill('studio');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('link', { name: 'studio' }).click();
    await page.getByLabel('upload files').setInputFiles([path.join(CHURN_XGBOOST, 'train.csv'), path.join(CHURN_XGBOOST, 'validation.csv')]);
    await page.getByText('Uploaded 2 file(s).').waitFor();
    await page.getByRole('link', { name: 'train.csv' }).waitFor();
    await page.getByRole('link', { name: 'validation.csv' }).waitFor();
    const listed = await k.s3().send(new (await import('@aws-sdk/client-s3')).ListObjectsV2Command({ Bucket: 'studio' }));
    assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.Size]), [
      ['train.csv', readFileSync(path.join(CHURN_XGBOOST, 'train.csv')).length],
      ['validation.csv', readFileSync(path.join(CHURN_XGBOOST, 'validation.csv')).length],
    ]);
    await shot('storage-bucket');
  });

  test('a training job started through the SDK runs to Completed with its log and error chart', async () => {
    const channel = (name: string) => ({ ChannelName: name, ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: `s3://studio/${name}.csv` } } });
    await sm.send(
      new CreateTrainingJobCommand({
        TrainingJobName: 'studio-churn',
        AlgorithmSpecification: { TrainingImage: 'kiln/xgboost:1.7-1', TrainingInputMode: 'File' },
        RoleArn: 'arn:aws:iam::000000000000:role/kiln',
        HyperParameters: { objective: 'binary:logistic', eval_metric: 'error', num_round: '40', max_depth: '5', eta: '0.2' },
        InputDataConfig: [channel('train'), channel('validation')],
        OutputDataConfig: { S3OutputPath: 's3://studio/output' },
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      }),
    );
    await page.goto(`${k.endpoint}/#/training`);
    await page.getByRole('link', { name: 'studio-churn' }).click();
    await page.getByRole('heading', { name: /studio-churn/ }).waitFor();
    await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 120, minDelay: 0.2, maxDelay: 0.5 }, { TrainingJobName: 'studio-churn' });
    await page.locator('.summary .status', { hasText: 'Completed' }).waitFor({ timeout: 15_000 });
    await page.getByLabel('log').getByText(/validation-error/).first().waitFor({ timeout: 15_000 });
    await page.getByRole('img', { name: 'metrics chart' }).locator('canvas').waitFor();
    const artifact = (await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'studio-churn' }))).ModelArtifacts!.S3ModelArtifacts!;
    await page.getByText(artifact).waitFor();
    await shot('training-job');
  });

  test('the invoke panel answers with the prediction the runtime gives', async () => {
    const artifact = (await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'studio-churn' }))).ModelArtifacts!.S3ModelArtifacts!;
    await sm.send(new CreateModelCommand({ ModelName: 'studio-churn', ExecutionRoleArn: 'arn:aws:iam::000000000000:role/kiln', PrimaryContainer: { Image: 'kiln/xgboost:1.7-1', ModelDataUrl: artifact } }));
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'studio-churn', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'studio-churn', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    await sm.send(new CreateEndpointCommand({ EndpointName: 'studio-churn', EndpointConfigName: 'studio-churn' }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 0.1, maxDelay: 0.3 }, { EndpointName: 'studio-churn' });
    const rt = new SageMakerRuntimeClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials });
    const expected = Buffer.from((await rt.send(new InvokeEndpointCommand({ EndpointName: 'studio-churn', ContentType: 'text/csv', Body: TEST_ROW }))).Body!).toString();
    rt.destroy();

    await page.goto(`${k.endpoint}/#/endpoints/studio-churn`);
    await page.getByLabel('request body').fill(TEST_ROW);
    await page.getByRole('button', { name: 'Invoke' }).click();
    const response = page.getByLabel('response');
    await response.waitFor();
    assert.equal((await response.textContent())?.trim(), expected);
    await page.getByLabel('request body').fill('not,a,number');
    await page.getByRole('button', { name: 'Invoke' }).click();
    await page.locator('.error pre', { hasText: /Received client error \(415\)/ }).waitFor();
    // One call through the SDK and two from the panel, one of them refused by the model.
    await page.getByLabel('invocations of AllTraffic').filter({ hasText: '3' }).waitFor();
    await page.getByRole('row', { name: /AllTraffic/ }).getByText('1 / 0').waitFor();
    await shot('endpoint-invoke');
  });

  test('Experiments: two runs logged as the SDK\'s Run logs them, compared in a bar and a line chart', async () => {
    const metrics = new MetricsClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials });
    await sm.send(new CreateExperimentCommand({ ExperimentName: 'keras-studio' }));
    await sm.send(new CreateTrialCommand({ TrialName: 'Default-Run-Group-keras-studio', ExperimentName: 'keras-studio' }));
    for (const [run, batch] of [['batch-10', 10], ['batch-20', 20]] as const) {
      const name = `keras-studio-${run}`;
      await sm.send(new CreateTrialComponentCommand({ TrialComponentName: name, DisplayName: run, Status: { PrimaryStatus: 'Completed' }, Parameters: { batch_size: { NumberValue: batch }, epochs: { NumberValue: 3 } } }));
      await sm.send(new AssociateTrialComponentCommand({ TrialComponentName: name, TrialName: 'Default-Run-Group-keras-studio' }));
      const points = [0, 1, 2].map((step) => ({ MetricName: 'val_loss', Step: step, Value: 1 / (step + 1) + batch / 100, Timestamp: new Date(Date.now() + step * 1000) }));
      const put = await metrics.batchPutMetrics(name, points);
      assert.equal(put.status, 200, JSON.stringify(put.body));
    }
    metrics.close();
    await page.goto(`${k.endpoint}/#/experiments`);
    await page.getByRole('link', { name: 'keras-studio' }).click();
    await page.getByText('batch-10', { exact: true }).waitFor();
    await page.getByText('batch-20', { exact: true }).waitFor();
    await page.getByLabel('compare batch-10').check();
    await page.getByLabel('compare batch-20').check();
    await page.getByRole('img', { name: 'compare bar chart' }).locator('canvas').waitFor();
    await page.getByRole('img', { name: 'compare line chart' }).locator('canvas').waitFor();
    // The series behind the line chart, as the console serves it to the page.
    const series = await page.evaluate(() => fetch('/_kiln/console/experiments/trial-components/keras-studio-batch-20/metrics', { headers: { 'x-kiln-console': '1' } }).then((r) => r.json()));
    assert.deepEqual(series.Metrics[0].Points.map((p: { Step: number; Value: number }) => [p.Step, p.Value]), [[0, 1.2], [1, 0.7], [2, 1 / 3 + 0.2]]);
    await shot('experiment-compare');
  });

  test('Data flows: the hotel flow\'s DAG, a node preview, its coloured histogram, and a transform added from the form', async () => {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await k.s3().send(new PutObjectCommand({ Bucket: 'studio', Key: 'hotel/hotel_bookings.csv', Body: readFileSync(HOTEL_BOOKINGS) }));
    const flow = {
      version: 1,
      nodes: [
        { id: 'bookings', type: 'source', operator: 'csv', parameters: { uri: 's3://studio/hotel/hotel_bookings.csv' } },
        { id: 'lead_time_histogram', type: 'analysis', operator: 'histogram', inputs: ['bookings'], parameters: { column: 'lead_time', colorBy: 'is_canceled', bins: 20 } },
      ],
    };
    // Created through the console's forward to the data-flow API, as the page's own calls are.
    const created = await page.evaluate(
      (body) => fetch('/_kiln/console/flows-api/flows', { method: 'POST', headers: { 'content-type': 'application/json', 'x-kiln-console': '1' }, body: JSON.stringify(body) }).then((r) => r.status),
      { name: 'hotel', flow },
    );
    assert.equal(created, 201);
    await page.goto(`${k.endpoint}/#/flows`);
    await page.getByRole('link', { name: 'hotel' }).click();
    await page.getByRole('button', { name: 'node bookings' }).click();
    const preview = page.getByRole('table', { name: 'preview' });
    await preview.waitFor();
    const shape = page.getByText(/rows × \d+ columns after/);
    await shape.waitFor();
    assert.match((await shape.textContent())!, /^19998 rows × 32 columns after bookings/);
    await page.getByRole('button', { name: 'node lead_time_histogram' }).click();
    await page.getByRole('img', { name: 'histogram chart' }).locator('canvas').waitFor();
    await page.getByText('Histogram of lead_time by is_canceled').waitFor();
    await shot('flow-histogram');

    await page.getByLabel('node kind').selectOption('transform');
    await page.getByLabel('operator').selectOption('manage_rows');
    await page.getByLabel('node id').fill('dedupe');
    await page.getByLabel('input node').selectOption('bookings');
    await page.getByLabel('parameters').fill('{"operator": "drop_duplicates"}');
    await page.getByRole('button', { name: 'Add node' }).click();
    await page.getByRole('button', { name: 'node dedupe' }).click();
    await page.getByText(/rows × 32 columns after/).waitFor();
    const rows = Number((await page.getByText(/rows × 32 columns after/).textContent())!.match(/^(\d+) rows/)![1]);
    assert.ok(rows > 0 && rows < 19998, `drop_duplicates kept ${rows} of 19998 rows`);
    await shot('flow-transform-added');
  });

  test('Home lists what runs, and the clean-up view deletes what is picked', async () => {
    await page.goto(`${k.endpoint}/#/`);
    await page.getByRole('link', { name: 'studio-churn' }).first().waitFor();
    await shot('home');
    await page.getByLabel('select studio-churn').check();
    await page.getByRole('button', { name: 'Stop or delete selected' }).click();
    await page.getByText('Done: 1 resource(s) stopped or deleted.').waitFor();
    await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.3 }, { EndpointName: 'studio-churn' });
    await assert.rejects(sm.send(new DescribeEndpointCommand({ EndpointName: 'studio-churn' })), (e: Error) => e.name === 'ValidationException');
  });

  test('the console API refuses calls without a session or without its header', async () => {
    const anonymous = await fetch(`${k.endpoint}/_kiln/console/api/sagemaker/ListTrainingJobs`, { method: 'POST', headers: { 'x-kiln-console': '1' }, body: '{}' });
    assert.equal(anonymous.status, 401);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'kiln_session')!;
    const noHeader = await fetch(`${k.endpoint}/_kiln/console/api/sagemaker/ListTrainingJobs`, { method: 'POST', headers: { cookie: `kiln_session=${cookie.value}` }, body: '{}' });
    assert.equal(noHeader.status, 403);
    const ok = await fetch(`${k.endpoint}/_kiln/console/api/sagemaker/ListTrainingJobs`, { method: 'POST', headers: { cookie: `kiln_session=${cookie.value}`, 'x-kiln-console': '1' }, body: '{}' });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).TrainingJobSummaries[0].TrainingJobName, 'studio-churn');
    const invalid = await fetch(`${k.endpoint}/_kiln/console/api/sagemaker/DescribeTrainingJob`, { method: 'POST', headers: { cookie: `kiln_session=${cookie.value}`, 'x-kiln-console': '1' }, body: '{"TrainingJobName": "bad name!"}' });
    assert.equal(invalid.status, 400);
    assert.equal((await invalid.json()).code, 'ValidationException');
  });
});
