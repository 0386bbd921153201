import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  AssociateTrialComponentCommand,
  CreateExperimentCommand,
  CreateTrainingJobCommand,
  CreateTrialCommand,
  CreateTrialComponentCommand,
  AddAssociationCommand,
  CreateActionCommand,
  CreateArtifactCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteExperimentCommand,
  DescribeActionCommand,
  DescribeArtifactCommand,
  DescribeContextCommand,
  ListAssociationsCommand,
  ListContextsCommand,
  QueryLineageCommand,
  DeleteTrialCommand,
  DeleteTrialComponentCommand,
  DescribeExperimentCommand,
  DescribeTrialCommand,
  DescribeTrialComponentCommand,
  DisassociateTrialComponentCommand,
  ListExperimentsCommand,
  ListTrialComponentsCommand,
  ListTrialsCommand,
  SageMakerClient,
  SearchCommand,
  UpdateActionCommand,
  UpdateExperimentCommand,
  UpdateTrialComponentCommand,
  waitUntilTrainingJobCompletedOrStopped,
} from '@aws-sdk/client-sagemaker';
import { writeBoto3MetricsModel } from './helpers/boto3-metrics-model.ts';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { MetricsClient } from './helpers/metrics-client.ts';
import { PYTHON, run } from './helpers/processes.ts';
import { CHURN_XGBOOST } from './helpers/shared-data.ts';

/** What the course's Keras model reports for each batch size: 3 epochs, then the test set. */
const KERAS_RUNS = [
  {
    batchSize: 10,
    epochs: { loss: [0.92, 0.61, 0.48], accuracy: [0.68, 0.79, 0.84], val_loss: [0.7, 0.55, 0.5], val_accuracy: [0.75, 0.82, 0.83] },
    test: { 'test:loss': 0.51, 'test:accuracy': 0.83 },
  },
  {
    batchSize: 20,
    epochs: { loss: [1.05, 0.74, 0.57], accuracy: [0.62, 0.74, 0.8], val_loss: [0.81, 0.63, 0.56], val_accuracy: [0.7, 0.78, 0.81] },
    test: { 'test:loss': 0.58, 'test:accuracy': 0.8 },
  },
];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStdDev = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const close = (a: number | undefined, b: number, what: string) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} != ${b}`);

describe('experiments, runs, metrics and Search', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  let s3: S3Client;
  let metrics: MetricsClient;
  let work: string;

  before(async () => {
    k = await startTestKiln();
    const common = { endpoint: k.endpoint, region: k.region, credentials: k.credentials };
    sm = new SageMakerClient(common);
    metrics = new MetricsClient(common);
    s3 = k.s3();
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-exp-'));
    await s3.send(new CreateBucketCommand({ Bucket: 'course' }));
  });
  after(async () => {
    metrics?.close();
    rmSync(work, { recursive: true, force: true });
    await k?.stop();
  });

  /** Create, or load when it "already exists" — the SageMaker Python SDK's _load_or_create. */
  async function loadOrCreate(create: () => Promise<unknown>, load: () => Promise<unknown>): Promise<void> {
    try {
      await create();
    } catch (e) {
      if (!((e as Error).name === 'ValidationException' && /already exists/.test((e as Error).message))) throw e;
      await load();
    }
  }

  /** The calls sagemaker.experiments.Run makes for one run of the course's Keras notebook. */
  async function replayRun(experiment: string, runName: string, keras: (typeof KERAS_RUNS)[number]): Promise<string> {
    const tc = `${experiment}-${runName}`;
    const trial = `Default-Run-Group-${experiment}`;
    await loadOrCreate(() => sm.send(new CreateExperimentCommand({ ExperimentName: experiment })), () => sm.send(new DescribeExperimentCommand({ ExperimentName: experiment })));
    await loadOrCreate(() => sm.send(new CreateTrialCommand({ TrialName: trial, ExperimentName: experiment })), () => sm.send(new DescribeTrialCommand({ TrialName: trial })));
    await loadOrCreate(
      () => sm.send(new CreateTrialComponentCommand({ TrialComponentName: tc, DisplayName: runName, Tags: [{ Key: 'sagemaker:trial-component-source', Value: 'run' }] })),
      () => sm.send(new DescribeTrialComponentCommand({ TrialComponentName: tc })),
    );
    // _TrialComponent._trial_component_is_associated_to_trial asks Search.
    const associated = await sm.send(
      new SearchCommand({
        Resource: 'ExperimentTrialComponent',
        SearchExpression: { Filters: [{ Name: 'TrialComponentName', Operator: 'Equals', Value: tc }, { Name: 'Parents.TrialName', Operator: 'Equals', Value: trial }] },
      }),
    );
    if (!associated.Results!.length) {
      await sm.send(new AssociateTrialComponentCommand({ TrialComponentName: tc, TrialName: trial }));
    }
    await sm.send(new UpdateTrialComponentCommand({ TrialComponentName: tc, StartTime: new Date(), Status: { PrimaryStatus: 'InProgress', Message: 'Within a run context' } }));
    await sm.send(new UpdateTrialComponentCommand({ TrialComponentName: tc, Parameters: { batch_size: { NumberValue: keras.batchSize }, epochs: { NumberValue: 3 }, optimizer: { StringValue: 'adam' } } }));
    // log_file(is_output=False): upload, then record the S3 URI as an input artifact.
    const key = `trial-component-artifacts/${tc}/input_train.npy`;
    await s3.send(new PutObjectCommand({ Bucket: 'course', Key: key, Body: Buffer.from(`training inputs of ${runName}`) }));
    await sm.send(new UpdateTrialComponentCommand({ TrialComponentName: tc, InputArtifacts: { 'input_train.npy': { Value: `s3://course/${key}`, MediaType: 'application/octet-stream' } } }));
    const t0 = Date.now();
    for (let epoch = 0; epoch < 3; epoch++) {
      const data = Object.entries(keras.epochs).map(([name, values]) => ({ MetricName: name, Timestamp: new Date(t0 + epoch * 1000), Step: epoch, Value: values[epoch]! }));
      const r = await metrics.batchPutMetrics(tc, data);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, {});
    }
    const final = await metrics.batchPutMetrics(tc, Object.entries(keras.test).map(([name, value]) => ({ MetricName: name, Timestamp: new Date(t0 + 4000), Value: value })));
    assert.equal(final.status, 200);
    await sm.send(new UpdateTrialComponentCommand({ TrialComponentName: tc, EndTime: new Date(), Status: { PrimaryStatus: 'Completed' } }));
    return tc;
  }

  test('the two Keras runs through the JS SDK: parameters, artifacts, metric summaries, Search sorted by a metric', async () => {
    const experiment = 'keras-mnist';
    const names = [];
    for (const keras of KERAS_RUNS) names.push(await replayRun(experiment, `run-batch-size-${keras.batchSize}`, keras));
    assert.deepEqual(names, ['keras-mnist-run-batch-size-10', 'keras-mnist-run-batch-size-20']);

    const d = await sm.send(new DescribeTrialComponentCommand({ TrialComponentName: names[0] }));
    assert.equal(d.DisplayName, 'run-batch-size-10');
    assert.equal(d.Status?.PrimaryStatus, 'Completed');
    assert.ok(d.StartTime! <= d.EndTime!);
    assert.deepEqual(d.Parameters, { batch_size: { NumberValue: 10 }, epochs: { NumberValue: 3 }, optimizer: { StringValue: 'adam' } });
    assert.equal(d.InputArtifacts?.['input_train.npy']?.Value, 's3://course/trial-component-artifacts/keras-mnist-run-batch-size-10/input_train.npy');
    const loss = d.Metrics!.find((m) => m.MetricName === 'loss')!;
    const expected = KERAS_RUNS[0]!.epochs.loss;
    assert.equal(loss.Count, 3);
    close(loss.Min, Math.min(...expected), 'Min');
    close(loss.Max, Math.max(...expected), 'Max');
    close(loss.Last, expected[2]!, 'Last');
    close(loss.Avg, mean(expected), 'Avg');
    close(loss.StdDev, sampleStdDev(expected), 'StdDev');
    assert.deepEqual(d.Metrics!.map((m) => m.MetricName).sort(), ['accuracy', 'loss', 'test:accuracy', 'test:loss', 'val_accuracy', 'val_loss']);

    // Both runs are in the experiment's default run group.
    const listed = await sm.send(new ListTrialComponentsCommand({ ExperimentName: experiment, SortBy: 'Name', SortOrder: 'Ascending' }));
    assert.deepEqual(listed.TrialComponentSummaries!.map((s) => s.TrialComponentName), names);
    const trials = await sm.send(new ListTrialsCommand({ ExperimentName: experiment }));
    assert.deepEqual(trials.TrialSummaries!.map((t) => t.TrialName), ['Default-Run-Group-keras-mnist']);

    // Compare the runs: best test accuracy first.
    const byAccuracy = await sm.send(
      new SearchCommand({
        Resource: 'ExperimentTrialComponent',
        SearchExpression: { Filters: [{ Name: 'Parents.ExperimentName', Operator: 'Equals', Value: experiment }] },
        SortBy: 'Metrics.test:accuracy.Max',
        SortOrder: 'Descending',
      }),
    );
    const rows = byAccuracy.Results!.map((r) => r.TrialComponent!);
    assert.deepEqual(rows.map((r) => r.TrialComponentName), names);
    assert.deepEqual(rows[0]!.Parents, [{ TrialName: 'Default-Run-Group-keras-mnist', ExperimentName: experiment }]);
    assert.deepEqual(rows[0]!.Tags, [{ Key: 'sagemaker:trial-component-source', Value: 'run' }]);
    assert.equal(rows[1]!.Metrics!.find((m) => m.MetricName === 'val_loss')!.Last, 0.56);
    const ascendingLoss = await sm.send(new SearchCommand({ Resource: 'ExperimentTrialComponent', SortBy: 'Metrics.test:loss.Last', SortOrder: 'Ascending' }));
    assert.deepEqual(ascendingLoss.Results!.map((r) => r.TrialComponent!.TrialComponentName), names);

    // Filters on parameters and metrics, nested filters on parents, sub-expressions.
    const search = async (SearchExpression: object) =>
      (await sm.send(new SearchCommand({ Resource: 'ExperimentTrialComponent', SearchExpression, SortBy: 'TrialComponentName', SortOrder: 'Ascending' }))).Results!.map((r) => r.TrialComponent!.TrialComponentName);
    assert.deepEqual(await search({ Filters: [{ Name: 'Parameters.batch_size', Operator: 'GreaterThan', Value: '15' }] }), [names[1]]);
    assert.deepEqual(await search({ Filters: [{ Name: 'Metrics.loss.Min', Operator: 'LessThan', Value: '0.5' }, { Name: 'Parameters.optimizer', Value: 'adam' }] }), [names[0]]);
    assert.deepEqual(
      await search({ NestedFilters: [{ NestedPropertyName: 'Parents', Filters: [{ Name: 'Parents.ExperimentName', Operator: 'Equals', Value: experiment }, { Name: 'Parents.TrialName', Operator: 'Equals', Value: 'Default-Run-Group-keras-mnist' }] }] }),
      names,
    );
    assert.deepEqual(
      await search({ Operator: 'Or', SubExpressions: [{ Filters: [{ Name: 'DisplayName', Operator: 'Contains', Value: 'size-20' }] }, { Filters: [{ Name: 'Parameters.batch_size', Operator: 'In', Value: '10, 30' }] }] }),
      names,
    );
    assert.deepEqual(await search({ Filters: [{ Name: 'Tags.sagemaker:trial-component-source', Value: 'run' }, { Name: 'Metrics.accuracy.Count', Value: '3' }] }), names);
    assert.deepEqual(await search({ Filters: [{ Name: 'InputArtifacts.input_train.npy.Value', Operator: 'Contains', Value: 'size-20' }] }), [names[1]]);

    // Pagination.
    const first = await sm.send(new SearchCommand({ Resource: 'ExperimentTrialComponent', MaxResults: 1, SortBy: 'CreationTime', SortOrder: 'Ascending' }));
    assert.equal(first.Results!.length, 1);
    const second = await sm.send(new SearchCommand({ Resource: 'ExperimentTrialComponent', MaxResults: 1, SortBy: 'CreationTime', SortOrder: 'Ascending', NextToken: first.NextToken }));
    assert.deepEqual([first, second].map((p) => p.Results![0]!.TrialComponent!.TrialComponentName), names);
    assert.equal(second.NextToken, undefined);

    // The experiment and its trial are searchable too.
    const exps = await sm.send(new SearchCommand({ Resource: 'Experiment', SearchExpression: { Filters: [{ Name: 'ExperimentName', Value: experiment }] } }));
    assert.equal(exps.Results![0]!.Experiment!.ExperimentArn, 'arn:aws:sagemaker:us-east-1:000000000000:experiment/keras-mnist');
    const trialHits = await sm.send(new SearchCommand({ Resource: 'ExperimentTrial', SearchExpression: { Filters: [{ Name: 'ExperimentName', Value: experiment }] } }));
    assert.deepEqual(trialHits.Results![0]!.Trial!.TrialComponentSummaries!.map((s) => s.TrialComponentName), names);

    // The full series for charts, through Kiln's route.
    const series = await metrics.series(names[0]!, 'loss');
    assert.equal(series.status, 200, JSON.stringify(series.body));
    assert.deepEqual(series.body.Metrics[0].Points.map((p: { Step: number; Value: number }) => [p.Step, p.Value]), [[0, 0.92], [1, 0.61], [2, 0.48]]);
    const all = await metrics.series(names[1]!);
    assert.equal(all.body.Metrics.length, 6);
  });

  test('the same runs through boto3, compared as ExperimentAnalytics reads them', async () => {
    const dataPath = writeBoto3MetricsModel(path.join(work, 'botocore-data'));
    const script = `
import boto3, botocore, os, json, datetime
ep = os.environ['KILN_ENDPOINT']
sm = boto3.client('sagemaker', endpoint_url=ep)
mx = boto3.client('sagemaker-metrics', endpoint_url=ep)
s3 = boto3.client('s3', endpoint_url=ep)
runs = json.loads(os.environ['RUNS'])
exp = 'keras-boto3'
def load_or_create(create, load):
    try:
        create()
    except botocore.exceptions.ClientError as e:
        if not (e.response['Error']['Code'] == 'ValidationException' and 'already exists' in e.response['Error']['Message']):
            raise
        load()
for keras in runs:
    run = 'run-batch-size-%d' % keras['batchSize']
    tc = exp + '-' + run
    trial = 'Default-Run-Group-' + exp
    load_or_create(lambda: sm.create_experiment(ExperimentName=exp), lambda: sm.describe_experiment(ExperimentName=exp))
    load_or_create(lambda: sm.create_trial(TrialName=trial, ExperimentName=exp), lambda: sm.describe_trial(TrialName=trial))
    load_or_create(lambda: sm.create_trial_component(TrialComponentName=tc, DisplayName=run, Tags=[{'Key': 'sagemaker:trial-component-source', 'Value': 'run'}]),
                   lambda: sm.describe_trial_component(TrialComponentName=tc))
    found = sm.search(Resource='ExperimentTrialComponent', SearchExpression={'Filters': [
        {'Name': 'TrialComponentName', 'Operator': 'Equals', 'Value': tc}, {'Name': 'Parents.TrialName', 'Operator': 'Equals', 'Value': trial}]})
    if not found['Results']:
        sm.associate_trial_component(TrialComponentName=tc, TrialName=trial)
    sm.update_trial_component(TrialComponentName=tc, StartTime=datetime.datetime.now(datetime.timezone.utc), Status={'PrimaryStatus': 'InProgress'})
    sm.update_trial_component(TrialComponentName=tc, Parameters={'batch_size': {'NumberValue': keras['batchSize']}, 'epochs': {'NumberValue': 3}})
    key = 'trial-component-artifacts/%s/input_train.npy' % tc
    s3.put_object(Bucket='course', Key=key, Body=b'inputs')
    sm.update_trial_component(TrialComponentName=tc, InputArtifacts={'input_train.npy': {'Value': 's3://course/' + key}})
    now = datetime.datetime.now(datetime.timezone.utc)
    for epoch in range(3):
        data = [{'MetricName': n, 'Timestamp': now + datetime.timedelta(seconds=epoch), 'Step': epoch, 'Value': v[epoch]} for n, v in keras['epochs'].items()]
        r = mx.batch_put_metrics(TrialComponentName=tc, MetricData=data)
        assert not r.get('Errors'), r
    mx.batch_put_metrics(TrialComponentName=tc, MetricData=[{'MetricName': n, 'Timestamp': now, 'Value': v} for n, v in keras['test'].items()])
    sm.update_trial_component(TrialComponentName=tc, EndTime=datetime.datetime.now(datetime.timezone.utc), Status={'PrimaryStatus': 'Completed'})
# What sagemaker.analytics.ExperimentAnalytics does: a paginated Search, one row per component.
rows = []
for page in sm.get_paginator('search').paginate(Resource='ExperimentTrialComponent',
        SearchExpression={'Filters': [{'Name': 'Parents.ExperimentName', 'Operator': 'Equals', 'Value': exp}]},
        SortBy='Metrics.test:accuracy.Max', SortOrder='Descending', PaginationConfig={'PageSize': 1}):
    for result in page['Results']:
        c = result['TrialComponent']
        row = {'TrialComponentName': c['TrialComponentName'], 'DisplayName': c['DisplayName']}
        row.update({k: v.get('NumberValue', v.get('StringValue')) for k, v in c['Parameters'].items()})
        for m in c['Metrics']:
            for stat in ('Min', 'Max', 'Avg', 'StdDev', 'Last', 'Count'):
                row['%s - %s' % (m['MetricName'], stat)] = m[stat]
        row['Experiments'] = [p['ExperimentName'] for p in c['Parents']]
        rows.append(row)
try:
    mx.batch_put_metrics(TrialComponentName='no-such-run', MetricData=[{'MetricName': 'loss', 'Timestamp': now, 'Value': 1.0}])
    missing = None
except botocore.exceptions.ClientError as e:
    missing = e.response['Error']
print(json.dumps({'rows': rows, 'missing': missing}))
`;
    const r = await run(PYTHON, ['-c', script], { env: { ...k.env, AWS_DATA_PATH: dataPath, RUNS: JSON.stringify(KERAS_RUNS) } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.rows.map((row: { DisplayName: string }) => row.DisplayName), ['run-batch-size-10', 'run-batch-size-20']);
    const best = out.rows[0];
    assert.equal(best.batch_size, 10);
    assert.equal(best['accuracy - Count'], 3);
    close(best['accuracy - Avg'], mean(KERAS_RUNS[0]!.epochs.accuracy), 'accuracy Avg');
    assert.equal(best['test:accuracy - Last'], 0.83);
    assert.deepEqual(best.Experiments, ['keras-boto3']);
    assert.equal(out.missing.Code, 'ResourceNotFound');
    assert.equal(out.missing.Message, "Trial component 'no-such-run' does not exist.");
  });

  test('BatchPutMetrics limits and partial failures', async () => {
    await sm.send(new CreateTrialComponentCommand({ TrialComponentName: 'limits' }));
    const now = new Date();
    const eleven = Array.from({ length: 11 }, (_, i) => ({ MetricName: 'm', Timestamp: now, Step: i, Value: i }));
    const tooMany = await metrics.batchPutMetrics('limits', eleven);
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.__type, 'ValidationException');
    const partial = await metrics.batchPutMetrics('limits', [
      { MetricName: 'm', Timestamp: now, Step: 0, Value: 1 },
      { MetricName: 'm', Timestamp: now, Step: 1, Value: Number.NaN },
      { MetricName: 'm', Timestamp: now, Step: 2, Value: 3 },
      { MetricName: 'm', Timestamp: now, Step: 3, Value: Number.POSITIVE_INFINITY },
    ]);
    assert.equal(partial.status, 200);
    assert.deepEqual(partial.body.Errors, [{ Code: 'VALIDATION_ERROR', MetricIndex: 1 }, { Code: 'VALIDATION_ERROR', MetricIndex: 3 }]);
    const d = await sm.send(new DescribeTrialComponentCommand({ TrialComponentName: 'limits' }));
    assert.deepEqual(d.Metrics!.map((m) => [m.MetricName, m.Count, m.Min, m.Max, m.Avg]), [['m', 2, 1, 3, 2]]);
    await sm.send(new DeleteTrialComponentCommand({ TrialComponentName: 'limits' }));
  });

  test('deletion follows SageMaker rules, and missing entities are ResourceNotFound', async () => {
    await sm.send(new CreateExperimentCommand({ ExperimentName: 'doomed', Description: 'to delete', Tags: [{ Key: 'team', Value: 'ml' }] }));
    await assert.rejects(sm.send(new CreateExperimentCommand({ ExperimentName: 'doomed' })), (e: Error) => e.name === 'ValidationException' && /already exists/.test(e.message));
    await sm.send(new UpdateExperimentCommand({ ExperimentName: 'doomed', DisplayName: 'Doomed' }));
    assert.equal((await sm.send(new DescribeExperimentCommand({ ExperimentName: 'doomed' }))).DisplayName, 'Doomed');
    await sm.send(new CreateTrialCommand({ TrialName: 'doomed-trial', ExperimentName: 'doomed' }));
    await sm.send(new CreateTrialComponentCommand({ TrialComponentName: 'doomed-step' }));
    await sm.send(new AssociateTrialComponentCommand({ TrialComponentName: 'doomed-step', TrialName: 'doomed-trial' }));

    const refused = (e: Error) => e.name === 'ValidationException';
    await assert.rejects(sm.send(new DeleteExperimentCommand({ ExperimentName: 'doomed' })), (e: Error) => refused(e) && /has 1 trial/.test(e.message));
    await assert.rejects(sm.send(new DeleteTrialCommand({ TrialName: 'doomed-trial' })), (e: Error) => refused(e) && /Disassociate/.test(e.message));
    await assert.rejects(sm.send(new DeleteTrialComponentCommand({ TrialComponentName: 'doomed-step' })), (e: Error) => refused(e) && /doomed-trial/.test(e.message));

    await sm.send(new DisassociateTrialComponentCommand({ TrialComponentName: 'doomed-step', TrialName: 'doomed-trial' }));
    await sm.send(new DeleteTrialComponentCommand({ TrialComponentName: 'doomed-step' }));
    await sm.send(new DeleteTrialCommand({ TrialName: 'doomed-trial' }));
    const deleted = await sm.send(new DeleteExperimentCommand({ ExperimentName: 'doomed' }));
    assert.equal(deleted.ExperimentArn, 'arn:aws:sagemaker:us-east-1:000000000000:experiment/doomed');

    const missing = (message: string) => (e: Error) => e.name === 'ResourceNotFound' && e.message === message;
    await assert.rejects(sm.send(new DescribeExperimentCommand({ ExperimentName: 'doomed' })), missing("Experiment 'doomed' does not exist."));
    await assert.rejects(sm.send(new DescribeTrialCommand({ TrialName: 'doomed-trial' })), missing("Trial 'doomed-trial' does not exist."));
    await assert.rejects(sm.send(new DescribeTrialComponentCommand({ TrialComponentName: 'doomed-step' })), missing("Trial component 'doomed-step' does not exist."));
    await assert.rejects(sm.send(new CreateTrialCommand({ TrialName: 'orphan', ExperimentName: 'doomed' })), missing("Experiment 'doomed' does not exist."));
    const left = await sm.send(new ListExperimentsCommand({}));
    assert.ok(!left.ExperimentSummaries!.some((e) => e.ExperimentName === 'doomed'));
  });

  test('a training job with ExperimentConfig becomes a trial component of its experiment', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'course', Key: 'churn/train/train.csv', Body: readFileSync(path.join(CHURN_XGBOOST, 'train.csv')) }));
    await s3.send(new PutObjectCommand({ Bucket: 'course', Key: 'churn/validation/validation.csv', Body: readFileSync(path.join(CHURN_XGBOOST, 'validation.csv')) }));
    await sm.send(new CreateExperimentCommand({ ExperimentName: 'churn-exp' }));
    await sm.send(new CreateTrialCommand({ TrialName: 'churn-trial', ExperimentName: 'churn-exp' }));
    await sm.send(
      new CreateTrainingJobCommand({
        TrainingJobName: 'churn-tracked',
        AlgorithmSpecification: { TrainingImage: 'kiln/xgboost:1.7-1', TrainingInputMode: 'File' },
        RoleArn: 'arn:aws:iam::000000000000:role/kiln',
        HyperParameters: { max_depth: '3', eta: '0.3', objective: 'binary:logistic', eval_metric: 'error', num_round: '10' },
        InputDataConfig: [
          { ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://course/churn/train' } } },
          { ChannelName: 'validation', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://course/churn/validation' } } },
        ],
        OutputDataConfig: { S3OutputPath: 's3://course/churn/output' },
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
        ExperimentConfig: { ExperimentName: 'churn-exp', TrialName: 'churn-trial', TrialComponentDisplayName: 'xgboost-depth-3' },
      }),
    );
    const early = await sm.send(new DescribeTrialComponentCommand({ TrialComponentName: 'churn-tracked-aws-training-job' }));
    assert.equal(early.Source?.SourceArn, 'arn:aws:sagemaker:us-east-1:000000000000:training-job/churn-tracked');
    await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 300, minDelay: 1, maxDelay: 1 }, { TrainingJobName: 'churn-tracked' });

    const listed = await sm.send(new ListTrialComponentsCommand({ ExperimentName: 'churn-exp' }));
    assert.deepEqual(listed.TrialComponentSummaries!.map((s) => [s.TrialComponentName, s.DisplayName, s.TrialComponentSource?.SourceType]), [['churn-tracked-aws-training-job', 'xgboost-depth-3', 'SageMakerTrainingJob']]);
    const d = await sm.send(new DescribeTrialComponentCommand({ TrialComponentName: 'churn-tracked-aws-training-job' }));
    assert.equal(d.Status?.PrimaryStatus, 'Completed');
    assert.equal(d.Parameters?.max_depth?.NumberValue, 3);
    assert.equal(d.Parameters?.objective?.StringValue, 'binary:logistic');
    assert.equal(d.Parameters?.['SageMaker.InstanceType']?.StringValue, 'ml.m5.large');
    assert.equal(d.InputArtifacts?.train?.Value, 's3://course/churn/train');
    assert.equal(d.InputArtifacts?.['SageMaker.ImageUri']?.Value, 'kiln/xgboost:1.7-1');
    assert.equal(d.OutputArtifacts?.['SageMaker.ModelArtifact']?.Value, 's3://course/churn/output/churn-tracked/output/model.tar.gz');
    const error = d.Metrics!.find((m) => m.MetricName === 'validation:error')!;
    assert.equal(error.SourceArn, 'arn:aws:sagemaker:us-east-1:000000000000:training-job/churn-tracked');
    assert.ok(error.Last! >= 0 && error.Last! < 0.5);

    const hits = await sm.send(
      new SearchCommand({ Resource: 'ExperimentTrialComponent', SearchExpression: { Filters: [{ Name: 'Parents.TrialName', Value: 'churn-trial' }] } }),
    );
    const tc = hits.Results![0]!.TrialComponent!;
    assert.equal(tc.SourceDetail?.TrainingJob?.TrainingJobName, 'churn-tracked');
    assert.deepEqual(tc.SourceDetail?.TrainingJob?.ExperimentConfig, { ExperimentName: 'churn-exp', TrialName: 'churn-trial', TrialComponentDisplayName: 'xgboost-depth-3' });
    const jobs = await sm.send(
      new SearchCommand({
        Resource: 'TrainingJob',
        SearchExpression: { Filters: [{ Name: 'Metrics.validation:error', Operator: 'LessThan', Value: '0.5' }, { Name: 'HyperParameters.max_depth', Value: '3' }] },
        SortBy: 'Metrics.validation:error',
      }),
    );
    assert.deepEqual(jobs.Results!.map((r) => r.TrainingJob!.TrainingJobName), ['churn-tracked']);
  });

  test('lineage: from an endpoint, QueryLineage reaches the model, its training job and the training data in S3', async () => {
    // Runs after the ExperimentConfig test, whose job produced the model deployed here.
    const model = 's3://course/churn/output/churn-tracked/output/model.tar.gz';
    await sm.send(new CreateModelCommand({ ModelName: 'churn-model', ExecutionRoleArn: 'arn:aws:iam::000000000000:role/kiln', PrimaryContainer: { Image: 'kiln/xgboost:1.7-1', ModelDataUrl: model } }));
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'churn-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'churn-model', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    const { EndpointArn } = await sm.send(new CreateEndpointCommand({ EndpointName: 'churn-endpoint', EndpointConfigName: 'churn-config' }));
    try {
      const contexts = await sm.send(new ListContextsCommand({ SourceUri: EndpointArn }));
      assert.equal(contexts.ContextSummaries!.length, 1);
      const contextArn = contexts.ContextSummaries![0]!.ContextArn!;
      const context = await sm.send(new DescribeContextCommand({ ContextName: contexts.ContextSummaries![0]!.ContextName }));
      assert.equal(context.ContextType, 'Endpoint');

      const datasets = await sm.send(new QueryLineageCommand({ StartArns: [contextArn], Direction: 'Ascendants', IncludeEdges: false, Filters: { Types: ['DataSet'], LineageTypes: ['Artifact'] } }));
      const uris = [];
      for (const v of datasets.Vertices!) uris.push((await sm.send(new DescribeArtifactCommand({ ArtifactArn: v.Arn }))).Source!.SourceUri);
      assert.deepEqual(uris.sort(), ['s3://course/churn/train', 's3://course/churn/validation']);

      const everything = await sm.send(new QueryLineageCommand({ StartArns: [contextArn], Direction: 'Ascendants', MaxResults: 20 }));
      const byType = Object.fromEntries(everything.Vertices!.map((v) => [`${v.LineageType}:${v.Type}`, v.Arn]));
      assert.equal(byType['TrialComponent:SageMakerTrainingJob'], 'arn:aws:sagemaker:us-east-1:000000000000:experiment-trial-component/churn-tracked-aws-training-job');
      assert.ok(byType['Action:ModelDeployment'] && byType['Artifact:Model'] && byType['Artifact:Image']);
      assert.ok(everything.Edges!.some((e) => e.SourceArn === byType['TrialComponent:SageMakerTrainingJob'] && e.DestinationArn === byType['Artifact:Model'] && e.AssociationType === 'Produced'));
      assert.equal((await sm.send(new DescribeArtifactCommand({ ArtifactArn: byType['Artifact:Model'] }))).Source!.SourceUri, model);

      // The other way: what did the training data go into?
      const down = await sm.send(new QueryLineageCommand({ StartArns: [datasets.Vertices![0]!.Arn!], Direction: 'Descendants', Filters: { LineageTypes: ['Context'] } }));
      assert.deepEqual(down.Vertices!.map((v) => v.Arn), [contextArn]);
    } finally {
      await sm.send(new DeleteEndpointCommand({ EndpointName: 'churn-endpoint' }));
    }
  });

  test('lineage entities and associations created by hand', async () => {
    const { ArtifactArn } = await sm.send(new CreateArtifactCommand({ ArtifactName: 'raw-data', ArtifactType: 'DataSet', Source: { SourceUri: 's3://course/raw/' } }));
    assert.match(ArtifactArn!, /^arn:aws:sagemaker:us-east-1:000000000000:artifact\/[0-9a-f]{32}$/);
    const { ActionArn } = await sm.send(new CreateActionCommand({ ActionName: 'clean-data', ActionType: 'DataProcessing', Source: { SourceUri: 's3://course/scripts/clean.py' }, Status: 'Completed' }));
    await sm.send(new AddAssociationCommand({ SourceArn: ArtifactArn, DestinationArn: ActionArn, AssociationType: 'ContributedTo' }));
    const listed = await sm.send(new ListAssociationsCommand({ SourceArn: ArtifactArn }));
    assert.deepEqual(listed.AssociationSummaries!.map((a) => [a.SourceType, a.SourceName, a.DestinationType, a.DestinationName, a.AssociationType]), [['DataSet', 'raw-data', 'DataProcessing', 'clean-data', 'ContributedTo']]);
    await assert.rejects(
      sm.send(new AddAssociationCommand({ SourceArn: ArtifactArn, DestinationArn: 'arn:aws:sagemaker:us-east-1:000000000000:context/nowhere' })),
      (e: Error) => e.name === 'ResourceNotFound',
    );
    await sm.send(new UpdateActionCommand({ ActionName: 'clean-data', Status: 'Failed', Properties: { rows: '1200', owner: 'ml' }, PropertiesToRemove: [] }));
    await sm.send(new UpdateActionCommand({ ActionName: 'clean-data', PropertiesToRemove: ['owner'] }));
    const action = await sm.send(new DescribeActionCommand({ ActionName: 'clean-data' }));
    assert.deepEqual([action.Status, action.Properties], ['Failed', { rows: '1200' }]);
    await assert.rejects(sm.send(new CreateActionCommand({ ActionName: 'clean-data', ActionType: 'DataProcessing', Source: { SourceUri: 'x' } })), (e: Error) => e.name === 'ValidationException' && /already exists/.test(e.message));
  });
});
