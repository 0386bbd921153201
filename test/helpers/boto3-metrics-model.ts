/**
 * Debian's boto3 1.26 predates the SageMaker Metrics service. botocore loads extra service
 * models from AWS_DATA_PATH, so this writes the official model (shipped by the aws-sdk
 * package, where shapes are inlined) in botocore's form, where every shape is named.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

type Shape = Record<string, any>;

function botocoreModel(model: { metadata: object; operations: Record<string, Shape>; shapes: Record<string, Shape> }) {
  const shapes: Record<string, Shape> = { ...model.shapes };
  const name = (inline: Shape, suggested: string): { shape: string } => {
    if (inline.shape) return { shape: inline.shape };
    const shape: Shape = { type: 'string', ...inline };
    if (shape.type === 'structure') {
      shape.members = Object.fromEntries(Object.entries(shape.members ?? {}).map(([m, s]) => [m, name(s as Shape, `${suggested}${m}`)]));
    } else if (shape.type === 'list') {
      shape.member = name(shape.member, `${suggested}Member`);
    } else if (shape.type === 'map') {
      shape.key = name(shape.key, `${suggested}Key`);
      shape.value = name(shape.value, `${suggested}Value`);
    }
    shapes[suggested] = shape;
    return { shape: suggested };
  };
  const operations = Object.fromEntries(
    Object.entries(model.operations).map(([op, o]) => [
      op,
      { ...o, name: op, ...(o.input ? { input: name(o.input, `${op}Request`) } : {}), ...(o.output ? { output: name(o.output, `${op}Response`) } : {}) },
    ]),
  );
  return { version: '2.0', metadata: model.metadata, operations, shapes };
}

/** Writes the model under `dir` and returns the directory to pass as AWS_DATA_PATH. */
export function writeBoto3MetricsModel(dir: string): string {
  const require = createRequire(import.meta.url);
  const file = require.resolve('aws-sdk/apis/sagemaker-metrics-2022-09-30.min.json');
  const target = path.join(dir, 'sagemaker-metrics', '2022-09-30');
  mkdirSync(target, { recursive: true });
  writeFileSync(path.join(target, 'service-2.json'), JSON.stringify(botocoreModel(JSON.parse(readFileSync(file, 'utf8')))));
  return dir;
}
