import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDataWranglerArguments } from './data-wrangler-arguments.ts';
import { dataWranglerImageUri, resolveDataWranglerImage } from './data-wrangler-image.ts';

test('Data Wrangler image URIs: the SDK’s per-region registries, release tags and the kiln short name', () => {
  assert.equal(dataWranglerImageUri('us-east-1'), '663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:3.x');
  assert.equal(dataWranglerImageUri('cn-north-1', '1.x'), '245909111842.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-data-wrangler-container:1.x');
  for (const uri of [
    '663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:1.x',
    '415577184552.dkr.ecr.us-east-2.amazonaws.com/sagemaker-data-wrangler-container:1.3.0',
    '415577184552.dkr.ecr.us-east-2.amazonaws.com/sagemaker-data-wrangler-container:5.0.9',
    '406833011540.dkr.ecr.il-central-1.amazonaws.com/sagemaker-data-wrangler-container:3.x',
    'kiln/data-wrangler',
    'kiln/data-wrangler:2.x',
  ]) {
    assert.equal(resolveDataWranglerImage(uri)?.kind, 'data-wrangler', uri);
  }
  assert.equal(resolveDataWranglerImage('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1'), undefined);
  assert.equal(resolveDataWranglerImage('kiln/python'), undefined);
  const reason = (uri: string) => {
    const r = resolveDataWranglerImage(uri);
    assert.equal(r?.kind, 'unknown', uri);
    return (r as { reason: string }).reason;
  };
  assert.match(reason('174368400705.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:3.x'), /174368400705 is not SageMaker's Data Wrangler registry for us-east-1 \(expected 663277389841\)/);
  assert.match(reason('663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container'), /names no version; use e\.g\. .*:3\.x/);
  assert.match(reason('663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:nightly'), /'nightly' is not a Data Wrangler version/);
  assert.match(reason('406833011540.dkr.ecr.il-central-1.amazonaws.com/sagemaker-data-wrangler-container:1.x'), /only Data Wrangler 3\.x in il-central-1/);
  assert.match(reason('123456789012.dkr.ecr.mars-1.amazonaws.com/sagemaker-data-wrangler-container:3.x'), /no Data Wrangler image in region 'mars-1'/);
});

test('container arguments as the exported notebooks pass them: one string with single-quoted JSON, or flag and value apart', () => {
  const parsed = parseDataWranglerArguments([
    `--output-config '{"a1.default": {"content_type": "CSV"}, "b2.default": {"content_type": "parquet"}}'`,
    '--output-config',
    '{"c3.train": {"content_type": "CSV", "delimiter": "|"}}',
    `--refit-trained-params '{"refit": true, "output_flow": "x.flow"}'`,
  ]);
  assert.deepEqual(Object.fromEntries(parsed.outputs), { 'a1.default': { format: 'csv' }, 'b2.default': { format: 'parquet' }, 'c3.train': { format: 'csv', delimiter: '|' } });
  assert.deepEqual(parsed.refit, { refit: true, outputFlow: 'x.flow' });
  assert.deepEqual(parseDataWranglerArguments(undefined).outputs.size, 0);
  assert.equal(parseDataWranglerArguments(['--output-config={"n.default":{}}']).outputs.get('n.default')?.format, undefined);

  const refused = (args: string[], reason: RegExp) => assert.throws(() => parseDataWranglerArguments(args), (e: Error & { reason?: string }) => reason.test(e.reason ?? '') || assert.fail(e.reason));
  refused(['--verbose'], /^ClientError: The Data Wrangler container does not take the argument '--verbose'/);
  refused(['--output-config'], /--output-config needs a JSON value/);
  refused([`--output-config '{nope}'`], /--output-config must be followed by JSON/);
  refused([`--output-config '{"a.default": {"content_type": "JSON"}}'`], /content_type of 'a\.default' must be CSV or PARQUET, not "JSON"/);
  refused([`--output-config '{"a.default": {"compression": "gzip"}}'`], /'compression' \(of 'a\.default'\) is not supported by Kiln/);
  refused([`--output-config '{"a.default": {"content_type": "PARQUET", "delimiter": ","}}'`], /is PARQUET, which has no delimiter/);
  refused([`--output-config '{"a.default": {}}'`, `--output-config '{"a.default": {}}'`], /names 'a\.default' twice/);
  refused([`--refit-trained-params '{"output_flow": "x.flow"}'`], /needs "refit": true or false/);
  refused([`--parameter-override '{"InputDataUrl": "s3://b/k"}'`], /sets Data Wrangler flow parameters \(InputDataUrl\); Kiln flows have no parameters/);
});
