import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
  waitUntilEndpointDeleted,
  waitUntilEndpointInService,
  type ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient, type InvokeEndpointCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { CHURN_XGBOOST } from './helpers/shared-data.ts';
import { PYTHON, run } from './helpers/processes.ts';

process.env.KILN_CAPTURE_FLUSH_MS = '200';

const DATA = CHURN_XGBOOST;
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const ROLE = 'arn:aws:iam::000000000000:role/kiln-hosting';
const TEST_ROWS = readFileSync(path.join(DATA, 'test.csv'), 'utf8').trim().split('\n');

/**
 * Real xgboost 1.7 trains two models on the churn data and writes them as SageMaker's
 * containers do: `xgboost-model` in a model.tar.gz (legacy binary for `a`, JSON for `b`),
 * plus its own predictions for test.csv.
 */
const MAKE_MODELS = `
import sys, os, json, tarfile, numpy as np, xgboost as xgb
out = sys.argv[1]
tr = np.loadtxt(os.path.join(sys.argv[2], 'train.csv'), delimiter=',')
te = np.loadtxt(os.path.join(sys.argv[2], 'test.csv'), delimiter=',')
d = xgb.DMatrix(tr[:, 1:], label=tr[:, 0])
preds = {}
for name, fmt, rounds, depth in (('a', 'binary', 100, 5), ('b', 'json', 20, 3)):
    b = xgb.train(dict(max_depth=depth, eta=0.2, gamma=4, min_child_weight=6, subsample=0.8, objective='binary:logistic', tree_method='hist', nthread=2, seed=0), d, rounds)
    folder = os.path.join(out, name); os.makedirs(folder)
    f = os.path.join(folder, 'xgboost-model')
    if fmt == 'json':
        b.save_model(f + '.json'); os.rename(f + '.json', f)
    else:
        b.save_model(f)
    with tarfile.open(os.path.join(out, name + '.tar.gz'), 'w:gz') as t: t.add(f, arcname='xgboost-model')
    preds[name] = [float(x) for x in b.predict(xgb.DMatrix(te))]
json.dump(preds, open(os.path.join(out, 'preds.json'), 'w'))
`;

describe('real-time hosting', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  let rt: SageMakerRuntimeClient;
  let work: string;
  let preds: { a: number[]; b: number[] };

  const invoke = (input: Partial<InvokeEndpointCommandInput> & { EndpointName: string }) =>
    rt.send(new InvokeEndpointCommand({ ContentType: 'text/csv', Body: TEST_ROWS[0], ...input } as InvokeEndpointCommandInput));
  const text = (r: { Body?: Uint8Array }) => Buffer.from(r.Body!).toString('utf8');
  const inService = (name: string) => waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.2 }, { EndpointName: name });
  const variant = (name: string, model: string, over: Partial<ProductionVariant> = {}): ProductionVariant => ({
    VariantName: name,
    ModelName: model,
    InitialInstanceCount: 1,
    InstanceType: 'ml.m5.large',
    ...over,
  });
  const deploy = async (endpoint: string, variants: ProductionVariant[], extra: Record<string, unknown> = {}) => {
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: `${endpoint}-config`, ProductionVariants: variants, ...extra }));
    await sm.send(new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: `${endpoint}-config` }));
    await inService(endpoint);
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6;
  const workerPids = (endpoint: string): number[] =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`--kiln-endpoint=${endpoint}/`);
        } catch {
          return false;
        }
      })
      .map(Number);

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-hosting-'));
    const made = await run(PYTHON, ['-c', MAKE_MODELS, work, DATA]);
    assert.equal(made.code, 0, made.stderr);
    preds = JSON.parse(readFileSync(path.join(work, 'preds.json'), 'utf8'));
    k = await startTestKiln();
    const cfg = { endpoint: k.endpoint, region: k.region, credentials: k.credentials };
    sm = new SageMakerClient(cfg);
    rt = new SageMakerRuntimeClient({ ...cfg, maxAttempts: 1 });
    const s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'capture' }));
    for (const name of ['a', 'b']) {
      const body = readFileSync(path.join(work, `${name}.tar.gz`));
      await s3.send(new PutObjectCommand({ Bucket: 'models', Key: `single/${name}/model.tar.gz`, Body: body }));
      await s3.send(new PutObjectCommand({ Bucket: 'models', Key: `multi/${name}.tar.gz`, Body: body }));
    }
    const model = (name: string, url: string, mode?: 'MultiModel') =>
      sm.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: url, ...(mode ? { Mode: mode } : {}) }, Tags: [{ Key: 'team', Value: 'ml' }] }));
    await model('model-a', 's3://models/single/a/model.tar.gz');
    await model('model-b', 's3://models/single/b/model.tar.gz');
    await model('model-multi', 's3://models/multi/', 'MultiModel');
  });

  after(async () => {
    await k?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('models and endpoint configurations: create, describe, list, errors', async () => {
    const d = await sm.send(new DescribeModelCommand({ ModelName: 'model-a' }));
    assert.equal(d.ModelArn, 'arn:aws:sagemaker:us-east-1:000000000000:model/model-a');
    assert.equal(d.PrimaryContainer?.Image, IMAGE);
    assert.equal(d.PrimaryContainer?.ModelDataUrl, 's3://models/single/a/model.tar.gz');
    const tags = await sm.send(new ListTagsCommand({ ResourceArn: d.ModelArn }));
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'ml' }]);
    const list = await sm.send(new ListModelsCommand({ NameContains: 'model-', SortBy: 'Name', SortOrder: 'Ascending' }));
    assert.deepEqual(list.Models?.map((m) => m.ModelName), ['model-a', 'model-b', 'model-multi']);
    await assert.rejects(sm.send(new DescribeModelCommand({ ModelName: 'nope' })), (e: Error) => e.name === 'ValidationException' && e.message === 'Could not find model "nope".');
    await assert.rejects(
      sm.send(new CreateModelCommand({ ModelName: 'model-a', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: 's3://models/single/a/model.tar.gz' } })),
      (e: Error) => e.name === 'ValidationException' && e.message === 'Cannot create already existing model "arn:aws:sagemaker:us-east-1:000000000000:model/model-a".',
    );
    await assert.rejects(
      sm.send(new CreateModelCommand({ ModelName: 'bad-image', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-torch:2', ModelDataUrl: 's3://models/x.tar.gz' } })),
      (e: Error) => e.name === 'ValidationException' && e.message.includes('my-torch:2'),
    );
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'cfg-listed', ProductionVariants: [variant('AllTraffic', 'model-a')] }));
    const cfg = await sm.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'cfg-listed' }));
    assert.equal(cfg.ProductionVariants?.[0]?.InitialVariantWeight, 1);
    const cfgs = await sm.send(new ListEndpointConfigsCommand({ NameContains: 'cfg-listed' }));
    assert.equal(cfgs.EndpointConfigs?.length, 1);
    await assert.rejects(
      sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'cfg-missing', ProductionVariants: [variant('AllTraffic', 'ghost')] })),
      (e: Error) => e.name === 'ValidationException' && e.message === 'Could not find model "ghost".',
    );
    await assert.rejects(
      sm.send(new CreateEndpointCommand({ EndpointName: 'no-config', EndpointConfigName: 'ghost-config' })),
      (e: Error) => e.name === 'ValidationException' && e.message === 'Could not find endpoint configuration "ghost-config".',
    );
  });

  test('an endpoint serves real xgboost models (binary and JSON) with the predictions xgboost makes', async () => {
    const started = Date.now();
    await deploy('churn', [variant('AllTraffic', 'model-a')]);
    assert.ok(Date.now() - started < 10_000);
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'churn' }));
    assert.equal(d.EndpointStatus, 'InService');
    assert.equal(d.EndpointArn, 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn');
    const pv = d.ProductionVariants?.[0];
    assert.equal(pv?.VariantName, 'AllTraffic');
    assert.equal(pv?.CurrentInstanceCount, 1);
    assert.equal(pv?.DesiredInstanceCount, 1);
    assert.equal(pv?.CurrentWeight, 1);
    assert.equal(pv?.DeployedImages?.[0]?.SpecifiedImage, IMAGE);
    await assert.rejects(
      sm.send(new CreateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-config' })),
      (e: Error) => e.name === 'ValidationException' && e.message === 'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn".',
    );
    const listed = await sm.send(new ListEndpointsCommand({ StatusEquals: 'InService', NameContains: 'churn' }));
    assert.ok(listed.Endpoints?.some((e) => e.EndpointName === 'churn'));

    // One row per request, every row of test.csv.
    const single = await Promise.all(TEST_ROWS.map((row) => invoke({ EndpointName: 'churn', Body: row, CustomAttributes: 'trace=1', InferenceId: 'inf-1' })));
    single.forEach((r, i) => {
      assert.equal(r.ContentType, 'text/csv');
      assert.equal(r.InvokedProductionVariant, 'AllTraffic');
      assert.equal(r.CustomAttributes, 'trace=1');
      assert.ok(close(Number(text(r)), preds.a[i]!), `row ${i}: ${text(r)} vs ${preds.a[i]}`);
    });
    // All rows in one request: comma-separated, as the container answers.
    const many = await invoke({ EndpointName: 'churn', Body: TEST_ROWS.join('\n') });
    const values = text(many).split(',').map(Number);
    assert.equal(values.length, TEST_ROWS.length);
    values.forEach((v, i) => assert.ok(close(v, preds.a[i]!)));
    // JSON in, JSON out; JSON Lines out; libsvm in.
    const features = TEST_ROWS.slice(0, 3).map((r) => r.split(',').map(Number));
    const json = await invoke({ EndpointName: 'churn', ContentType: 'application/json', Accept: 'application/json', Body: JSON.stringify({ instances: features.map((f) => ({ features: f })) }) });
    assert.equal(json.ContentType, 'application/json');
    const parsed = JSON.parse(text(json));
    assert.equal(parsed.predictions.length, 3);
    parsed.predictions.forEach((p: { score: number }, i: number) => assert.ok(close(p.score, preds.a[i]!)));
    const one = JSON.parse(text(await invoke({ EndpointName: 'churn', ContentType: 'application/json', Accept: 'application/json', Body: JSON.stringify({ features: features[0] }) })));
    assert.ok(close(one.predictions[0].score, preds.a[0]!));
    const lines = await invoke({ EndpointName: 'churn', Accept: 'application/jsonlines', Body: TEST_ROWS.slice(0, 2).join('\n') });
    assert.deepEqual(text(lines).trim().split('\n').map((l) => Number(JSON.parse(l).score)).map((v, i) => close(v, preds.a[i]!)), [true, true]);
    const libsvm = features[1]!.map((v, i) => `${i + 1}:${v}`).join(' ');
    const viaLibsvm = await invoke({ EndpointName: 'churn', ContentType: 'text/libsvm', Body: libsvm });
    assert.ok(close(Number(text(viaLibsvm)), preds.a[1]!));

    // The endpoint's log group has one stream per instance.
    const logs = new CloudWatchLogsClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials });
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/sagemaker/Endpoints/churn' }));
    assert.ok(streams.logStreams?.some((s) => /^AllTraffic\/i-[0-9a-f]{17}$/.test(s.logStreamName!)), JSON.stringify(streams.logStreams?.map((s) => s.logStreamName)));
  });

  test('runtime errors: malformed row, oversize body, unknown endpoint, unknown variant', async () => {
    await assert.rejects(invoke({ EndpointName: 'churn', Body: 'abc,def,1' }), (e: Error & Record<string, any>) => {
      assert.equal(e.name, 'ModelError');
      assert.equal(e.$metadata.httpStatusCode, 424);
      assert.equal(e.OriginalStatusCode, 415);
      assert.match(e.OriginalMessage, /csv/);
      assert.equal(e.LogStreamArn, 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/Endpoints/churn');
      assert.match(e.message, /^Received client error \(415\) from primary with message/);
      return true;
    });
    await assert.rejects(invoke({ EndpointName: 'churn', Body: Buffer.alloc(7 * 1024 * 1024, 0x31) }), (e: Error) => e.name === 'ValidationError' && /oversize body/.test(e.message));
    await assert.rejects(invoke({ EndpointName: 'ghost' }), (e: Error & Record<string, any>) => {
      assert.equal(e.name, 'ValidationError');
      assert.equal(e.message, 'Endpoint ghost of account 000000000000 not found.');
      assert.equal(e.$metadata.httpStatusCode, 400);
      return true;
    });
    await assert.rejects(invoke({ EndpointName: 'churn', TargetVariant: 'ghost' }), (e: Error) => e.name === 'ValidationError');
    // Still serving.
    assert.ok(close(Number(text(await invoke({ EndpointName: 'churn' }))), preds.a[0]!));
  });

  test('a worker killed mid-request: that request gets ModelError, the endpoint keeps serving', async () => {
    const big = Array.from({ length: 30_000 }, (_, i) => TEST_ROWS[i % TEST_ROWS.length]).join('\n'); // ~5 MB
    let pid: number | undefined;
    // The kill must land while the worker predicts: on a fast machine the answer can come first,
    // and then the next attempt tries again.
    for (let attempt = 0; attempt < 5 && pid === undefined; attempt++) {
      const [worker] = workerPids('churn');
      assert.ok(worker, 'worker process found');
      let answered = false;
      const slow = invoke({ EndpointName: 'churn', Body: big }).finally(() => (answered = true));
      await new Promise((r) => setTimeout(r, 30));
      if (answered) {
        await slow;
        continue;
      }
      process.kill(worker, 'SIGKILL');
      pid = worker;
      await assert.rejects(slow, (e: Error & Record<string, any>) => e.name === 'ModelError' && e.OriginalStatusCode === 500 && /exited/.test(e.message));
    }
    assert.ok(pid, 'a kill landed while the worker was predicting');
    const after = await Promise.all(TEST_ROWS.slice(0, 20).map((row) => invoke({ EndpointName: 'churn', Body: row })));
    after.forEach((r, i) => assert.ok(close(Number(text(r)), preds.a[i]!)));
    const pids = workerPids('churn');
    assert.equal(pids.length, 1);
    assert.notEqual(pids[0], pid);
  });

  test('deleting a model does not stop an endpoint that serves it', async () => {
    await sm.send(new CreateModelCommand({ ModelName: 'model-doomed', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: 's3://models/single/b/model.tar.gz' } }));
    await deploy('doomed', [variant('AllTraffic', 'model-doomed')]);
    await sm.send(new DeleteModelCommand({ ModelName: 'model-doomed' }));
    await assert.rejects(sm.send(new DeleteModelCommand({ ModelName: 'model-doomed' })), (e: Error) => e.name === 'ValidationException' && /Could not find model/.test(e.message));
    assert.ok(close(Number(text(await invoke({ EndpointName: 'doomed' }))), preds.b[0]!));
    await assert.rejects(sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'doomed-2', ProductionVariants: [variant('AllTraffic', 'model-doomed')] })), /Could not find model "model-doomed"/);
    await sm.send(new DeleteEndpointCommand({ EndpointName: 'doomed' }));
    await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { EndpointName: 'doomed' });
    await assert.rejects(sm.send(new DescribeEndpointCommand({ EndpointName: 'doomed' })), (e: Error) => e.name === 'ValidationException' && e.message === 'Could not find endpoint "doomed".');
    await assert.rejects(invoke({ EndpointName: 'doomed' }), (e: Error) => e.name === 'ValidationError');
    assert.deepEqual(workerPids('doomed'), []);
  });

  test('a serverless variant answers ThrottlingException beyond its MaxConcurrency and keeps serving', async () => {
    await sm.send(new CreateModelCommand({ ModelName: 'model-serverless', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: 's3://models/single/a/model.tar.gz' } }));
    await deploy('serverless', [{ VariantName: 'AllTraffic', ModelName: 'model-serverless', ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 1 } }]);
    const described = await sm.send(new DescribeEndpointCommand({ EndpointName: 'serverless' }));
    assert.deepEqual(described.ProductionVariants?.[0]?.CurrentServerlessConfig, { MemorySizeInMB: 2048, MaxConcurrency: 1 });
    // Payloads big enough to be predicted by the worker, so that calls overlap.
    const many = Array.from({ length: 40 }, () => TEST_ROWS).flat().join('\n');
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => invoke({ EndpointName: 'serverless', Body: many })));
    const throttled = outcomes.filter((o) => o.status === 'rejected');
    assert.ok(throttled.length > 0, 'some calls were throttled');
    assert.ok(outcomes.some((o) => o.status === 'fulfilled'), 'some calls were answered');
    for (const o of throttled) {
      const e = (o as PromiseRejectedResult).reason as Error & { $metadata?: { httpStatusCode?: number } };
      assert.equal(e.name, 'ThrottlingException');
      assert.match(e.message, /MaxConcurrency of 1/);
    }
    assert.ok(close(Number(text(await invoke({ EndpointName: 'serverless' }))), preds.a[0]!));
    await sm.send(new DeleteEndpointCommand({ EndpointName: 'serverless' }));
  });

  test('two variants split traffic by weight; TargetVariant picks one; weights can change', async () => {
    await deploy('split', [variant('A', 'model-a', { InitialVariantWeight: 3 }), variant('B', 'model-b', { InitialVariantWeight: 1 })]);
    const counts: Record<string, number> = { A: 0, B: 0 };
    const total = 2000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          next++;
          const r = await invoke({ EndpointName: 'split' });
          counts[r.InvokedProductionVariant!]!++;
          const expected = r.InvokedProductionVariant === 'A' ? preds.a[0]! : preds.b[0]!;
          assert.ok(close(Number(text(r)), expected));
        }
      }),
    );
    assert.equal(counts.A! + counts.B!, total);
    assert.ok(Math.abs(counts.A! / total - 0.75) < 0.035, JSON.stringify(counts));
    const targeted = await invoke({ EndpointName: 'split', TargetVariant: 'B' });
    assert.equal(targeted.InvokedProductionVariant, 'B');

    await sm.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: 'split', DesiredWeightsAndCapacities: [{ VariantName: 'A', DesiredWeight: 0 }, { VariantName: 'B', DesiredInstanceCount: 2 }] }));
    await inService('split');
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'split' }));
    const b = d.ProductionVariants?.find((v) => v.VariantName === 'B');
    assert.equal(b?.CurrentInstanceCount, 2);
    assert.equal(d.ProductionVariants?.find((v) => v.VariantName === 'A')?.CurrentWeight, 0);
    const after = await Promise.all(Array.from({ length: 50 }, () => invoke({ EndpointName: 'split' })));
    assert.ok(after.every((r) => r.InvokedProductionVariant === 'B'));
    assert.equal(workerPids('split').length, 3);
  });

  test('UpdateEndpoint switches configurations with no failed request in between', async () => {
    await deploy('rolling', [variant('Old', 'model-a')]);
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'rolling-new', ProductionVariants: [variant('New', 'model-b', { InitialInstanceCount: 2 })] }));
    let stop = false;
    const seen = new Set<string>();
    const errors: string[] = [];
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          try {
            const r = await invoke({ EndpointName: 'rolling' });
            seen.add(r.InvokedProductionVariant!);
          } catch (e) {
            errors.push(`${(e as Error).name}: ${(e as Error).message}`);
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    await sm.send(new UpdateEndpointCommand({ EndpointName: 'rolling', EndpointConfigName: 'rolling-new' }));
    assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: 'rolling' }))).EndpointStatus, 'Updating');
    await assert.rejects(sm.send(new UpdateEndpointCommand({ EndpointName: 'rolling', EndpointConfigName: 'rolling-new' })), /Cannot update in-progress endpoint/);
    await inService('rolling');
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await load;
    assert.deepEqual(errors, []);
    assert.deepEqual([...seen].sort(), ['New', 'Old']);
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'rolling' }));
    assert.equal(d.EndpointConfigName, 'rolling-new');
    assert.deepEqual(d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount]), [['New', 2]]);
    assert.equal(workerPids('rolling').length, 2);
  });

  test('multi-model endpoint: TargetModel loads models from the prefix on demand', async () => {
    await deploy('mme', [variant('AllTraffic', 'model-multi')]);
    const a = await invoke({ EndpointName: 'mme', TargetModel: 'a.tar.gz', Body: TEST_ROWS[5] });
    const b = await invoke({ EndpointName: 'mme', TargetModel: 'b.tar.gz', Body: TEST_ROWS[5] });
    assert.ok(close(Number(text(a)), preds.a[5]!));
    assert.ok(close(Number(text(b)), preds.b[5]!));
    const again = await Promise.all(TEST_ROWS.slice(0, 10).map((row, i) => invoke({ EndpointName: 'mme', TargetModel: i % 2 ? 'a.tar.gz' : 'b.tar.gz', Body: row })));
    again.forEach((r, i) => assert.ok(close(Number(text(r)), (i % 2 ? preds.a : preds.b)[i]!)));
    await assert.rejects(invoke({ EndpointName: 'mme', TargetModel: 'missing.tar.gz' }), (e: Error & Record<string, any>) => {
      assert.equal(e.name, 'ValidationError');
      assert.match(e.message, /^Failed to download model data\(bucket: models, key: multi\/missing\.tar\.gz\)/);
      return true;
    });
    await assert.rejects(invoke({ EndpointName: 'mme' }), (e: Error) => e.name === 'ValidationError');
  });

  test('data capture writes sampled requests and responses as SageMaker capture files', async () => {
    await deploy('captured', [variant('AllTraffic', 'model-a')], {
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 100,
        DestinationS3Uri: 's3://capture/datacapture',
        CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
        CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'] },
      },
    });
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: 'captured' }));
    assert.deepEqual(d.DataCaptureConfig, { EnableCapture: true, CaptureStatus: 'Started', CurrentSamplingPercentage: 100, DestinationS3Uri: 's3://capture/datacapture' });
    for (let i = 0; i < 5; i++) await invoke({ EndpointName: 'captured', Body: TEST_ROWS[i], InferenceId: `id-${i}` });
    await invoke({ EndpointName: 'captured', ContentType: 'application/json', Accept: 'application/json', Body: JSON.stringify({ features: TEST_ROWS[0]!.split(',').map(Number) }) });
    const s3 = k.s3();
    let keys: string[] = [];
    let records: any[] = [];
    for (let i = 0; i < 50 && records.length < 6; i++) {
      await new Promise((r) => setTimeout(r, 100));
      keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'capture', Prefix: 'datacapture/' }))).Contents ?? []).map((o) => o.Key!);
      records = [];
      for (const key of keys) {
        const body = await (await s3.send(new GetObjectCommand({ Bucket: 'capture', Key: key }))).Body!.transformToString();
        records.push(...body.trim().split('\n').map((l) => JSON.parse(l)));
      }
    }
    assert.ok(keys.length >= 1);
    for (const key of keys) assert.match(key, /^datacapture\/captured\/AllTraffic\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$/);
    assert.equal(records.length, 6);
    const first = records.find((r) => r.eventMetadata.inferenceId === 'id-0');
    assert.equal(first.eventVersion, '0');
    assert.match(first.eventMetadata.eventId, /^[0-9a-f-]{36}$/);
    assert.match(first.eventMetadata.inferenceTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.deepEqual(first.captureData.endpointInput, { observedContentType: 'text/csv', mode: 'INPUT', data: TEST_ROWS[0], encoding: 'CSV' });
    assert.equal(first.captureData.endpointOutput.mode, 'OUTPUT');
    assert.equal(first.captureData.endpointOutput.encoding, 'CSV');
    assert.ok(close(Number(first.captureData.endpointOutput.data), preds.a[0]!));
    const jsonRecord = records.find((r) => r.captureData.endpointInput.observedContentType === 'application/json');
    assert.equal(jsonRecord.captureData.endpointInput.encoding, 'BASE64');
    assert.ok(Buffer.from(jsonRecord.captureData.endpointInput.data, 'base64').toString().startsWith('{"features"'));
  });

  test('boto3 deploys, invokes and deletes with the waiters', async () => {
    const script = `
import boto3, os, json
sm = boto3.client('sagemaker', endpoint_url=os.environ['KILN_ENDPOINT'])
rt = boto3.client('sagemaker-runtime', endpoint_url=os.environ['KILN_ENDPOINT'])
sm.create_endpoint_config(EndpointConfigName='boto-config', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'model-a', 'InitialInstanceCount': 1, 'InstanceType': 'ml.m5.large'}])
sm.create_endpoint(EndpointName='boto', EndpointConfigName='boto-config')
sm.get_waiter('endpoint_in_service').wait(EndpointName='boto', WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
r = rt.invoke_endpoint(EndpointName='boto', ContentType='text/csv', Body=os.environ['ROW'], InferenceId='boto-1')
out = {'body': r['Body'].read().decode(), 'variant': r['InvokedProductionVariant'], 'type': r['ContentType']}
try:
    rt.invoke_endpoint(EndpointName='boto', ContentType='text/csv', Body='x,y')
except rt.exceptions.ModelError as e:
    out['error'] = e.response['Error']['Code']; out['original'] = e.response.get('OriginalStatusCode')
sm.delete_endpoint(EndpointName='boto')
sm.get_waiter('endpoint_deleted').wait(EndpointName='boto', WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
print(json.dumps(out))
`;
    const r = await run(PYTHON, ['-c', script], { env: { ...k.env, ROW: TEST_ROWS[3]! } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.variant, 'AllTraffic');
    assert.equal(out.type, 'text/csv');
    assert.ok(close(Number(out.body), preds.a[3]!));
    assert.equal(out.error, 'ModelError');
    assert.equal(out.original, 415);
  });
});

describe('endpoints across a server restart', () => {
  test('InService endpoints come back with their pools; deleted ones stay gone', async () => {
    const { loadConfig } = await import('../src/config.ts');
    const { startKiln } = await import('../src/app.ts');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-hosting-restart-'));
    const work = mkdtempSync(path.join(os.tmpdir(), 'kiln-hosting-restart-models-'));
    try {
      const made = await run(PYTHON, ['-c', MAKE_MODELS, work, DATA]);
      assert.equal(made.code, 0, made.stderr);
      const preds = JSON.parse(readFileSync(path.join(work, 'preds.json'), 'utf8'));
      const config = loadConfig({}, { port: 0, dataDir, logLevel: 'warn' });
      let kiln = await startKiln(config);
      const clients = () => {
        const cfg = { endpoint: kiln.url, region: config.region, credentials: { accessKeyId: kiln.rootKey.accessKeyId, secretAccessKey: kiln.rootKey.secretAccessKey } };
        return { sm: new SageMakerClient(cfg), rt: new SageMakerRuntimeClient({ ...cfg, maxAttempts: 1 }) };
      };
      let { sm, rt } = clients();
      const { S3Client } = await import('@aws-sdk/client-s3');
      const s3 = new S3Client({ endpoint: kiln.url, region: config.region, forcePathStyle: true, credentials: { accessKeyId: kiln.rootKey.accessKeyId, secretAccessKey: kiln.rootKey.secretAccessKey } });
      await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
      await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'a/model.tar.gz', Body: readFileSync(path.join(work, 'a.tar.gz')) }));
      await sm.send(new CreateModelCommand({ ModelName: 'a', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: 's3://models/a/model.tar.gz' } }));
      await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'a', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'a', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
      await sm.send(new CreateEndpointCommand({ EndpointName: 'survivor', EndpointConfigName: 'a' }));
      await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.2 }, { EndpointName: 'survivor' });
      await kiln.close();

      kiln = await startKiln({ ...config, port: 0 });
      ({ sm, rt } = clients());
      const r = await rt.send(new InvokeEndpointCommand({ EndpointName: 'survivor', ContentType: 'text/csv', Body: TEST_ROWS[0] }));
      assert.ok(Math.abs(Number(Buffer.from(r.Body!).toString()) - preds.a[0]) < 1e-6);
      assert.equal((await sm.send(new DescribeEndpointCommand({ EndpointName: 'survivor' }))).EndpointStatus, 'InService');
      await sm.send(new DeleteEndpointCommand({ EndpointName: 'survivor' }));
      await waitUntilEndpointDeleted({ client: sm, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { EndpointName: 'survivor' });
      await kiln.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('models that are not ready yet', () => {
  test('ModelNotReadyException while a multi-model target loads or a variant has no live worker; served once ready', async () => {
    // No waiting: any invocation that would wait for a model answers ModelNotReadyException at once.
    const k = await startTestKiln({ modelReadyWaitMs: 0 });
    const work = mkdtempSync(path.join(os.tmpdir(), 'kiln-hosting-not-ready-'));
    try {
      const made = await run(PYTHON, ['-c', MAKE_MODELS, work, DATA]);
      assert.equal(made.code, 0, made.stderr);
      const preds = JSON.parse(readFileSync(path.join(work, 'preds.json'), 'utf8')) as { a: number[] };
      const cfg = { endpoint: k.endpoint, region: k.region, credentials: k.credentials };
      const sm = new SageMakerClient(cfg);
      const rt = new SageMakerRuntimeClient({ ...cfg, maxAttempts: 1 });
      const s3 = k.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
      const body = readFileSync(path.join(work, 'a.tar.gz'));
      await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'single/model.tar.gz', Body: body }));
      await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'multi/a.tar.gz', Body: body }));
      const deploy = async (name: string, url: string, mode?: 'MultiModel') => {
        await sm.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: url, ...(mode ? { Mode: mode } : {}) } }));
        await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
        await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
        await waitUntilEndpointInService({ client: sm, maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.2 }, { EndpointName: name });
      };
      const invoke = (input: Partial<InvokeEndpointCommandInput> & { EndpointName: string }) =>
        rt.send(new InvokeEndpointCommand({ ContentType: 'text/csv', Body: TEST_ROWS[0], ...input } as InvokeEndpointCommandInput));
      const notReady = (e: Error & Record<string, any>) => {
        assert.equal(e.name, 'ModelNotReadyException');
        assert.equal(e.$metadata?.httpStatusCode, 429);
        return true;
      };
      const eventually = async (call: () => Promise<{ Body?: Uint8Array }>) => {
        for (let i = 0; ; i++) {
          try {
            return await call();
          } catch (e) {
            if ((e as Error).name !== 'ModelNotReadyException' || i > 200) throw e;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };

      await deploy('mme', 's3://models/multi/', 'MultiModel');
      await assert.rejects(invoke({ EndpointName: 'mme', TargetModel: 'a.tar.gz' }), notReady);
      // The download went on; a retry is served.
      const served = await eventually(() => invoke({ EndpointName: 'mme', TargetModel: 'a.tar.gz' }));
      assert.ok(Math.abs(Number(Buffer.from(served.Body!).toString()) - preds.a[0]!) < 1e-6);

      await deploy('single', 's3://models/single/model.tar.gz');
      const pid = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).find((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--kiln-endpoint=single/');
        } catch {
          return false;
        }
      });
      assert.ok(pid, 'worker process found');
      process.kill(pid, 'SIGKILL');
      while (existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      // The replacement worker is still starting.
      await assert.rejects(invoke({ EndpointName: 'single' }), notReady);
      const again = await eventually(() => invoke({ EndpointName: 'single' }));
      assert.ok(Math.abs(Number(Buffer.from(again.Body!).toString()) - preds.a[0]!) < 1e-6);
    } finally {
      await k.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
