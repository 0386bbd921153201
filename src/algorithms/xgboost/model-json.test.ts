import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BoosterModel, DenseMatrix } from './model.ts';
import { loadBinaryModel } from './model-binary.ts';
import { formatFloat32, formatParamFloat, loadJsonModel, saveJsonModel } from './model-json.ts';
import { predict } from './predict.ts';
import {
  PREDICT_WITH_XGBOOST,
  type ReferenceCase,
  readF32,
  runPython,
  skipWithoutXgboost,
  tempDir,
  trainReferenceModels,
} from './python-reference.ts';

function maxRelDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let m = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Where two long strings first differ, for readable assertion messages. */
function firstDifference(a: string, b: string): string {
  if (a === b) return 'identical';
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: …${a.slice(Math.max(0, i - 60), i + 40)}… vs …${b.slice(Math.max(0, i - 60), i + 40)}…`;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('float formatting', () => {
  test('formatFloat32 writes the shortest float32 decimal in XGBoost notation', () => {
    assert.equal(formatFloat32(0.5), '5E-1');
    assert.equal(formatFloat32(0), '0E0');
    assert.equal(formatFloat32(-0), '-0E0');
    assert.equal(formatFloat32(50), '5E1');
    assert.equal(formatFloat32(1.2112676), '1.2112676E0');
    assert.equal(formatFloat32(-0.2857143), '-2.857143E-1');
    assert.equal(formatFloat32(3.4028234663852886e38), '3.4028235E38');
    assert.equal(formatFloat32(1e-45), '1E-45');
    assert.equal(formatFloat32(NaN), 'NaN');
    // exact ties round to even, as XGBoost's printer does (397.390625 → 397.39062)
    assert.equal(formatFloat32(397.390625), '3.9739062E2');
    assert.equal(formatFloat32(0.0078125), '7.8125E-3');
    for (let i = 0; i < 2000; i++) {
      const x = Math.fround((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 20 - 10));
      assert.equal(Math.fround(Number(formatFloat32(x))), x);
    }
  });

  test('formatParamFloat prints parameters as dmlc does', () => {
    assert.equal(formatParamFloat(1), '1');
    assert.equal(formatParamFloat(0.7), '0.699999988');
    assert.equal(formatParamFloat(1.5), '1.5');
    assert.equal(formatParamFloat(2.5), '2.5');
  });
});

function smallModel(): BoosterModel {
  return {
    objective: 'binary:logistic',
    objectiveParams: { scale_pos_weight: 1 },
    numFeature: 3,
    numClass: 0,
    baseScore: 0.5,
    trees: [
      {
        leftChildren: Int32Array.from([1, -1, -1]),
        rightChildren: Int32Array.from([2, -1, -1]),
        parents: Int32Array.from([2147483647, 0, 0]),
        splitIndices: Int32Array.from([2, 0, 0]),
        splitConditions: Float32Array.from([0.25, -0.1, 0.3]),
        defaultLeft: Uint8Array.from([1, 0, 0]),
        baseWeights: Float32Array.from([0, -0.5, 1]),
        lossChanges: Float32Array.from([3, 0, 0]),
        sumHessian: Float32Array.from([10, 4, 6]),
      },
    ],
    treeInfo: [0],
    attributes: { best_iteration: '0' },
  };
}

describe('JSON model documents', () => {
  test('saveJsonModel writes the XGBoost 1.7 schema', () => {
    const doc = JSON.parse(saveJsonModel(smallModel())) as Json;
    assert.deepEqual(doc['version'], [1, 7, 4]);
    const learner = doc['learner'];
    assert.deepEqual(Object.keys(learner), [
      'attributes',
      'feature_names',
      'feature_types',
      'gradient_booster',
      'learner_model_param',
      'objective',
    ]);
    assert.deepEqual(learner.learner_model_param, {
      base_score: '5E-1',
      boost_from_average: '1',
      num_class: '0',
      num_feature: '3',
      num_target: '1',
    });
    assert.deepEqual(learner.objective, { name: 'binary:logistic', reg_loss_param: { scale_pos_weight: '1' } });
    assert.equal(learner.gradient_booster.name, 'gbtree');
    const model = learner.gradient_booster.model;
    assert.deepEqual(model.gbtree_model_param, { num_parallel_tree: '1', num_trees: '1', size_leaf_vector: '0' });
    assert.deepEqual(model.tree_info, [0]);
    const tree = model.trees[0];
    assert.deepEqual(Object.keys(tree), [
      'base_weights',
      'categories',
      'categories_nodes',
      'categories_segments',
      'categories_sizes',
      'default_left',
      'id',
      'left_children',
      'loss_changes',
      'parents',
      'right_children',
      'split_conditions',
      'split_indices',
      'split_type',
      'sum_hessian',
      'tree_param',
    ]);
    assert.deepEqual(tree.tree_param, { num_deleted: '0', num_feature: '3', num_nodes: '3', size_leaf_vector: '0' });
    // XGBoost reads numbers without '.'/'E' as integers, so floats always carry an exponent
    assert.match(saveJsonModel(smallModel()), /"split_conditions":\[2\.5E-1,-1E-1,3E-1\]/);
  });

  test('objective parameter blocks', () => {
    const m = smallModel();
    const objective = (patch: Partial<BoosterModel>) =>
      (JSON.parse(saveJsonModel({ ...m, ...patch })) as Json)['learner']['objective'];
    assert.deepEqual(objective({ objective: 'count:poisson', objectiveParams: {} }), {
      name: 'count:poisson',
      poisson_regression_param: { max_delta_step: '0.699999988' },
    });
    assert.deepEqual(objective({ objective: 'reg:tweedie', objectiveParams: { tweedie_variance_power: 1.3 } }), {
      name: 'reg:tweedie',
      tweedie_regression_param: { tweedie_variance_power: '1.29999995' },
    });
    assert.deepEqual(objective({ objective: 'multi:softprob', numClass: 4, treeInfo: [3] }), {
      name: 'multi:softprob',
      softmax_multiclass_param: { num_class: '4' },
    });
    assert.deepEqual(objective({ objective: 'reg:gamma' }), { name: 'reg:gamma' });
    assert.throws(() => saveJsonModel({ ...m, treeInfo: [1] }), /output group 1 out of range/);
  });

  test('round trip through loadJsonModel is lossless', () => {
    const m = smallModel();
    const back = loadJsonModel(saveJsonModel(m));
    assert.deepEqual(back, m);
  });

  test('reads variants written by other XGBoost versions', () => {
    const base = JSON.parse(saveJsonModel(smallModel())) as Json;
    const x: DenseMatrix = { rows: 3, cols: 3, values: Float32Array.from([0, 0, 0.1, 0, 0, 0.9, 0, 0, NaN]) };
    const expected = predict(smallModel(), x);

    // 2.x: base_score as a one-element vector, newer version stamp
    const v2 = structuredClone(base);
    v2.learner.learner_model_param.base_score = '[5E-1]';
    v2.version = [2, 0, 3];
    assert.deepEqual(predict(loadJsonModel(JSON.stringify(v2)), x), expected);

    // 1.0–1.3: no categorical fields, no boost_from_average/num_target, boolean default_left
    const v1 = structuredClone(base);
    const t = v1.learner.gradient_booster.model.trees[0];
    for (const k of ['categories', 'categories_nodes', 'categories_segments', 'categories_sizes', 'split_type']) delete t[k];
    t.default_left = t.default_left.map((v: number) => v === 1);
    delete v1.learner.learner_model_param.boost_from_average;
    delete v1.learner.learner_model_param.num_target;
    delete v1.learner.feature_names;
    delete v1.learner.feature_types;
    v1.version = [1, 0, 0];
    assert.deepEqual(predict(loadJsonModel(JSON.stringify(v1)), x), expected);

    // XGBoost writes non-finite floats as bare NaN / Infinity tokens
    const text = saveJsonModel(smallModel()).replace('"loss_changes":[3E0,0E0,0E0]', '"loss_changes":[NaN,-Infinity,Infinity]');
    const nf = loadJsonModel(text);
    assert.ok(Number.isNaN(nf.trees[0]!.lossChanges[0]));
    assert.equal(nf.trees[0]!.lossChanges[1], -Infinity);

    // dart: leaves are scaled by the tree weights
    const dart = { learner: { ...base.learner, gradient_booster: { name: 'dart', gbtree: base.learner.gradient_booster, weight_drop: [0.5] } }, version: [1, 7, 4] };
    const d = loadJsonModel(JSON.stringify(dart));
    assert.deepEqual(Array.from(d.trees[0]!.splitConditions), [0.25, Math.fround(-0.05), Math.fround(0.15)]);
  });

  test('refuses what Kiln cannot represent, clearly', () => {
    const base = JSON.parse(saveJsonModel(smallModel())) as Json;
    const cat = structuredClone(base);
    cat.learner.gradient_booster.model.trees[0].split_type = [1, 0, 0];
    assert.throws(() => loadJsonModel(JSON.stringify(cat)), /categorical split at node 0/);
    const linear = structuredClone(base);
    linear.learner.gradient_booster = { name: 'gblinear', model: { weights: [] } };
    assert.throws(() => loadJsonModel(JSON.stringify(linear)), /gblinear/);
    const rank = structuredClone(base);
    rank.learner.objective = { name: 'rank:pairwise' };
    assert.throws(() => loadJsonModel(JSON.stringify(rank)), /objective 'rank:pairwise'.*supported objectives/);
    const mt = structuredClone(base);
    mt.learner.learner_model_param.num_target = '2';
    assert.throws(() => loadJsonModel(JSON.stringify(mt)), /2 targets/);
    const perClass = structuredClone(base);
    perClass.learner.learner_model_param.base_score = '[1E-1,2E-1]';
    assert.throws(() => loadJsonModel(JSON.stringify(perClass)), /one base_score per class/);
    assert.throws(() => loadJsonModel('{"learner": '), /not valid JSON/);
    assert.throws(() => loadJsonModel('{"foo": 1}'), /'learner' is missing/);
  });
});

const skip = skipWithoutXgboost();

describe('JSON models interoperate with real XGBoost', { skip }, () => {
  let dir = '';
  let cleanup = () => {};
  let manifest: Record<string, ReferenceCase> = {};
  before(() => {
    ({ dir, cleanup } = tempDir('xgb-json'));
    manifest = trainReferenceModels(dir, [
      'binary_logistic',
      'binary_logistic_nan',
      'multi_softprob',
      'multi_softmax',
      'reg_squarederror',
      'count_poisson',
      'reg_tweedie',
      'base_score',
      'pruned',
      'forest',
      'dart',
    ]);
  });
  after(() => cleanup());

  test('saveJsonModel reproduces the JSON XGBoost wrote, byte for byte', () => {
    for (const name of Object.keys(manifest)) {
      if (name === 'dart') continue; // Kiln folds dart weights into plain trees
      // boost_from_average (0 when base_score was given) is a training setting Kiln does not keep
      const original = readFileSync(path.join(dir, `${name}.json`), 'utf8').replace(
        '"boost_from_average":"0"',
        '"boost_from_average":"1"',
      );
      const fromJson = saveJsonModel(loadJsonModel(original));
      assert.ok(fromJson === original, `${name}.json: ${firstDifference(fromJson, original)}`);
      // the same document from the legacy binary model (which has no feature names to lose)
      const fromBinary = saveJsonModel(loadBinaryModel(readFileSync(path.join(dir, `${name}.model`))));
      assert.ok(fromBinary === original, `${name}.model: ${firstDifference(fromBinary, original)}`);
    }
  });

  test('models saved by Kiln load in XGBoost and predict the same', () => {
    const saved: string[] = [];
    for (const name of Object.keys(manifest)) {
      // start from the legacy binary file, as a SageMaker 1.x model would be
      const model = loadBinaryModel(readFileSync(path.join(dir, `${name}.model`)));
      const file = path.join(dir, `${name}.kiln.json`);
      writeFileSync(file, saveJsonModel(model));
      saved.push(file);
    }
    const groups = new Map<string, string[]>();
    for (const [name, c] of Object.entries(manifest)) {
      groups.set(c.x, [...(groups.get(c.x) ?? []), path.join(dir, `${name}.kiln.json`)]);
    }
    for (const [xfile, files] of groups) {
      const c = Object.values(manifest).find((m) => m.x === xfile)!;
      runPython(PREDICT_WITH_XGBOOST, [dir, path.join(dir, xfile), String(c.rows), String(c.cols), ...files]);
    }
    for (const [name, c] of Object.entries(manifest)) {
      const x: DenseMatrix = { rows: c.rows, cols: c.cols, values: readF32(path.join(dir, c.x)) };
      const model = loadJsonModel(readFileSync(path.join(dir, `${name}.kiln.json`), 'utf8'));
      const xgbPred = readF32(path.join(dir, `${name}.kiln.json.pred`));
      const xgbMargin = readF32(path.join(dir, `${name}.kiln.json.margin`));
      const original = readF32(path.join(dir, `${name}.pred`));
      assert.ok(maxRelDiff(predict(model, x), xgbPred) <= 1e-6, `${name}: Kiln vs XGBoost on Kiln's file`);
      assert.ok(maxRelDiff(predict(model, x, { outputMargin: true }), xgbMargin) <= 1e-6, `${name}: margins`);
      assert.ok(maxRelDiff(xgbPred, original) <= 1e-6, `${name}: XGBoost on Kiln's file vs the original model`);
    }
  });
});
