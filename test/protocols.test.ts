import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateTrainingJobCommand, DescribeLabelingJobCommand, ListTrainingJobsCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';

const trainingJob = {
  TrainingJobName: 'job-1',
  RoleArn: 'arn:aws:iam::000000000000:role/SageMakerRole',
  AlgorithmSpecification: { TrainingImage: 'xgboost', TrainingInputMode: 'File' as const },
  OutputDataConfig: { S3OutputPath: 's3://bucket/out/' },
  ResourceConfig: { InstanceType: 'ml.m5.large' as const, InstanceCount: 1, VolumeSizeInGB: 10 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
};

describe('protocol edge through the official clients', () => {
  let k: TestKiln;
  let sm: SageMakerClient;
  before(async () => {
    k = await startTestKiln();
    sm = new SageMakerClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials, maxAttempts: 1 });
  });
  after(async () => {
    sm?.destroy();
    await k?.stop();
  });

  test('health answers with JSON once ready', async () => {
    const res = await fetch(`${k.endpoint}/_kiln/health`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.accountId, '000000000000');
  });

  test('STS GetCallerIdentity answers the account and root ARN', async () => {
    const sts = new STSClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, '000000000000');
    assert.equal(me.Arn, 'arn:aws:iam::000000000000:root');
    assert.ok(me.$metadata.requestId);
    sts.destroy();
  });

  test('an operation Kiln does not implement answers an AWS-shaped error naming it', async () => {
    // Ground Truth labeling is outside what Kiln builds, so this stays unimplemented.
    await assert.rejects(sm.send(new DescribeLabelingJobCommand({ LabelingJobName: 'x' })), (e: SageMakerServiceException) => {
      assert.equal(e.name, 'NotImplemented');
      assert.equal(e.$metadata.httpStatusCode, 501);
      assert.match(e.message, /DescribeLabelingJob/);
      assert.ok(e.$metadata.requestId, 'carries x-amzn-RequestId');
      return true;
    });
  });

  test('a missing required member is a ValidationException in AWS wording', async () => {
    const { RoleArn: _omitted, ...withoutRole } = trainingJob;
    await assert.rejects(sm.send(new CreateTrainingJobCommand(withoutRole as typeof trainingJob)), (e: SageMakerServiceException) => {
      assert.equal(e.name, 'ValidationException');
      assert.equal(e.$metadata.httpStatusCode, 400);
      assert.equal(e.message, "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
      return true;
    });
  });

  test('values breaking the model constraints are refused with every violation listed', async () => {
    await assert.rejects(
      sm.send(new CreateTrainingJobCommand({ ...trainingJob, TrainingJobName: 'bad_name!', ResourceConfig: { ...trainingJob.ResourceConfig, InstanceType: 'ml.huge' as 'ml.m5.large' }, StoppingCondition: { MaxRuntimeInSeconds: 0 } })),
      (e: SageMakerServiceException) => {
        assert.equal(e.name, 'ValidationException');
        assert.match(e.message, /^3 validation errors detected: /);
        assert.match(e.message, /Value 'bad_name!' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
        assert.match(e.message, /Value 'ml\.huge' at 'resourceConfig\.instanceType' failed to satisfy constraint: Member must satisfy enum value set: \[/);
        assert.match(e.message, /Value '0' at 'stoppingCondition\.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1/);
        return true;
      },
    );
    await assert.rejects(sm.send(new ListTrainingJobsCommand({ MaxResults: 1000 })), (e: Error) => {
      assert.equal(e.name, 'ValidationException');
      assert.match(e.message, /maxResults/);
      return true;
    });
  });

  test('a body that is not JSON is a SerializationException', async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { Sha256 } = await import('@aws-crypto/sha256-js');
    const url = new URL(k.endpoint);
    const signer = new SignatureV4({ service: 'sagemaker', region: k.region, credentials: k.credentials, sha256: Sha256 });
    const req = await signer.sign({
      method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.ListTrainingJobs' },
      body: '{not json',
    });
    const res = await fetch(`${k.endpoint}/`, { method: 'POST', headers: req.headers as Record<string, string>, body: '{not json' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).__type, 'SerializationException');
  });
});
