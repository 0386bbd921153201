import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  DescribeTrialComponentCommand,
  SageMakerClient,
  StopProcessingJobCommand,
  waitUntilProcessingJobCompletedOrStopped,
  type CreateProcessingJobCommandInput,
  type ProcessingOutput,
} from '@aws-sdk/client-sagemaker';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DuckSession } from '../src/engine/data/duck.ts';
import { literal } from '../src/engine/data/sql.ts';
import { KilnApiClient } from '../src/services/kiln-api/client.ts';
import { killStartedKilns, spawnKiln } from './helpers/child-server.ts';
import { COURSE_NODES, pandasReference } from './helpers/hotel-flow.ts';
import { STUDIO_IDS, studioHotelFlow } from './helpers/studio-hotel-flow.ts';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { PYTHON, run } from './helpers/processes.ts';
import { jobLog } from './helpers/script-mode.ts';
import { HOTEL_BOOKINGS } from './helpers/shared-data.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

after(killStartedKilns);

/** What `sagemaker.image_uris.retrieve('data-wrangler', 'us-east-1')` returns. */
const DW_IMAGE = '663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:3.x';
const ROLE = 'arn:aws:iam::000000000000:role/kiln-data-wrangler';
const OUT = 's3://hotels/export/output';

/** A flow whose one statement keeps DuckDB busy for minutes (a sum over 10^11 numbers), to stop. */
const SLOW_FLOW = {
  version: 1,
  nodes: [
    { id: 'seed', type: 'source', operator: 'csv', parameters: { uri: 's3://hotels/small/seed.csv' } },
    { id: 'busy', type: 'transform', operator: 'custom_sql', inputs: ['seed'], parameters: { sql: 'SELECT count(*) AS n, sum(r.range % 7) AS s FROM df, range(100000000000) r' } },
    { id: 'busy_out', type: 'destination', operator: 's3', inputs: ['busy'], parameters: { uri: 's3://hotels/slow/' } },
  ],
};

const flowInput = (uri: string) => ({
  InputName: 'flow',
  S3Input: { S3Uri: uri, LocalPath: '/opt/ml/processing/flow', S3DataType: 'S3Prefix' as const, S3InputMode: 'File' as const, S3DataDistributionType: 'FullyReplicated' as const },
});
const output = (name: string, uri = OUT): ProcessingOutput => ({
  OutputName: name,
  S3Output: { S3Uri: uri, LocalPath: `/opt/ml/processing/output/${name.replace('.', '-')}`, S3UploadMode: 'EndOfJob' },
});

describe('flows exported as Data Wrangler processing jobs', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  let logs: CloudWatchLogsClient;
  let ref: Record<string, number>;
  let work: string;

  const job = (name: string, over: Partial<CreateProcessingJobCommandInput> = {}): CreateProcessingJobCommandInput => ({
    ProcessingJobName: name,
    RoleArn: ROLE,
    AppSpecification: { ImageUri: DW_IMAGE },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 30 } },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    ProcessingInputs: [flowInput('s3://hotels/data_wrangler_flows/hotel.flow')],
    ProcessingOutputConfig: { Outputs: [output('train_out.default')] },
    ...over,
  });
  const finished = async (name: string) => {
    await waitUntilProcessingJobCompletedOrStopped({ client: sm, maxWaitTime: 300, minDelay: 0.2, maxDelay: 0.5 }, { ProcessingJobName: name }).catch(() => undefined);
    return sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
  };
  const keys = async (prefix: string) => ((await k.s3().send(new ListObjectsV2Command({ Bucket: 'hotels', Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
  const text = async (key: string) => (await k.s3().send(new GetObjectCommand({ Bucket: 'hotels', Key: key }))).Body!.transformToString();
  const csvRows = async (key: string) => (await text(key)).trim().split('\n').length - 1;
  const parquetRows = async (key: string) => {
    const file = path.join(work, `${key.replaceAll('/', '_')}`);
    writeFileSync(file, await (await k.s3().send(new GetObjectCommand({ Bucket: 'hotels', Key: key }))).Body!.transformToByteArray());
    const duck = await DuckSession.open({ threads: 1 });
    try {
      return Number((await duck.query(`SELECT count(*) AS n FROM read_parquet(${literal(file)})`))[0]!.n);
    } finally {
      await duck.close();
    }
  };

  before(async () => {
    k = await startTestKiln();
    const cfg = { endpoint: k.endpoint, region: k.region, credentials: k.credentials };
    sm = new SageMakerClient(cfg);
    logs = new CloudWatchLogsClient(cfg);
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-dw-jobs-'));
    const s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'hotels' }));
    const csv = readFileSync(HOTEL_BOOKINGS);
    await s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'raw/hotel_bookings.csv', Body: csv }));
    await s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'landing/2024/hotel_bookings.csv', Body: csv }));
    await s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'small/seed.csv', Body: 'a\n1\n' }));

    // The course's flow, built through Kiln's API and exported as a .flow file to S3, as Data Wrangler's notebook uploads it.
    const api = new KilnApiClient(k.endpoint, k.credentials, k.region);
    await api.request('POST', '/_kiln/api/flows', { name: 'hotel-bookings' });
    for (const node of COURSE_NODES) await api.request('POST', '/_kiln/api/flows/hotel-bookings/nodes', { node });
    const exported = await api.request<Record<string, unknown>>('GET', '/_kiln/api/flows/hotel-bookings/file');
    await s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'data_wrangler_flows/hotel.flow', Body: JSON.stringify(exported) }));
    await s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'data_wrangler_flows/slow.flow', Body: JSON.stringify(SLOW_FLOW) }));
    await s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'data_wrangler_flows/studio-hotel.flow', Body: JSON.stringify(studioHotelFlow('s3://hotels/raw/hotel_bookings.csv', 's3://hotels/studio/')) }));
    ref = await pandasReference();
  });
  after(async () => {
    await k?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the JavaScript SDK runs the hotel flow as a processing job: outputs per node, formats, partitions, logs, experiment', async () => {
    const outputConfig = { 'train_out.default': { content_type: 'PARQUET' }, 'validation_out.default': { content_type: 'CSV', delimiter: ';' } };
    await sm.send(
      new CreateProcessingJobCommand(
        job('hotel-dw-sdk', {
          AppSpecification: {
            ImageUri: DW_IMAGE,
            ContainerArguments: [`--output-config '${JSON.stringify(outputConfig)}'`, `--refit-trained-params '{"refit": false, "output_flow": "hotel-refit.flow"}'`],
          },
          ProcessingInputs: [
            flowInput('s3://hotels/data_wrangler_flows/hotel.flow'),
            // Named after the source node: the source reads this data instead of its own uri.
            { InputName: 'bookings', S3Input: { S3Uri: 's3://hotels/landing/', LocalPath: '/opt/ml/processing/bookings', S3DataType: 'S3Prefix', S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated' } },
          ],
          ProcessingOutputConfig: { Outputs: [output('train_out.default'), output('validation_out.default'), output('test_out.default')] },
          ExperimentConfig: { ExperimentName: 'hotel-prep', TrialName: 'hotel-prep-dw' },
        }),
      ),
    );
    const d = await finished('hotel-dw-sdk');
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.equal(d.AppSpecification?.ImageUri, DW_IMAGE);
    assert.ok(d.ProcessingStartTime! <= d.ProcessingEndTime!);

    // Data Wrangler's layout: <S3Uri>/<job name>/<node id>/<output>/.
    const prefix = 'export/output/hotel-dw-sdk/';
    const written = await keys(prefix);
    assert.ok(written.includes(`${prefix}train_out/default/part-00000.parquet`), written.join(' '));
    assert.ok(written.includes(`${prefix}validation_out/default/part-00000.csv`), written.join(' '));
    // The destination partitions by hotel (the shared data set holds the resort hotel only).
    const partitions = written.filter((key) => key.startsWith(`${prefix}test_out/default/hotel=`));
    assert.deepEqual(partitions, [`${prefix}test_out/default/hotel=Resort%20Hotel/data_0.csv`]);
    assert.equal(await parquetRows(`${prefix}train_out/default/part-00000.parquet`), ref.train);
    assert.equal(await csvRows(`${prefix}validation_out/default/part-00000.csv`), ref.validation);
    assert.match((await text(`${prefix}validation_out/default/part-00000.csv`)).split('\n')[0]!, /^hotel;is_canceled;lead_time;/);
    let testRows = 0;
    for (const key of partitions) testRows += await csvRows(key);
    assert.equal(testRows, ref.test);

    const log = await jobLog(logs, '/aws/sagemaker/ProcessingJobs', 'hotel-dw-sdk');
    assert.ok(log.includes(`Kiln: source 'bookings' reads ProcessingInput 'bookings' (s3://hotels/landing/)`), log.join('\n'));
    assert.ok(log.some((l) => l.startsWith(`Kiln: output 'train_out.default': ${ref.train} rows of split.train written as PARQUET`)), log.join('\n'));
    assert.ok(log.some((l) => l.startsWith('Kiln: --refit-trained-params:')), log.join('\n'));

    const tc = await sm.send(new DescribeTrialComponentCommand({ TrialComponentName: 'hotel-dw-sdk-aws-processing-job' }));
    assert.equal(tc.Status?.PrimaryStatus, 'Completed');
    assert.equal(tc.InputArtifacts?.flow?.Value, 's3://hotels/data_wrangler_flows/hotel.flow');
    assert.deepEqual(Object.keys(tc.OutputArtifacts ?? {}).sort(), ['test_out.default', 'train_out.default', 'validation_out.default']);
  });

  test('boto3 runs it with the processing_job_completed_or_stopped waiter, writing a split share and a transform node', async () => {
    const script = `
import boto3, sys
endpoint, image, role = sys.argv[1:4]
sm = boto3.client('sagemaker', endpoint_url=endpoint, region_name='us-east-1')
s3 = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1')
out = {'OutputName': '', 'S3Output': {'S3Uri': 's3://hotels/boto/output', 'LocalPath': '/opt/ml/processing/output', 'S3UploadMode': 'EndOfJob'}}
sm.create_processing_job(
    ProcessingJobName='hotel-dw-boto', RoleArn=role,
    AppSpecification={'ImageUri': image},
    ProcessingInputs=[{'InputName': 'flow', 'S3Input': {'S3Uri': 's3://hotels/data_wrangler_flows/hotel.flow', 'LocalPath': '/opt/ml/processing/flow',
                       'S3DataType': 'S3Prefix', 'S3InputMode': 'File', 'S3DataDistributionType': 'FullyReplicated'}}],
    ProcessingOutputConfig={'Outputs': [dict(out, OutputName='split.train'), dict(out, OutputName='children_outliers.default')]},
    ProcessingResources={'ClusterConfig': {'InstanceCount': 1, 'InstanceType': 'ml.m5.xlarge', 'VolumeSizeInGB': 30}},
    StoppingCondition={'MaxRuntimeInSeconds': 600})
sm.get_waiter('processing_job_completed_or_stopped').wait(ProcessingJobName='hotel-dw-boto', WaiterConfig={'Delay': 1, 'MaxAttempts': 300})
d = sm.describe_processing_job(ProcessingJobName='hotel-dw-boto')
counts = {}
for item in s3.list_objects_v2(Bucket='hotels', Prefix='boto/output/hotel-dw-boto/')['Contents']:
    body = s3.get_object(Bucket='hotels', Key=item['Key'])['Body'].read().decode()
    counts[item['Key']] = len(body.strip().split('\\n')) - 1
print(d['ProcessingJobStatus'], d.get('FailureReason', ''))
print(sorted(counts.items()))
`;
    const r = await run(PYTHON, ['-c', script, k.endpoint, 'kiln/data-wrangler', ROLE], { env: k.env });
    assert.equal(r.code, 0, r.stderr);
    const [status, counts] = r.stdout.trim().split('\n');
    assert.equal(status!.trim(), 'Completed');
    assert.equal(
      counts,
      `[('boto/output/hotel-dw-boto/children_outliers/default/part-00000.csv', ${ref.children_outliers}), ('boto/output/hotel-dw-boto/split/train/part-00000.csv', ${ref.train})]`,
    );
  });

  test('kiln flow export-job uploads the .flow and starts the processing job, as the "Save to S3" notebook does', async () => {
    const r = await run(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'src/cli/kiln.ts'), 'flow', 'export-job', 'hotel-bookings', '--output', 'train_out=s3://hotels/cli-export', '--output', 'split.validation=s3://hotels/cli-export', '--format', 'parquet', '--job-name', 'hotel-cli', '--wait'],
      { env: k.env, cwd: root },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^uploaded flow hotel-bookings to s3:\/\/hotels\/data_wrangler_flows\/hotel-cli\.flow$/m);
    assert.match(r.stdout, /^train_out\.default → s3:\/\/hotels\/cli-export\/hotel-cli\/train_out\/default\/$/m);
    assert.match(r.stdout, /^hotel-cli Completed$/m);
    const d = await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'hotel-cli' }));
    assert.equal(d.AppSpecification?.ImageUri, DW_IMAGE);
    assert.equal(await parquetRows('cli-export/hotel-cli/train_out/default/part-00000.parquet'), ref.train);
    assert.equal(await parquetRows('cli-export/hotel-cli/split/validation/part-00000.parquet'), ref.validation);
    const bad = await run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/kiln.ts'), 'flow', 'export-job', 'hotel-bookings', '--output', 'nope=s3://hotels/cli-export', '--job-name', 'hotel-cli-bad', '--wait'], { env: k.env, cwd: root });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^hotel-cli-bad Failed: ClientError: ProcessingOutput 'nope\.default' names no node of the flow/m);
  });

  test('a .flow written by SageMaker Data Wrangler in Studio runs as the processing job and imports into Kiln', async () => {
    const I = STUDIO_IDS;
    await sm.send(new CreateProcessingJobCommand(job('hotel-dw-studio', {
      ProcessingInputs: [flowInput('s3://hotels/data_wrangler_flows/studio-hotel.flow')],
      ProcessingOutputConfig: { Outputs: [output(`${I.trainData}.default`, 's3://hotels/studio-job'), output(`${I.split}.Validation`, 's3://hotels/studio-job'), output(`${I.outliers}.default`, 's3://hotels/studio-job')] },
    })));
    const d = await finished('hotel-dw-studio');
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.equal(await csvRows(`studio-job/hotel-dw-studio/${I.trainData}/default/part-00000.csv`), ref.train);
    assert.equal(await csvRows(`studio-job/hotel-dw-studio/${I.split}/Validation/part-00000.csv`), ref.validation);
    const outliers = await text(`studio-job/hotel-dw-studio/${I.outliers}/default/part-00000.csv`);
    assert.equal(outliers.trim().split('\n').length - 1, ref.children_outliers);
    assert.equal(outliers.slice(0, outliers.indexOf('\n')).split(',').length, ref.one_hot_columns, 'one-hot keeps every category, as drop_last: false asks');
    const log = await jobLog(logs, '/aws/sagemaker/ProcessingJobs', 'hotel-dw-studio');
    assert.ok(log.some((l) => l === `Kiln: studio-hotel.flow: visualization ${I.quickModel} (sagemaker.visualizations.quick_model_0.1) has no Kiln analysis and was left out`), log.join('\n'));

    const api = new KilnApiClient(k.endpoint, k.credentials, k.region);
    const created = await api.request<{ importNotes?: string[]; flow: { nodes: { id: string; operator: string }[] } }>('POST', '/_kiln/api/flows', { name: 'studio-hotel', flow: studioHotelFlow('s3://hotels/raw/hotel_bookings.csv', 's3://hotels/studio/') });
    assert.equal(created.importNotes?.length, 1);
    assert.equal(created.flow.nodes.find((n) => n.id === I.outliers)?.operator, 'handle_outliers');
    const preview = await api.request<{ rowCount: number }>('POST', '/_kiln/api/flows/studio-hotel/preview', { node: I.dropDuplicates });
    assert.equal(preview.rowCount, ref.drop_duplicates);
  });

  test('bad jobs fail with a reason that says what is wrong', async () => {
    const s3 = k.s3();
    await s3.send(
      new PutObjectCommand({
        Bucket: 'hotels',
        Key: 'data_wrangler_flows/studio.flow',
        Body: JSON.stringify({ metadata: { version: 1 }, nodes: [{ node_id: '7f6515d7', type: 'SOURCE', operator: 'sagemaker.s3_source_0.1', parameters: {}, inputs: [], outputs: [{ name: 'default' }] }] }),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: 'hotels',
        Key: 'data_wrangler_flows/broken.flow',
        Body: JSON.stringify({ version: 1, nodes: [COURSE_NODES[0], { id: 'js', type: 'transform', operator: 'custom_javascript', inputs: ['bookings'], parameters: { code: 'return rows.map((r) => r.nope.length);' } }] }),
      }),
    );
    const cases: [string, Partial<CreateProcessingJobCommandInput>, RegExp][] = [
      ['dw-no-flow', { ProcessingInputs: [] }, /^ClientError: A Data Wrangler job needs a ProcessingInput named 'flow' whose S3Input is the \.flow file \(LocalPath \/opt\/ml\/processing\/flow\)/],
      ['dw-no-node', { ProcessingOutputConfig: { Outputs: [output('nope.default')] } }, /^ClientError: ProcessingOutput 'nope\.default' names no node of the flow: no node 'nope' in this flow; its nodes are bookings, types, /],
      ['dw-analysis', { ProcessingOutputConfig: { Outputs: [output('quality.default')] } }, /^ClientError: ProcessingOutput 'quality\.default' names no table of the flow: node 'quality' is an analysis/],
      ['dw-split', { ProcessingOutputConfig: { Outputs: [output('split.default')] } }, /node 'split' has named outputs; write one of split\.train, split\.validation, split\.test/],
      ['dw-bad-account', { AppSpecification: { ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:3.x' } }, /^ClientError: Kiln cannot run image .*: 123456789012 is not SageMaker's Data Wrangler registry for us-east-1 \(expected 663277389841\)/],
      ['dw-unknown-image', { AppSpecification: { ImageUri: 'kiln/nothing:1' } }, /^ClientError: Kiln cannot run image 'kiln\/nothing:1'.* Processing jobs also run Data Wrangler flows \(663277389841\.dkr\.ecr\.us-east-1\.amazonaws\.com\/sagemaker-data-wrangler-container:3\.x or kiln\/data-wrangler\)/],
      ['dw-studio-format', { ProcessingInputs: [flowInput('s3://hotels/data_wrangler_flows/studio.flow')] }, /^ClientError: The flow file studio\.flow cannot run on Kiln: Data Wrangler node '7f6515d7' \(sagemaker\.s3_source_0\.1\): 'dataset_definition' is missing/],
      ['dw-flow-fails', { ProcessingInputs: [flowInput('s3://hotels/data_wrangler_flows/broken.flow')], ProcessingOutputConfig: { Outputs: [output('js.default')] } }, /^ClientError: The flow failed: node 'js' \(custom_javascript\): .*TypeError: Cannot read properties of undefined \(reading 'length'\)/],
      [
        'dw-missing-data',
        { ProcessingInputs: [flowInput('s3://hotels/data_wrangler_flows/hotel.flow'), { InputName: 'bookings', S3Input: { S3Uri: 's3://hotels/nowhere/', LocalPath: '/opt/ml/processing/bookings', S3DataType: 'S3Prefix', S3InputMode: 'File' } }] },
        /^ClientError: The flow failed: no objects at s3:\/\/hotels\/nowhere\//,
      ],
      ['dw-bad-config', { AppSpecification: { ImageUri: DW_IMAGE, ContainerArguments: [`--output-config '{"other.default": {"content_type": "CSV"}}'`] } }, /^ClientError: --output-config names 'other\.default', which is not the OutputName of a ProcessingOutput of this job/],
    ];
    // One after the other: ml.m5.large allows four jobs at a time.
    for (const [name, over, reason] of cases) {
      await sm.send(new CreateProcessingJobCommand(job(name, over)));
      const d = await finished(name);
      assert.equal(d.ProcessingJobStatus, 'Failed', name);
      assert.match(d.FailureReason!, reason, name);
    }
    assert.deepEqual(await keys('export/output/dw-'), [], 'failed jobs wrote nothing');
  });

  test('StopProcessingJob stops a running flow promptly; MaxRuntimeInSeconds ends one that runs too long', async () => {
    const slow = { ProcessingInputs: [flowInput('s3://hotels/data_wrangler_flows/slow.flow')], ProcessingOutputConfig: { Outputs: [output('busy_out.default', 's3://hotels/slow-out')] } };
    await sm.send(new CreateProcessingJobCommand(job('dw-stopped', { ...slow, ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.t3.medium', VolumeSizeInGB: 5 } } })));
    let log: string[] = [];
    for (let i = 0; i < 200 && !log.some((l) => l.startsWith('node seed ')); i++) {
      await new Promise((r) => setTimeout(r, 100));
      log = await jobLog(logs, '/aws/sagemaker/ProcessingJobs', 'dw-stopped');
    }
    assert.equal((await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'dw-stopped' }))).ProcessingJobStatus, 'InProgress');
    const stopAt = Date.now();
    await sm.send(new StopProcessingJobCommand({ ProcessingJobName: 'dw-stopped' }));
    const d = await finished('dw-stopped');
    assert.equal(d.ProcessingJobStatus, 'Stopped');
    assert.ok(Date.now() - stopAt < 10_000, `stopped in ${Date.now() - stopAt} ms`);
    assert.deepEqual(await keys('slow-out/'), []);

    await sm.send(new CreateProcessingJobCommand(job('dw-too-slow', { ...slow, StoppingCondition: { MaxRuntimeInSeconds: 1 } })));
    const late = await finished('dw-too-slow');
    assert.equal(late.ProcessingJobStatus, 'Failed');
    assert.match(late.FailureReason!, /^MaxRuntimeExceeded: Processing job ran longer than StoppingCondition\.MaxRuntimeInSeconds \(1 seconds\)/);
  });
});

test('a server killed while a Data Wrangler job runs ends the job at the next start', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-dw-restart-'));
  const credentials = { accessKeyId: 'AKIAKILNTESTROOT0007', secretAccessKey: 'kiln-test-secret-key-7' };
  const env = { KILN_DATA_DIR: dataDir, KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey };
  const clients = (url: string) => ({ s3: new S3Client({ endpoint: url, region: 'us-east-1', credentials, forcePathStyle: true }), sm: new SageMakerClient({ endpoint: url, region: 'us-east-1', credentials }) });
  try {
    const first = await spawnKiln(env);
    const a = clients(first.url);
    await a.s3.send(new CreateBucketCommand({ Bucket: 'hotels' }));
    await a.s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'small/seed.csv', Body: 'a\n1\n' }));
    await a.s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'flows/slow.flow', Body: JSON.stringify(SLOW_FLOW) }));
    await a.sm.send(
      new CreateProcessingJobCommand({
        ProcessingJobName: 'dw-interrupted',
        RoleArn: ROLE,
        AppSpecification: { ImageUri: 'kiln/data-wrangler:3.x' },
        ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.t3.medium', VolumeSizeInGB: 5 } },
        ProcessingInputs: [flowInput('s3://hotels/flows/slow.flow')],
        ProcessingOutputConfig: { Outputs: [output('busy_out.default', 's3://hotels/slow-out')] },
      }),
    );
    assert.equal((await a.sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'dw-interrupted' }))).ProcessingJobStatus, 'InProgress');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnKiln(env);
    const d = await clients(second.url).sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: 'dw-interrupted' }));
    assert.equal(d.ProcessingJobStatus, 'Failed');
    assert.match(d.FailureReason!, /Kiln server stopped while this processing job was running/);
    assert.ok(d.ProcessingEndTime instanceof Date);
    second.child.kill('SIGTERM');
    await second.exited;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
