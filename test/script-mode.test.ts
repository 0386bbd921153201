import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  waitUntilEndpointInService,
  waitUntilTrainingJobCompletedOrStopped,
  type CreateTrainingJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { PYTHON, run } from './helpers/processes.ts';
import { jobLog, sdkHyperparameters, sourceTarball } from './helpers/script-mode.ts';
import { WINE_QUALITY } from './helpers/shared-data.ts';

const SKLEARN_IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:0.23-1-cpu-py3';
const ROLE = 'arn:aws:iam::000000000000:role/kiln-script-mode';
const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
/** The course's script when the workspace has it beside the data, else the fixture that keeps its interface. */
const WINE_TRAIN_PY = [path.join(WINE_QUALITY, 'train.py'), path.join(FIXTURES, 'wine-quality', 'train.py')].find((f) => {
  try {
    return readFileSync(f).length > 0;
  } catch {
    return false;
  }
})!;
/** "This particular wine should have a quality score of 6", says the course notebook. */
const WINE_RECORD = [5.3, 0.47, 0.11, 2.2, 0.048, 16, 89, 0.99182, 3.54, 0.88, 13.56666667];

describe('script mode: framework images on the machine\'s interpreters', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  let rt: SageMakerRuntimeClient;
  let logs: CloudWatchLogsClient;
  let work: string;

  const job = (name: string, hps: Record<string, string>, over: Partial<CreateTrainingJobCommandInput> = {}): CreateTrainingJobCommandInput => ({
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: SKLEARN_IMAGE, TrainingInputMode: 'File' },
    RoleArn: ROLE,
    HyperParameters: hps,
    InputDataConfig: [{ ChannelName: 'train', ContentType: 'csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://wine/demo/train' } } }],
    OutputDataConfig: { S3OutputPath: 's3://wine/output' },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
    ...over,
  });
  const finished = async (name: string) => {
    await waitUntilTrainingJobCompletedOrStopped({ client: sm, maxWaitTime: 300, minDelay: 0.2, maxDelay: 0.5 }, { TrainingJobName: name }).catch(() => undefined);
    return sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
  };
  const upload = (key: string, body: Buffer | string) => k.s3().send(new PutObjectCommand({ Bucket: 'wine', Key: key, Body: body }));
  const codeAt = async (key: string, files: Record<string, string>) => {
    await upload(key, await sourceTarball(files));
    return `s3://wine/${key}`;
  };
  const deploy = async (name: string, container: Record<string, unknown>) => {
    await sm.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE, PrimaryContainer: container }));
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
    await waitUntilEndpointInService({ client: sm, maxWaitTime: 120, minDelay: 0.1, maxDelay: 0.3 }, { EndpointName: name }).catch(() => undefined);
    return sm.send(new DescribeEndpointCommand({ EndpointName: name }));
  };
  const text = (r: { Body?: Uint8Array }) => Buffer.from(r.Body!).toString('utf8');
  /** Saves an object of the wine bucket under the work folder; returns the file. */
  const download = async (key: string) => {
    const got = await k.s3().send(new GetObjectCommand({ Bucket: 'wine', Key: key }));
    const file = path.join(work, key.replaceAll('/', '_'));
    writeFileSync(file, Buffer.from(await got.Body!.transformToByteArray()));
    return file;
  };

  before(async () => {
    k = await startTestKiln();
    const cfg = { endpoint: k.endpoint, region: k.region, credentials: k.credentials };
    sm = new SageMakerClient(cfg);
    rt = new SageMakerRuntimeClient({ ...cfg, maxAttempts: 1 });
    logs = new CloudWatchLogsClient(cfg);
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-script-'));
    await k.s3().send(new CreateBucketCommand({ Bucket: 'wine' }));
    // The course notebook's split: the first 528 rows train (with the header), the rest validate.
    const lines = readFileSync(path.join(WINE_QUALITY, 'winequality-red.csv'), 'utf8').trim().split('\n');
    await upload('demo/train/train.csv', `${[lines[0], ...lines.slice(1, 529)].join('\n')}\n`);
    await upload('demo/validation/validation.csv', `${[lines[0], ...lines.slice(530)].join('\n')}\n`);
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await k?.stop();
  });

  test('the course\'s wine-quality job trains through the JS SDK and its handlers answer {"Output": quality}', async () => {
    const source = await codeAt('sklearn-wine/source/sourcedir.tar.gz', { 'train.py': readFileSync(WINE_TRAIN_PY, 'utf8') });
    await sm.send(new CreateTrainingJobCommand(job('wine-js', sdkHyperparameters({ estimators: 20 }, 'train.py', source))));
    const d = await finished('wine-js');
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    assert.deepEqual(d.SecondaryStatusTransitions!.map((t) => t.Status), ['Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
    assert.equal(d.ModelArtifacts?.S3ModelArtifacts, 's3://wine/output/wine-js/output/model.tar.gz');

    const listing = await run('tar', ['tzf', await download('output/wine-js/output/model.tar.gz')]);
    assert.deepEqual(listing.stdout.trim().split('\n'), ['model.joblib']);
    const log = await jobLog(logs, '/aws/sagemaker/TrainingJobs', 'wine-js');
    assert.ok(log.some((l) => /estimators: 20, holdout rows: 106/.test(l)), log.join('\n'));

    // Deployed as estimator.deploy() deploys it: the sklearn image, the job's artifact, and the training code.
    const endpoint = await deploy('wine-js', {
      Image: SKLEARN_IMAGE,
      ModelDataUrl: d.ModelArtifacts!.S3ModelArtifacts,
      Environment: { SAGEMAKER_PROGRAM: 'train.py', SAGEMAKER_SUBMIT_DIRECTORY: source, SAGEMAKER_CONTAINER_LOG_LEVEL: '20', SAGEMAKER_REGION: 'us-east-1' },
    });
    assert.equal(endpoint.EndpointStatus, 'InService', endpoint.FailureReason);
    const r = await rt.send(new InvokeEndpointCommand({ EndpointName: 'wine-js', ContentType: 'application/json', Body: JSON.stringify({ Input: [WINE_RECORD] }) }));
    assert.equal(r.ContentType, 'application/json');
    const output = JSON.parse(text(r)).Output;
    assert.ok(Number.isInteger(output) && output >= 3 && output <= 8, `quality ${output}`);

    // The course's input_fn refuses anything but JSON: that is the container's 500, a ModelError.
    await assert.rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'wine-js', ContentType: 'text/csv', Body: WINE_RECORD.join(',') })), (e: Error & { OriginalStatusCode?: number }) => {
      assert.equal(e.name, 'ModelError');
      assert.equal(e.OriginalStatusCode, 500);
      assert.match(e.message, /This model takes application\/json, not text\/csv/);
      return true;
    });
  });

  test('the same wine job, deployed and invoked through boto3', async () => {
    const source = await codeAt('sklearn-wine-boto/source/sourcedir.tar.gz', { 'train.py': readFileSync(WINE_TRAIN_PY, 'utf8') });
    const script = `
import boto3, json, sys, time
kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1')
sm, rt = boto3.client('sagemaker', **kw), boto3.client('sagemaker-runtime', **kw)
image, source, role = sys.argv[2], sys.argv[3], sys.argv[4]
sm.create_training_job(
    TrainingJobName='wine-boto',
    AlgorithmSpecification={'TrainingImage': image, 'TrainingInputMode': 'File'},
    RoleArn=role,
    HyperParameters={'estimators': '20', 'sagemaker_program': '"train.py"', 'sagemaker_submit_directory': json.dumps(source),
                     'sagemaker_container_log_level': '20', 'sagemaker_region': '"us-east-1"'},
    InputDataConfig=[{'ChannelName': 'train', 'ContentType': 'csv',
                      'DataSource': {'S3DataSource': {'S3DataType': 'S3Prefix', 'S3Uri': 's3://wine/demo/train'}}}],
    OutputDataConfig={'S3OutputPath': 's3://wine/output'},
    ResourceConfig={'InstanceType': 'ml.m5.large', 'InstanceCount': 1, 'VolumeSizeInGB': 5},
    StoppingCondition={'MaxRuntimeInSeconds': 600})
while sm.describe_training_job(TrainingJobName='wine-boto')['TrainingJobStatus'] in ('InProgress', 'Stopping'):
    time.sleep(0.2)
d = sm.describe_training_job(TrainingJobName='wine-boto')
assert d['TrainingJobStatus'] == 'Completed', d.get('FailureReason')
sm.create_model(ModelName='wine-boto', ExecutionRoleArn=role, PrimaryContainer={
    'Image': image, 'ModelDataUrl': d['ModelArtifacts']['S3ModelArtifacts'],
    'Environment': {'SAGEMAKER_PROGRAM': 'train.py', 'SAGEMAKER_SUBMIT_DIRECTORY': source}})
sm.create_endpoint_config(EndpointConfigName='wine-boto', ProductionVariants=[
    {'VariantName': 'AllTraffic', 'ModelName': 'wine-boto', 'InitialInstanceCount': 1, 'InstanceType': 'ml.m5.large'}])
sm.create_endpoint(EndpointName='wine-boto', EndpointConfigName='wine-boto')
while sm.describe_endpoint(EndpointName='wine-boto')['EndpointStatus'] == 'Creating':
    time.sleep(0.1)
# The course notebook's own request.
request_body = {'Input': [[5.3, 0.47, 0.11, 2.2, 0.048, 16, 89, 0.99182, 3.54, 0.88, 13.56666667]]}
payload = json.dumps(json.loads(json.dumps(request_body)))
response = rt.invoke_endpoint(EndpointName='wine-boto', ContentType='application/json', Body=payload)
print(json.dumps({'result': json.loads(response['Body'].read().decode())['Output'], 'contentType': response['ContentType']}))
`;
    const r = await run(PYTHON, ['-c', script, k.endpoint, SKLEARN_IMAGE, source, ROLE], { env: k.env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(out.contentType, 'application/json');
    assert.ok(Number.isInteger(out.result) && out.result >= 3 && out.result <= 8, r.stdout);
  });

  test('the toolkit contract: SM_* variables, hyperparameters as arguments, source folder, requirements.txt', async () => {
    const dump = `
import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith('SM_')}
json.dump({'argv': sys.argv[1:], 'env': env, 'cwd': os.getcwd(), 'helper': open('helper.txt').read()},
          open(os.path.join(os.environ['SM_MODEL_DIR'], 'contract.json'), 'w'))
print('contract written')
`;
    const source = await codeAt('contract/sourcedir.tar.gz', { 'dump.py': dump, 'helper.txt': 'beside the script', 'requirements.txt': 'numpy\nkiln-no-such-package==9.9\n' });
    const hps = {
      ...sdkHyperparameters({ estimators: 20, learning_rate: 0.1, x: 1.0, flag: true, name: 'forest', lst: [1, 'a'], obj: { b: 2, a: 1 } }, 'dump.py', source),
      x: '1.0',
      raw: 'not json',
      sagemaker_custom_thing: '"kept as a framework parameter"',
    };
    await sm.send(
      new CreateTrainingJobCommand(
        job('contract', hps, {
          InputDataConfig: [
            { ChannelName: 'train', ContentType: 'csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://wine/demo/train' } } },
            { ChannelName: 'validation', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://wine/demo/validation' } } },
          ],
          // An index that cannot be reached: pip must fail fast and the log must say so.
          Environment: { PIP_INDEX_URL: 'http://127.0.0.1:9/simple' },
        }),
      ),
    );
    const d = await finished('contract');
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const untar = await run('tar', ['xzf', await download('output/contract/output/model.tar.gz'), '-C', work]);
    assert.equal(untar.code, 0, untar.stderr);
    const c = JSON.parse(readFileSync(path.join(work, 'contract.json'), 'utf8'));

    // mapping.to_cmd_args: sorted, str() of each value, dicts as k=v, one-letter keys with one dash.
    assert.deepEqual(c.argv, ['--estimators', '20', '--flag', 'True', '--learning_rate', '0.1', '--lst', "[1, 'a']", '--name', 'forest', '--obj', 'a=1,b=2', '--raw', 'not json', '-x', '1.0']);
    const env = c.env as Record<string, string>;
    assert.equal(env.SM_HPS, '{"estimators":20,"flag":true,"learning_rate":0.1,"lst":[1,"a"],"name":"forest","obj":{"a":1,"b":2},"raw":"not json","x":1.0}');
    assert.equal(env.SM_HP_ESTIMATORS, '20');
    assert.equal(env.SM_HP_NAME, 'forest');
    assert.equal(env.SM_HP_FLAG, 'true');
    assert.equal(env.SM_HP_X, '1.0');
    assert.equal(env.SM_FRAMEWORK_PARAMS, '{"sagemaker_custom_thing":"kept as a framework parameter"}');
    assert.equal(env.SM_CHANNELS, '["train","validation"]');
    assert.match(env.SM_CHANNEL_TRAIN!, /\/opt\/ml\/input\/data\/train$/);
    assert.match(env.SM_CHANNEL_VALIDATION!, /\/opt\/ml\/input\/data\/validation$/);
    assert.match(env.SM_MODEL_DIR!, /\/opt\/ml\/model$/);
    assert.match(env.SM_OUTPUT_DATA_DIR!, /\/opt\/ml\/output\/data$/);
    assert.equal(env.SM_HOSTS, '["algo-1"]');
    assert.equal(env.SM_CURRENT_HOST, 'algo-1');
    assert.equal(env.SM_CURRENT_INSTANCE_TYPE, 'ml.m5.large');
    assert.ok(Number(env.SM_NUM_CPUS) >= 1);
    assert.equal(env.SM_NUM_GPUS, '0');
    assert.equal(env.SM_USER_ENTRY_POINT, 'dump.py');
    assert.equal(env.SM_MODULE_NAME, 'dump');
    assert.equal(env.SM_MODULE_DIR, source);
    assert.equal(env.SM_LOG_LEVEL, '20');
    assert.equal(env.SM_FRAMEWORK_MODULE, 'sagemaker_sklearn_container.training:main');
    assert.deepEqual(JSON.parse(env.SM_USER_ARGS!), c.argv);
    const training = JSON.parse(env.SM_TRAINING_ENV!);
    assert.equal(training.job_name, 'contract');
    assert.equal(training.user_entry_point, 'dump.py');
    assert.deepEqual(training.hyperparameters.obj, { a: 1, b: 2 });
    assert.deepEqual(Object.keys(training.channel_input_dirs), ['train', 'validation']);
    assert.equal(training.input_data_config.train.ContentType, 'csv');
    assert.equal(training.resource_config.current_host, 'algo-1');
    // The script runs from the unpacked source folder.
    assert.match(c.cwd, /\/opt\/ml\/code$/);
    assert.equal(c.helper, 'beside the script');

    const log = await jobLog(logs, '/aws/sagemaker/TrainingJobs', 'contract');
    assert.ok(log.some((l) => /installing from requirements\.txt with pip: kiln-no-such-package==9\.9$/.test(l)), log.join('\n'));
    assert.ok(log.some((l) => /requirements\.txt could NOT be installed .*Not installed: kiln-no-such-package==9\.9/.test(l)), log.join('\n'));
    assert.ok(log.includes('contract written'));
  });

  test('a failing script fails the job with the toolkit\'s ExecuteUserScriptError, or with what it wrote to output/failure', async () => {
    const fail = `
import sys
def load():
    raise ValueError('the wine is corked')
if len(sys.argv) > 2 and sys.argv[2] == 'file':
    open('/'.join([__import__('os').environ['SM_OUTPUT_DIR'], 'failure']), 'w').write('ClientError: the cellar is empty')
    sys.exit(3)
load()
`;
    const source = await codeAt('fail/sourcedir.tar.gz', { 'fail.py': fail });
    await sm.send(new CreateTrainingJobCommand(job('corked', sdkHyperparameters({ mode: 'raise' }, 'fail.py', source))));
    await sm.send(new CreateTrainingJobCommand(job('cellar', sdkHyperparameters({ mode: 'file' }, 'fail.py', source))));
    const corked = await finished('corked');
    assert.equal(corked.TrainingJobStatus, 'Failed');
    assert.match(corked.FailureReason!, /^AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "Traceback \(most recent call last\):\n[\s\S]*ValueError: the wine is corked"\nCommand "\/usr\/bin\/python3 fail\.py --mode raise", exit code: 1$/);
    const cellar = await finished('cellar');
    assert.equal(cellar.TrainingJobStatus, 'Failed');
    assert.equal(cellar.FailureReason, 'ClientError: the cellar is empty');
  });

  test('an image whose framework the interpreter lacks fails naming the module; a framework image needs a script', async () => {
    const source = await codeAt('torch/sourcedir.tar.gz', { 'train.py': 'import torch\n' });
    const torchImage = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0.0-cpu-py310';
    const hasTorch = (await run(PYTHON, ['-c', 'import torch'])).code === 0;
    await sm.send(new CreateTrainingJobCommand(job('torch', sdkHyperparameters({}, 'train.py', source), { AlgorithmSpecification: { TrainingImage: torchImage, TrainingInputMode: 'File' } })));
    await sm.send(new CreateTrainingJobCommand(job('no-script', {}, { AlgorithmSpecification: { TrainingImage: 'kiln/sklearn', TrainingInputMode: 'File' } })));
    const torch = await finished('torch');
    if (hasTorch) assert.equal(torch.TrainingJobStatus, 'Completed', torch.FailureReason);
    else assert.match(torch.FailureReason!, /^ClientError: The PyTorch image needs the Python module 'torch', which \/usr\/bin\/python3 cannot import \(ModuleNotFoundError: No module named 'torch'\)/);
    const noScript = await finished('no-script');
    assert.equal(noScript.TrainingJobStatus, 'Failed');
    assert.match(noScript.FailureReason!, /set the hyperparameters sagemaker_program \(the entry point\) and sagemaker_submit_directory/);
  });

  test('EnableNetworkIsolation takes the network away from the script, and the log says how it ran', async () => {
    const probe = `
import json, os, socket, sys
host, port = sys.argv[2].rsplit(':', 1)
try:
    socket.create_connection((host, int(port)), timeout=2).close()
    result = 'connected'
except OSError as e:
    result = 'refused: %s' % e
open(os.path.join(os.environ['SM_MODEL_DIR'], 'network.txt'), 'w').write(result)
print('network probe:', result)
`;
    const source = await codeAt('isolated/sourcedir.tar.gz', { 'probe.py': probe });
    const target = new URL(k.endpoint).host;
    await sm.send(new CreateTrainingJobCommand(job('isolated', sdkHyperparameters({ target }, 'probe.py', source), { EnableNetworkIsolation: true })));
    await sm.send(new CreateTrainingJobCommand(job('connected', sdkHyperparameters({ target }, 'probe.py', source))));
    const isolated = await finished('isolated');
    const connected = await finished('connected');
    assert.equal(isolated.TrainingJobStatus, 'Completed', isolated.FailureReason);
    assert.equal(isolated.EnableNetworkIsolation, true);
    assert.equal(connected.TrainingJobStatus, 'Completed', connected.FailureReason);
    const isolatedLog = await jobLog(logs, '/aws/sagemaker/TrainingJobs', 'isolated');
    const connectedLog = await jobLog(logs, '/aws/sagemaker/TrainingJobs', 'connected');
    assert.ok(connectedLog.includes('network probe: connected'), connectedLog.join('\n'));
    const supported = (await run('unshare', ['--net', '--', 'true'])).code === 0;
    if (supported) {
      assert.ok(isolatedLog.includes('Kiln: EnableNetworkIsolation: the job runs in its own network namespace, with no network access.'));
      assert.ok(isolatedLog.some((l) => l.startsWith('network probe: refused')), isolatedLog.join('\n'));
    } else {
      assert.ok(isolatedLog.some((l) => /does not let Kiln create a network namespace .* runs WITH the machine's network access/.test(l)));
    }
  });

  test('serving with the container\'s default handlers, transform_fn, and a model without model_fn', async () => {
    // A model trained elsewhere: a joblib file, with code/inference.py packed into model.tar.gz.
    const make = `
import joblib, numpy as np, sys, os, tarfile
from sklearn.linear_model import LinearRegression
X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 2.0]]); y = X @ np.array([2.0, -1.0]) + 0.5
out = sys.argv[1]
joblib.dump(LinearRegression().fit(X, y), os.path.join(out, 'model.joblib'))
os.makedirs(os.path.join(out, 'code'))
open(os.path.join(out, 'code', 'inference.py'), 'w').write(
    "import joblib, os\\ndef model_fn(model_dir):\\n    return joblib.load(os.path.join(model_dir, 'model.joblib'))\\n")
open(os.path.join(out, 'transform.py'), 'w').write(
    "import json\\ndef model_fn(d):\\n    return 'm'\\ndef transform_fn(model, data, content_type, accept):\\n    return json.dumps({'echo': data, 'ct': content_type, 'accept': accept}), 'application/x-echo'\\n")
with tarfile.open(os.path.join(out, 'model.tar.gz'), 'w:gz') as t:
    t.add(os.path.join(out, 'model.joblib'), arcname='model.joblib')
    t.add(os.path.join(out, 'code'), arcname='code')
`;
    const made = await run(PYTHON, ['-c', make, work]);
    assert.equal(made.code, 0, made.stderr);
    await upload('linear/model.tar.gz', readFileSync(path.join(work, 'model.tar.gz')));
    const linear = await deploy('linear', { Image: 'kiln/sklearn', ModelDataUrl: 's3://wine/linear/model.tar.gz' });
    assert.equal(linear.EndpointStatus, 'InService', linear.FailureReason);
    const csv = await rt.send(new InvokeEndpointCommand({ EndpointName: 'linear', ContentType: 'text/csv', Body: '1,1\n0,2' }));
    assert.equal(csv.ContentType, 'application/json');
    const values = JSON.parse(text(csv)) as number[];
    assert.ok(Math.abs(values[0]! - 1.5) < 1e-4 && Math.abs(values[1]! + 1.5) < 1e-4, text(csv));
    const asCsv = await rt.send(new InvokeEndpointCommand({ EndpointName: 'linear', ContentType: 'application/json', Accept: 'text/csv', Body: '[[1, 1]]' }));
    assert.equal(asCsv.ContentType, 'text/csv');
    assert.ok(Math.abs(Number(text(asCsv).trim()) - 1.5) < 1e-4);
    await assert.rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'linear', ContentType: 'application/x-parquet', Body: 'x' })), (e: Error & { OriginalStatusCode?: number }) => {
      assert.equal(e.OriginalStatusCode, 415);
      assert.match(e.message, /Content type application\/x-parquet is not supported by this framework/);
      return true;
    });

    await upload('echo/sourcedir.tar.gz', await sourceTarball({ 'transform.py': readFileSync(path.join(work, 'transform.py'), 'utf8') }));
    const echo = await deploy('echo', { Image: 'kiln/sklearn', Environment: { SAGEMAKER_PROGRAM: 'transform.py', SAGEMAKER_SUBMIT_DIRECTORY: 's3://wine/echo/sourcedir.tar.gz' } });
    assert.equal(echo.EndpointStatus, 'InService', echo.FailureReason);
    const echoed = await rt.send(new InvokeEndpointCommand({ EndpointName: 'echo', ContentType: 'text/csv', Accept: 'application/x-echo', Body: '1,2' }));
    assert.equal(echoed.ContentType, 'application/x-echo');
    assert.deepEqual(JSON.parse(text(echoed)), { echo: '1,2', ct: 'text/csv', accept: 'application/x-echo' });

    await upload('bare/model.tar.gz', readFileSync(path.join(work, 'model.tar.gz')));
    const bare = await deploy('bare', { Image: SKLEARN_IMAGE, ModelDataUrl: 's3://wine/bare/model.tar.gz', Environment: { SAGEMAKER_PROGRAM: 'transform.py', SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code' } });
    assert.equal(bare.EndpointStatus, 'Failed');
    assert.match(bare.FailureReason!, /The inference script 'transform\.py' \(SAGEMAKER_PROGRAM\) is not in the source directory \/opt\/ml\/model\/code/);
    const noModelFn = await deploy('no-model-fn', { Image: SKLEARN_IMAGE });
    assert.equal(noModelFn.EndpointStatus, 'Failed');
    assert.match(noModelFn.FailureReason!, /NotImplementedError: Please provide a model_fn implementation/);
  });

  test('the Kiln Node runtime trains a TypeScript entry point and serves JavaScript hooks', async () => {
    const train = `
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const args: string[] = process.argv.slice(2);
const scale = Number(args[args.indexOf('--scale') + 1]);
const rows = readFileSync(path.join(process.env.SM_CHANNEL_TRAIN!, 'train.csv'), 'utf8').trim().split('\\n').slice(1).map((l) => l.split(',').map(Number));
const mean = rows.reduce((s, r) => s + r[r.length - 1]!, 0) / rows.length;
writeFileSync(path.join(process.env.SM_MODEL_DIR!, 'model.json'), JSON.stringify({ mean, scale }));
console.log(\`mean quality \${mean.toFixed(3)} over \${rows.length} rows, hosts \${process.env.SM_HOSTS}\`);
`;
    const inference = `
import { readFileSync } from 'node:fs';
import path from 'node:path';
export async function model_fn(dir) {
  const m = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
  return { predict: (rows) => rows.map(() => m.mean * m.scale) };
}
`;
    const source = await codeAt('node/sourcedir.tar.gz', { 'train.ts': train, 'inference.mjs': inference });
    await sm.send(new CreateTrainingJobCommand(job('node-mean', sdkHyperparameters({ scale: 2 }, 'train.ts', source), { AlgorithmSpecification: { TrainingImage: 'kiln/node', TrainingInputMode: 'File' } })));
    const d = await finished('node-mean');
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const log = await jobLog(logs, '/aws/sagemaker/TrainingJobs', 'node-mean');
    const mean = Number(/^mean quality ([\d.]+) over 528 rows, hosts \["algo-1"\]$/.exec(log.find((l) => l.startsWith('mean quality')) ?? '')?.[1]);
    assert.ok(mean > 5 && mean < 6.5, log.join('\n'));

    const endpoint = await deploy('node-mean', { Image: 'kiln/node', ModelDataUrl: d.ModelArtifacts!.S3ModelArtifacts, Environment: { SAGEMAKER_PROGRAM: 'inference.mjs', SAGEMAKER_SUBMIT_DIRECTORY: source } });
    assert.equal(endpoint.EndpointStatus, 'InService', endpoint.FailureReason);
    const r = await rt.send(new InvokeEndpointCommand({ EndpointName: 'node-mean', ContentType: 'application/json', Body: '[[1, 2], [3, 4]]' }));
    assert.equal(r.ContentType, 'application/json');
    const out = JSON.parse(text(r)) as number[];
    assert.equal(out.length, 2);
    assert.ok(Math.abs(out[0]! - 2 * mean) < 0.01, text(r));
    await assert.rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'node-mean', ContentType: 'application/x-npy', Body: 'x' })), (e: Error & { OriginalStatusCode?: number }) => e.OriginalStatusCode === 415);
  });

  test('the XGBoost image in framework mode runs a script with sagemaker_program and serves it with the default handlers', async () => {
    const train = `
import argparse, os
import numpy as np, xgboost as xgb
if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--num_round', type=int, default=5)
    args, _ = parser.parse_known_args()
    data = np.loadtxt(os.path.join(os.environ['SM_CHANNEL_TRAIN'], 'train.csv'), delimiter=',', skiprows=1)
    booster = xgb.train({'max_depth': 3, 'objective': 'reg:squarederror', 'nthread': 1}, xgb.DMatrix(data[:, :-1], label=data[:, -1]), args.num_round)
    booster.save_model(os.path.join(os.environ['SM_MODEL_DIR'], 'xgboost-model'))
    print('first row predicts %.4f' % booster.predict(xgb.DMatrix(data[:1, :-1]))[0])
`;
    const xgbImage = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
    const source = await codeAt('xgb/sourcedir.tar.gz', { 'train_xgb.py': train });
    await sm.send(new CreateTrainingJobCommand(job('xgb-script', sdkHyperparameters({ num_round: 20 }, 'train_xgb.py', source), { AlgorithmSpecification: { TrainingImage: xgbImage, TrainingInputMode: 'File' } })));
    const d = await finished('xgb-script');
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const log = await jobLog(logs, '/aws/sagemaker/TrainingJobs', 'xgb-script');
    const expected = Number(/^first row predicts ([\d.]+)$/.exec(log.find((l) => l.startsWith('first row')) ?? '')?.[1]);
    assert.ok(expected > 3, log.join('\n'));

    const endpoint = await deploy('xgb-script', { Image: xgbImage, ModelDataUrl: d.ModelArtifacts!.S3ModelArtifacts, Environment: { SAGEMAKER_PROGRAM: 'train_xgb.py', SAGEMAKER_SUBMIT_DIRECTORY: source } });
    assert.equal(endpoint.EndpointStatus, 'InService', endpoint.FailureReason);
    const r = await rt.send(new InvokeEndpointCommand({ EndpointName: 'xgb-script', ContentType: 'text/csv', Body: '7.4,0.7,0.0,1.9,0.076,11.0,34.0,0.9978,3.51,0.56,9.4' }));
    assert.equal(r.ContentType, 'application/json');
    const [prediction] = JSON.parse(text(r)) as number[];
    assert.ok(Math.abs(prediction! - expected) < 1e-3, `${prediction} vs ${expected}`);
  });

  test('the inference server also speaks the container contract itself: GET /ping and POST /invocations', async () => {
    const code = mkdtempSync(path.join(work, 'contract-'));
    writeFileSync(path.join(code, 'inference.py'), 'class Summer:\n    def predict(self, x):\n        return x.sum(axis=1)\n\ndef model_fn(model_dir):\n    return Summer()\n');
    const server = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src', 'engine', 'hosting', 'python', 'kiln_inference_server.py');
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const { spawn } = await import('node:child_process');
    const child = spawn(PYTHON, [server, '--http', String(port)], { env: { ...process.env, KILN_CODE_DIR: code, SAGEMAKER_PROGRAM: 'inference.py', KILN_MODEL_DIR: code, KILN_FRAMEWORK: 'sklearn' }, stdio: 'ignore' });
    try {
      let ping: Response | undefined;
      for (let i = 0; i < 200 && !ping?.ok; i++) {
        ping = await fetch(`http://127.0.0.1:${port}/ping`).catch(() => undefined);
        if (!ping?.ok) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(ping?.status, 200);
      const r = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[[1, 2], [3, 4.5]]' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.deepEqual(await r.json(), [3, 7.5]);
      const bad = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'x' });
      assert.equal(bad.status, 415);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
