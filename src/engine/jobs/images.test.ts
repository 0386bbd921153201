import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XGBOOST_REGISTRIES } from './image-registries.ts';
import { DLC_REGISTRIES, ecrDomain } from './image-registries.ts';
import { resolveImage, XGBOOST_VERSIONS, xgboostImageUri } from './images.ts';

const xgb = (version: string) => ({ kind: 'builtin', algorithm: 'xgboost', version });

function reason(uri: string): string {
  const r = resolveImage(uri);
  assert.equal(r.kind, 'unknown', `${uri} should be refused`);
  return r.kind === 'unknown' ? r.reason : '';
}

test('the URIs sagemaker.image_uris.retrieve returns resolve to built-in XGBoost', () => {
  const cases: [string, string][] = [
    ['683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', '1.7-1'],
    ['246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.5-1', '1.5-1'],
    ['141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.2-2', '1.2-2'],
    ['354813040037.dkr.ecr.ap-northeast-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3', '1.0-1'],
    ['492215442770.dkr.ecr.eu-central-1.amazonaws.com/sagemaker-xgboost:0.90-1-cpu-py3', '0.90-1'],
    ['783357654285.dkr.ecr.ap-southeast-2.amazonaws.com/sagemaker-xgboost:0.90-2', '0.90-2'],
    ['450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1', '1.7-1'],
    ['451049120500.dkr.ecr.cn-northwest-1.amazonaws.com.cn/sagemaker-xgboost:1.3-1', '1.3-1'],
    ['414596584902.dkr.ecr.us-gov-west-1.amazonaws.com/sagemaker-xgboost:1.2-1', '1.2-1'],
    ['833128469047.dkr.ecr.us-iso-east-1.c2s.ic.gov/sagemaker-xgboost:1.7-1', '1.7-1'],
    ['281123927165.dkr.ecr.us-isob-east-1.sc2s.sgov.gov/sagemaker-xgboost:1.5-1', '1.5-1'],
    ['124985052026.dkr.ecr.us-isof-south-1.csp.hci.ic.gov/sagemaker-xgboost:1.7-1', '1.7-1'],
    ['366743142698.dkr.ecr.ap-northeast-2.amazonaws.com/sagemaker-xgboost:1.5-1-arm64', '1.5-1'],
    ['  683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1\n', '1.7-1'],
  ];
  for (const [uri, version] of cases) assert.deepEqual(resolveImage(uri), xgb(version), uri);
});

test('every region and version the SDK lists resolves, as the SDK spells it', () => {
  for (const region of Object.keys(XGBOOST_REGISTRIES)) {
    for (const version of XGBOOST_VERSIONS) {
      const uri = xgboostImageUri(region, version)!;
      assert.deepEqual(resolveImage(uri), xgb(version), uri);
    }
  }
  assert.equal(xgboostImageUri('us-east-1', '1.0-1'), '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3');
  assert.equal(xgboostImageUri('cn-north-1'), '450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1');
  assert.equal(Object.keys(XGBOOST_REGISTRIES).length, 37);
});

test('the legacy 0.72 image from get_image_uri', () => {
  assert.deepEqual(resolveImage('811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1'), xgb('0.72'));
  assert.deepEqual(resolveImage('433757028032.dkr.ecr.us-west-2.amazonaws.com/xgboost:latest'), xgb('0.72'));
  assert.deepEqual(resolveImage('390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/xgboost:1'), xgb('0.72'));
  assert.deepEqual(resolveImage(xgboostImageUri('eu-west-1', '1')!), xgb('0.72'));
  assert.match(reason('190319476487.dkr.ecr.ca-west-1.amazonaws.com/xgboost:1'), /no legacy XGBoost 0\.72 image in ca-west-1/);
  assert.match(reason('811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:0.90-1'), /tags 1 and latest.*sagemaker-xgboost:1\.7-1/);
});

test('the kiln/xgboost alias', () => {
  assert.deepEqual(resolveImage('kiln/xgboost'), xgb('1.7-1'));
  assert.deepEqual(resolveImage('kiln/xgboost:latest'), xgb('1.7-1'));
  assert.deepEqual(resolveImage('kiln/xgboost:1.7-1'), xgb('1.7-1'));
  assert.deepEqual(resolveImage('kiln/xgboost:1.2-1'), xgb('1.2-1'));
  assert.deepEqual(resolveImage('kiln/xgboost:1.0-1-cpu-py3'), xgb('1.0-1'));
  assert.match(reason('kiln/xgboost:2.0-1'), /'2\.0-1' is not an XGBoost container version Kiln supports/);
  assert.match(reason('kiln/kmeans:1'), /^Kiln cannot run image 'kiln\/kmeans:1': only the built-in XGBoost images and framework images are supported/);
});

test('refusals say what is wrong and what Kiln can run', () => {
  // Wrong repository.
  assert.match(reason('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-kmeans:1'), /repository 'sagemaker-kmeans' is neither a built-in algorithm Kiln implements nor a framework image/);
  // The us-west-2 account named in us-east-1, and the legacy account for the new repository.
  assert.match(reason('246618743249.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1'), /246618743249 is not SageMaker's XGBoost registry for us-east-1 \(expected 683313688378\)/);
  assert.match(reason('811284229777.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1'), /expected 683313688378/);
  assert.match(reason('683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:1'), /expected 811284229777/);
  // A China region outside the .cn domain.
  assert.match(reason('450853457545.dkr.ecr.cn-north-1.amazonaws.com/sagemaker-xgboost:1.7-1'), /ECR in cn-north-1 is at amazonaws\.com\.cn/);
  // Versions SageMaker publishes but Kiln does not run, and versions that do not exist.
  assert.match(reason('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5'), /XGBoost container version 3\.0-5 is not supported by Kiln yet/);
  assert.match(reason('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.1-1'), /'1\.1-1' is not an XGBoost container version/);
  assert.match(reason('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost'), /names no version; use e\.g\. 683313688378\.dkr\.ecr\.us-east-1\.amazonaws\.com\/sagemaker-xgboost:1\.7-1/);
  assert.match(reason('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1-arm64'), /no arm64 XGBoost 1\.7-1/);
  // Regions without an image, and things that are not image URIs at all.
  assert.match(reason('683313688378.dkr.ecr.mars-north-1.amazonaws.com/sagemaker-xgboost:1.7-1'), /no XGBoost image in region 'mars-north-1'/);
  for (const uri of ['', 'xgboost', 'python:3.12', 'my-registry.example.com/team/xgboost:1.7-1']) {
    const why = reason(uri);
    assert.match(why, /only the built-in XGBoost images and framework images are supported/);
    assert.match(why, /kiln\/xgboost:1\.7-1/);
    assert.ok(why.length < 1024, 'fits a FailureReason');
  }
});

test('framework images as image_uris.retrieve returns them, in every region, and Kiln\'s aliases', () => {
  const fw = (framework: string, version: string) => ({ kind: 'framework', framework, version });
  assert.deepEqual(resolveImage('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3'), fw('sklearn', '1.2-1'));
  assert.deepEqual(resolveImage('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:0.23-1-cpu-py3'), fw('sklearn', '0.23-1'));
  assert.deepEqual(resolveImage('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0.0-cpu-py310'), fw('pytorch', '2.0.0'));
  assert.deepEqual(resolveImage('763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:1.13.1-gpu-py39-cu117-ubuntu20.04-sagemaker'), fw('pytorch', '1.13.1'));
  assert.deepEqual(resolveImage('763104351884.dkr.ecr.us-west-2.amazonaws.com/tensorflow-training:2.13.0-cpu-py310'), fw('tensorflow', '2.13.0'));
  assert.deepEqual(resolveImage('727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/tensorflow-inference:2.13.0-cpu'), fw('tensorflow', '2.13.0'));
  assert.deepEqual(resolveImage('520713654638.dkr.ecr.us-east-1.amazonaws.com/sagemaker-pytorch:1.1.0-cpu-py3'), fw('pytorch', '1.1.0'));
  for (const [region, account] of Object.entries(XGBOOST_REGISTRIES)) {
    const host = xgboostImageUri(region)!.split('/')[0];
    assert.equal(host.split('.')[0], account[0]);
    assert.deepEqual(resolveImage(`${host}/sagemaker-scikit-learn:1.2-1-cpu-py3`), fw('sklearn', '1.2-1'), region);
  }
  for (const [region, account] of Object.entries(DLC_REGISTRIES)) {
    const uri = `${account}.dkr.ecr.${region}.${ecrDomain(region)}/pytorch-training:2.0.0-cpu-py310`;
    assert.deepEqual(resolveImage(uri), fw('pytorch', '2.0.0'), uri);
  }
  assert.deepEqual(resolveImage('kiln/sklearn'), fw('sklearn', ''));
  assert.deepEqual(resolveImage('kiln/node:20'), fw('node', '20'));
  assert.deepEqual(resolveImage('kiln/python'), fw('python', ''));
  assert.match(reason('763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3'), /763104351884 is not SageMaker's sagemaker-scikit-learn registry for us-east-1 \(expected 683313688378\)/);
  assert.match(reason('683313688378.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0.0-cpu-py310'), /expected 763104351884/);
  assert.match(reason('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training'), /names no version tag/);
  assert.match(reason('763104351884.dkr.ecr.mars-north-1.amazonaws.com/pytorch-training:2.0.0-cpu-py310'), /no pytorch-training image in region 'mars-north-1'/);
});
