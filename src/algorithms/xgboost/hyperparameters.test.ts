import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { HyperparameterError, parseHyperparameters } from './hyperparameters.ts';

const f32 = Math.fround;

describe('parseHyperparameters', () => {
  it('applies SageMaker/XGBoost defaults', () => {
    const p = parseHyperparameters({ num_round: '10' });
    assert.equal(p.numRound, 10);
    assert.equal(p.objective, 'reg:squarederror');
    assert.equal(p.eta, f32(0.3));
    assert.equal(p.gamma, 0);
    assert.equal(p.maxDepth, 6);
    assert.equal(p.minChildWeight, 1);
    assert.equal(p.maxDeltaStep, undefined);
    assert.equal(p.subsample, 1);
    assert.equal(p.colsampleBytree, 1);
    assert.equal(p.lambda, 1);
    assert.equal(p.alpha, 0);
    assert.equal(p.scalePosWeight, 1);
    assert.equal(p.baseScore, undefined);
    assert.equal(p.maxBin, 256);
    assert.equal(p.treeMethod, 'auto');
    assert.equal(p.growPolicy, 'depthwise');
    assert.equal(p.seed, 0);
    assert.equal(p.evalMetric, undefined);
    assert.equal(p.earlyStoppingRounds, undefined);
    assert.equal(p.csvWeights, 0);
    assert.equal(p.tweedieVariancePower, f32(1.5));
    assert.equal(p.nthread, os.availableParallelism());
    assert.equal(p.numClass, undefined);
  });

  it('parses the churn sample configuration', () => {
    const p = parseHyperparameters({
      max_depth: '5',
      eta: '0.2',
      gamma: '4',
      min_child_weight: '6',
      subsample: '0.8',
      objective: 'binary:logistic',
      num_round: '100',
      eval_metric: 'error,auc',
      early_stopping_rounds: '10',
      csv_weights: '1',
      nthread: '2',
    });
    assert.equal(p.maxDepth, 5);
    assert.equal(p.eta, f32(0.2));
    assert.equal(p.gamma, 4);
    assert.equal(p.minChildWeight, 6);
    assert.equal(p.subsample, f32(0.8));
    assert.equal(p.objective, 'binary:logistic');
    assert.deepEqual(p.evalMetric, ['error', 'auc']);
    assert.equal(p.earlyStoppingRounds, 10);
    assert.equal(p.csvWeights, 1);
    assert.equal(p.nthread, 2);
  });

  it('accepts aliases, Python number syntax and reg:linear', () => {
    const p = parseHyperparameters({ num_round: ' 7 ', learning_rate: '1e-1', reg_lambda: '2', reg_alpha: '.5', min_split_loss: '1_0', objective: 'reg:linear' });
    assert.equal(p.numRound, 7);
    assert.equal(p.eta, f32(0.1));
    assert.equal(p.lambda, 2);
    assert.equal(p.alpha, 0.5);
    assert.equal(p.gamma, 10);
    assert.equal(p.objective, 'reg:squarederror');
    assert.equal(p.raw.eta, '1e-1');
  });

  it('accepts every tree method and trains them all with hist', () => {
    for (const m of ['auto', 'exact', 'approx', 'hist', 'gpu_hist']) {
      assert.equal(parseHyperparameters({ num_round: '1', tree_method: m }).treeMethod, m);
    }
  });

  const rejects = (raw: Record<string, string>, message: string | RegExp) =>
    assert.throws(() => parseHyperparameters(raw), (e: Error) => {
      assert.ok(e instanceof HyperparameterError, `expected HyperparameterError, got ${e.name}`);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    });

  it('reports errors in the container\'s words', () => {
    rejects({}, 'Missing required hyperparameter: num_round');
    rejects({ num_round: '10', foo: '1' }, 'Extraneous hyperparameter found: foo');
    rejects({ num_round: '10', eta: '2' }, 'Hyperparameter eta: 2.0 is not in [0, 1]');
    rejects({ num_round: '10', max_depth: '2.5' }, 'Hyperparameter max_depth: could not parse value');
    rejects({ num_round: 'ten' }, 'Hyperparameter num_round: could not parse value');
    rejects({ num_round: '0' }, 'Hyperparameter num_round: 0 is not in [1, +inf)');
    rejects({ num_round: '10', subsample: '0' }, 'Hyperparameter subsample: 0.0 is not in (0, 1]');
    rejects({ num_round: '10', gamma: '-1' }, 'Hyperparameter gamma: -1.0 is not in [0, +inf)');
    rejects({ num_round: '10', tweedie_variance_power: '2' }, 'Hyperparameter tweedie_variance_power: 2.0 is not in (1, 2)');
    rejects({ num_round: '10', booster: 'foo' }, "Hyperparameter booster: foo is not in ['gbtree', 'gblinear', 'dart']");
    rejects({ num_round: '10', tree_method: 'fast' }, /^Hyperparameter tree_method: fast is not in \['auto', 'exact', 'approx', 'hist', 'gpu_hist'\]$/);
    rejects({ num_round: '10', objective: 'reg:bogus' }, /^Hyperparameter objective: reg:bogus is not in \[/);
    rejects({ num_round: '10', seed: '2147483647' }, 'Hyperparameter seed: 2147483647 is not in (-2147483648, 2147483647)');
  });

  it('checks dependencies between hyperparameters', () => {
    rejects({ num_round: '10', objective: 'multi:softmax' }, "Require input for parameter 'num_class' for multi-classification");
    rejects({ num_round: '10', objective: 'binary:logistic', num_class: '3' }, "Do not need to setup parameter 'num_class' for learning task other than multi-classification.");
    rejects({ num_round: '10', objective: 'multi:softprob', num_class: '1' }, 'Hyperparameter num_class: 1 is not in [2, +inf)');
    rejects({ num_round: '10', objective: 'reg:squarederror', eval_metric: 'auc' }, "Metric 'auc' can only be applied for classification and ranking problems.");
    assert.equal(parseHyperparameters({ num_round: '1', objective: 'multi:softprob', num_class: '4' }).numClass, 4);
  });

  it('validates eval_metric entries', () => {
    assert.deepEqual(parseHyperparameters({ num_round: '1', objective: 'binary:logistic', eval_metric: 'error@0.7,logloss,aucpr' }).evalMetric, ['error@0.7', 'logloss', 'aucpr']);
    assert.deepEqual(parseHyperparameters({ num_round: '1', objective: 'reg:tweedie', eval_metric: 'tweedie-nloglik@1.3' }).evalMetric, ['tweedie-nloglik@1.3']);
    rejects({ num_round: '1', eval_metric: 'bogus' }, /^Hyperparameter eval_metric: value \['bogus'\] not in range/);
    rejects({ num_round: '1', eval_metric: 'rmse@2' }, /Parameter 'eval_metric' with customized threshold should be one of these options/);
    rejects({ num_round: '1', objective: 'binary:logistic', eval_metric: 'error@x' }, "Threshold value 't' in 'error@t' expects float input.");
    rejects({ num_round: '1', objective: 'multi:softmax', num_class: '3', eval_metric: 'error' }, /cannot be used with objective multi:softmax/);
    rejects({ num_round: '1', objective: 'binary:logistic', eval_metric: 'mlogloss' }, /only for multi-class classification/);
    rejects({ num_round: '1', eval_metric: 'ndcg' }, /not supported by Kiln/);
  });

  it('rejects settings Kiln does not implement, clearly', () => {
    rejects({ num_round: '1', booster: 'gblinear' }, /booster: gblinear is not supported by Kiln/);
    rejects({ num_round: '1', objective: 'rank:pairwise' }, /objective: rank:pairwise is not supported by Kiln/);
    rejects({ num_round: '1', tree_method: 'hist', monotone_constraints: '(1,0)' }, /monotone constraints are not supported/);
    rejects({ num_round: '1', num_parallel_tree: '4' }, /num_parallel_tree/);
    rejects({ num_round: '1', max_bin: '1' }, 'Hyperparameter max_bin: 1 is not in [2, +inf)');
    rejects({ num_round: '1', max_depth: '0' }, /max_depth=0 \(no limit\) requires max_leaves > 0/);
    rejects({ num_round: '1', objective: 'binary:logistic', base_score: '1' }, /base_score must be in \(0,1\) for logistic loss/);
    assert.equal(parseHyperparameters({ num_round: '1', tree_method: 'hist', monotone_constraints: '(0,0)' }).numRound, 1);
  });
});
