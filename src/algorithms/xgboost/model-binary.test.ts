import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { decodeUbjson, detectModelFormat, loadBinaryModel, loadModel, loadUbjsonModel } from './model-binary.ts';
import { loadJsonModel, saveJsonModel } from './model-json.ts';
import type { BoosterModel } from './model.ts';
import { runPython, skipWithoutXgboost, tempDir, trainReferenceModels } from './python-reference.ts';

function tinyModel(): BoosterModel {
  return {
    objective: 'reg:squarederror',
    objectiveParams: { scale_pos_weight: 1 },
    numFeature: 2,
    numClass: 0,
    baseScore: 0.5,
    trees: [
      {
        leftChildren: Int32Array.from([1, -1, -1]),
        rightChildren: Int32Array.from([2, -1, -1]),
        parents: Int32Array.from([2147483647, 0, 0]),
        splitIndices: Int32Array.from([1, 0, 0]),
        splitConditions: Float32Array.from([0.5, -1, 1]),
        defaultLeft: Uint8Array.from([0, 0, 0]),
        baseWeights: Float32Array.from([0, -1, 1]),
        lossChanges: Float32Array.from([1, 0, 0]),
        sumHessian: Float32Array.from([2, 1, 1]),
      },
    ],
    treeInfo: [0],
    attributes: {},
  };
}

describe('format detection', () => {
  test('JSON text, UBJSON and binary are told apart by their first bytes', () => {
    const json = Buffer.from(saveJsonModel(tinyModel()));
    assert.equal(detectModelFormat(json), 'json');
    assert.equal(detectModelFormat(Buffer.concat([Buffer.from('\n  '), json])), 'json');
    assert.equal(detectModelFormat(Buffer.from('{L\u0000\u0000')), 'ubjson');
    assert.equal(detectModelFormat(Buffer.from('binf\u0000\u0000\u0000?')), 'binary');
    assert.deepEqual(loadModel(json), tinyModel());
  });

  test('pickles, archives and garbage get clear errors', () => {
    assert.throws(() => loadModel(Buffer.from([0x80, 0x04, 0x95, 0x00])), /pickled Python object.*0\.90.*cannot read pickles/);
    assert.throws(() => loadModel(gzipSync(Buffer.from('x'))), /gzip-compressed.*extract/);
    assert.throws(() => loadModel(Buffer.alloc(0)), /empty/);
    assert.throws(() => loadModel(Buffer.from('binf')), /truncated/);
    assert.throws(() => loadModel(Buffer.from('hello world, this is not a model at all'.repeat(10))), /XGBoost binary model/);
  });

  test('UBJSON decoding: typed arrays, counted and open containers', () => {
    // {"a": [$d #U 2 1.5 -2], "b": "hi", "c": [i 1 T Z]}
    const bytes = Buffer.from([
      0x7b, 0x55, 1, 0x61, 0x5b, 0x24, 0x64, 0x23, 0x55, 2, 0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0, 0x55, 1, 0x62, 0x53, 0x55, 2,
      0x68, 0x69, 0x55, 1, 0x63, 0x5b, 0x69, 1, 0x54, 0x5a, 0x5d, 0x7d,
    ]);
    const doc = decodeUbjson(bytes) as Record<string, unknown>;
    assert.deepEqual(Array.from(doc['a'] as Float32Array), [1.5, -2]);
    assert.equal(doc['b'], 'hi');
    assert.deepEqual(doc['c'], [1, true, null]);
    assert.throws(() => decodeUbjson(bytes.subarray(0, 12)), /truncated/);
  });
});

const skip = skipWithoutXgboost();

describe('legacy binary and UBJSON models from real XGBoost', { skip }, () => {
  let dir = '';
  let cleanup = () => {};
  let names: string[] = [];
  before(() => {
    ({ dir, cleanup } = tempDir('xgb-binary'));
    names = Object.keys(
      trainReferenceModels(dir, ['binary_logistic', 'multi_softprob', 'count_poisson', 'reg_tweedie', 'pruned', 'forest', 'dart']),
    );
  });
  after(() => cleanup());

  test('binary (with and without the "binf" header) and UBJSON read as the JSON model does', () => {
    for (const name of names) {
      const fromJson = loadJsonModel(readFileSync(path.join(dir, `${name}.json`), 'utf8'));
      const binary = readFileSync(path.join(dir, `${name}.model`));
      assert.equal(binary.toString('latin1', 0, 4), 'binf');
      assert.deepEqual(loadBinaryModel(binary), fromJson, `${name}.model`);
      assert.deepEqual(loadBinaryModel(binary.subarray(4)), fromJson, `${name}.model without binf`);
      assert.deepEqual(loadUbjsonModel(readFileSync(path.join(dir, `${name}.ubj`))), fromJson, `${name}.ubj`);
    }
  });

  test('objective parameters and attributes come from the binary model', () => {
    const poisson = loadBinaryModel(readFileSync(path.join(dir, 'count_poisson.model')));
    assert.equal(poisson.objective, 'count:poisson');
    assert.equal(Math.fround(poisson.objectiveParams['max_delta_step']!), Math.fround(0.7));
    assert.equal(poisson.attributes['best_iteration'], '19');
    const tweedie = loadBinaryModel(readFileSync(path.join(dir, 'reg_tweedie.model')));
    assert.equal(Math.fround(tweedie.objectiveParams['tweedie_variance_power']!), Math.fround(1.3));
    const forest = loadBinaryModel(readFileSync(path.join(dir, 'forest.model')));
    assert.equal(forest.numParallelTree, 3);
    assert.equal(forest.numClass, 3);
  });

  test('a model saved before XGBoost 1.0 keeps base_score in margin space', () => {
    const binary = Buffer.from(readFileSync(path.join(dir, 'binary_logistic.model')));
    // major/minor version 0 and base_score = logit(0.25), as 0.90 wrote it
    binary.writeUInt32LE(0, 4 + 20);
    binary.writeUInt32LE(0, 4 + 24);
    binary.writeFloatLE(Math.log(0.25 / 0.75), 4);
    const m = loadBinaryModel(binary);
    assert.ok(Math.abs(m.baseScore - 0.25) < 1e-7);
  });

  test('a pickled Booster is refused with an explanation', () => {
    const file = path.join(dir, 'pickled');
    runPython(
      'import pickle, sys, xgboost as xgb\nb = xgb.Booster(model_file=sys.argv[1])\npickle.dump(b, open(sys.argv[2], "wb"))',
      [path.join(dir, 'binary_logistic.model'), file],
    );
    assert.throws(() => loadModel(readFileSync(file)), /pickled Python object/);
  });

  test('truncated binary models fail clearly', () => {
    const binary = readFileSync(path.join(dir, 'binary_logistic.model'));
    for (const n of [100, 400, binary.length - 10]) {
      assert.throws(() => loadBinaryModel(binary.subarray(0, n)), /truncated/, `cut at ${n}`);
    }
  });
});
