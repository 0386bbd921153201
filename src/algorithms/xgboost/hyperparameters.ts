/**
 * Hyperparameters of the SageMaker built-in XGBoost algorithm (container 1.7-1): the same
 * names, aliases, defaults and validation as the container's hyperparameter_validation, with
 * its error wording ("Hyperparameter eta: 2.0 is not in [0, 1]"), plus clear errors for the
 * few settings Kiln does not implement.
 *
 * Input is SageMaker's hyperparameters.json map: every value is a string.
 */
import os from 'node:os';
import type { ObjectiveName } from './model.ts';
import { MetricError, parseMetric } from './metrics.ts';

export class HyperparameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HyperparameterError';
  }
}

export type TreeMethod = 'auto' | 'exact' | 'approx' | 'hist' | 'gpu_hist';

export interface XgbParams {
  numRound: number;
  objective: ObjectiveName;
  /** num_class for multi:* objectives, else undefined. */
  numClass: number | undefined;
  eta: number;
  gamma: number;
  maxDepth: number;
  minChildWeight: number;
  /** As given; undefined means XGBoost's default (0 for trees, 0.7 for count:poisson). */
  maxDeltaStep: number | undefined;
  subsample: number;
  colsampleBytree: number;
  colsampleBylevel: number;
  colsampleBynode: number;
  lambda: number;
  alpha: number;
  scalePosWeight: number;
  /** As given; undefined means 0.5 (median of labels for reg:absoluteerror, as XGBoost 1.7). */
  baseScore: number | undefined;
  maxBin: number;
  treeMethod: TreeMethod;
  growPolicy: 'depthwise' | 'lossguide';
  maxLeaves: number;
  seed: number;
  /** eval_metric entries in the order given, or undefined for the objective's default. */
  evalMetric: string[] | undefined;
  earlyStoppingRounds: number | undefined;
  csvWeights: 0 | 1;
  tweedieVariancePower: number;
  nthread: number;
  verbosity: number;
  booster: 'gbtree';
  /** The validated map (aliases resolved), for saving with the model. */
  raw: Record<string, string>;
}

type Kind = 'int' | 'float' | 'cat' | 'list' | 'free';

interface Interval {
  minOpen?: number;
  minClosed?: number;
  maxOpen?: number;
  maxClosed?: number;
}

interface Spec {
  kind: Kind;
  interval?: Interval;
  values?: readonly string[];
}

const OBJECTIVES = [
  'aft_loss_distribution', 'binary:logistic', 'binary:logitraw', 'binary:hinge', 'count:poisson', 'multi:softmax',
  'multi:softprob', 'rank:pairwise', 'rank:ndcg', 'rank:map', 'reg:linear', 'reg:squarederror', 'reg:logistic',
  'reg:gamma', 'reg:pseudohubererror', 'reg:squaredlogerror', 'reg:absoluteerror', 'reg:tweedie', 'survival:aft',
  'survival:cox',
] as const;

const SUPPORTED_OBJECTIVES: readonly ObjectiveName[] = [
  'reg:squarederror', 'reg:logistic', 'binary:logistic', 'binary:logitraw', 'binary:hinge', 'multi:softmax',
  'multi:softprob', 'count:poisson', 'reg:tweedie', 'reg:gamma', 'reg:absoluteerror',
];

const CONTAINER_METRICS = [
  'accuracy', 'auc', 'aucpr', 'balanced_accuracy', 'f1', 'f1_binary', 'f1_macro', 'map', 'ndcg', 'precision', 'r2',
  'recall', 'precision_macro', 'precision_micro', 'recall_macro', 'recall_micro', 'aft-nloglik', 'cox-nloglik', 'error',
  'gamma-deviance', 'gamma-nloglik', 'interval-regression-accuracy', 'logloss', 'mae', 'mape', 'merror', 'mlogloss',
  'mphe', 'mse', 'poisson-nloglik', 'rmse', 'rmsle', 'tweedie-nloglik',
];

const UPDATERS = ['grow_colmaker', 'distcol', 'grow_histmaker', 'grow_skmaker', 'sync', 'refresh', 'prune', 'shotgun', 'coord_descent', 'grow_quantile_histmaker'];

const SPECS: Record<string, Spec> = {
  num_round: { kind: 'int', interval: { minClosed: 1 } },
  csv_weights: { kind: 'int', interval: { minClosed: 0, maxClosed: 1 } },
  early_stopping_rounds: { kind: 'int', interval: { minClosed: 1 } },
  booster: { kind: 'cat', values: ['gbtree', 'gblinear', 'dart'] },
  verbosity: { kind: 'int', interval: { minClosed: 0, maxClosed: 3 } },
  nthread: { kind: 'int', interval: { minClosed: 1 } },
  eta: { kind: 'float', interval: { minClosed: 0, maxClosed: 1 } },
  gamma: { kind: 'float', interval: { minClosed: 0 } },
  max_depth: { kind: 'int', interval: { minClosed: 0 } },
  min_child_weight: { kind: 'float', interval: { minClosed: 0 } },
  max_delta_step: { kind: 'float', interval: { minClosed: 0 } },
  subsample: { kind: 'float', interval: { minOpen: 0, maxClosed: 1 } },
  colsample_bytree: { kind: 'float', interval: { minOpen: 0, maxClosed: 1 } },
  colsample_bylevel: { kind: 'float', interval: { minOpen: 0, maxClosed: 1 } },
  colsample_bynode: { kind: 'float', interval: { minOpen: 0, maxClosed: 1 } },
  lambda: { kind: 'float', interval: { minClosed: 0 } },
  alpha: { kind: 'float', interval: { minClosed: 0 } },
  tree_method: { kind: 'cat', values: ['auto', 'exact', 'approx', 'hist', 'gpu_hist'] },
  sketch_eps: { kind: 'float', interval: { minOpen: 0, maxOpen: 1 } },
  scale_pos_weight: { kind: 'float', interval: { minOpen: 0 } },
  updater: { kind: 'list', values: UPDATERS },
  dsplit: { kind: 'cat', values: ['row', 'col'] },
  refresh_leaf: { kind: 'int', interval: { minClosed: 0, maxClosed: 1 } },
  process_type: { kind: 'cat', values: ['default', 'update'] },
  grow_policy: { kind: 'cat', values: ['depthwise', 'lossguide'] },
  max_leaves: { kind: 'int', interval: { minClosed: 0 } },
  max_bin: { kind: 'int', interval: { minClosed: 0 } },
  predictor: { kind: 'cat', values: ['auto', 'cpu_predictor', 'gpu_predictor'] },
  monotone_constraints: { kind: 'free' },
  interaction_constraints: { kind: 'free' },
  sample_type: { kind: 'cat', values: ['uniform', 'weighted'] },
  normalize_type: { kind: 'cat', values: ['tree', 'forest'] },
  rate_drop: { kind: 'float', interval: { minClosed: 0, maxClosed: 1 } },
  one_drop: { kind: 'int', interval: { minClosed: 0, maxClosed: 1 } },
  skip_drop: { kind: 'float', interval: { minClosed: 0, maxClosed: 1 } },
  lambda_bias: { kind: 'float', interval: { minClosed: 0, maxClosed: 1 } },
  tweedie_variance_power: { kind: 'float', interval: { minOpen: 1, maxOpen: 2 } },
  objective: { kind: 'cat', values: OBJECTIVES },
  num_class: { kind: 'int', interval: { minClosed: 2 } },
  base_score: { kind: 'float', interval: { minClosed: 0 } },
  _kfold: { kind: 'int', interval: { minClosed: 2 } },
  _num_cv_round: { kind: 'int', interval: { minClosed: 1 } },
  _tuning_objective_metric: { kind: 'free' },
  eval_metric: { kind: 'list' },
  seed: { kind: 'int', interval: { minOpen: -(2 ** 31), maxOpen: 2 ** 31 - 1 } },
  num_parallel_tree: { kind: 'int', interval: { minClosed: 1 } },
  save_model_on_termination: { kind: 'cat', values: ['true', 'false'] },
  aft_loss_distribution: { kind: 'cat', values: ['normal', 'logistic', 'extreme'] },
  aft_loss_distribution_scale: { kind: 'float', interval: { minClosed: 0 } },
  deterministic_histogram: { kind: 'cat', values: ['true', 'false'] },
  single_precision_histogram: { kind: 'cat', values: ['true', 'false'] },
  sampling_method: { kind: 'cat', values: ['uniform', 'gradient_based'] },
  prob_buffer_row: { kind: 'int', interval: { minOpen: 1 } },
  use_dask_gpu_training: { kind: 'cat', values: ['true', 'false'] },
};

const ALIASES: Record<string, string> = {
  learning_rate: 'eta',
  min_split_loss: 'gamma',
  reg_lambda: 'lambda',
  reg_alpha: 'alpha',
};

/** Python's int(): optional sign, digits, single underscores between digits, surrounding whitespace. */
function parsePyInt(s: string): number | undefined {
  const t = s.trim();
  if (!/^[+-]?\d(?:_?\d)*$/.test(t)) return undefined;
  const n = Number(t.replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Python's float(): decimal/exponent forms, inf/infinity/nan, underscores between digits. */
function parsePyFloat(s: string): number | undefined {
  const t = s.trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(t)) return NaN;
  if (!/^[+-]?(\d(?:_?\d)*(\.(\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(e[+-]?\d(?:_?\d)*)?$/.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}

/** Python's str() of a parsed value, for error messages. */
function pyStr(kind: Kind, v: number | string): string {
  if (typeof v === 'string') return v;
  if (kind === 'int') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  const abs = Math.abs(v);
  if (abs < 1e-4 || abs >= 1e16) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const en = Number(e);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  return String(v);
}

function intervalStr(i: Interval): string {
  let s = i.minOpen !== undefined ? `(${i.minOpen}, ` : i.minClosed !== undefined ? `[${i.minClosed}, ` : '(-inf, ';
  s += i.maxOpen !== undefined ? `${i.maxOpen})` : i.maxClosed !== undefined ? `${i.maxClosed}]` : '+inf)';
  return s;
}

function inInterval(i: Interval, v: number): boolean {
  return !(
    (i.minOpen !== undefined && v <= i.minOpen) ||
    (i.minClosed !== undefined && v < i.minClosed) ||
    (i.maxOpen !== undefined && v >= i.maxOpen) ||
    (i.maxClosed !== undefined && v > i.maxClosed)
  );
}

const pyList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

function validateEvalMetric(metric: string): void {
  if (metric.includes('<function')) throw new HyperparameterError(`User defined evaluation metric ${metric} is not supported yet.`);
  if (metric.includes('@')) {
    const [name, threshold] = metric.split('@') as [string, string];
    if (!['error', 'ndcg', 'map'].includes(name.trim()) && name.trim() !== 'tweedie-nloglik') {
      throw new HyperparameterError(
        `Metric '${metric}' is not supported. Parameter 'eval_metric' with customized threshold should be one of these options: 'error', 'ndcg', 'map'.`,
      );
    }
    if (parsePyFloat(threshold) === undefined) throw new HyperparameterError(`Threshold value 't' in '${name.trim()}@t' expects float input.`);
    return;
  }
  if (!CONTAINER_METRICS.includes(metric)) {
    throw new HyperparameterError(`Hyperparameter eval_metric: value ['${metric}'] not in range ${pyList(CONTAINER_METRICS)}`);
  }
}

/**
 * Validate SageMaker XGBoost hyperparameters (string values) and return typed parameters.
 * Throws HyperparameterError for unknown names, unparsable or out-of-range values, bad
 * combinations, and settings Kiln does not implement.
 */
export function parseHyperparameters(rawInput: Record<string, string>): XgbParams {
  // 0. aliases
  const raw: Record<string, string> = {};
  for (const [k0, v] of Object.entries(rawInput)) {
    const k = ALIASES[k0] ?? k0;
    if (typeof v !== 'string') throw new HyperparameterError(`Hyperparameter ${k0}: value must be a string`);
    raw[k] = v;
  }
  // 1. required
  if (raw.num_round === undefined) throw new HyperparameterError('Missing required hyperparameter: num_round');
  // 2. parse
  const parsed: Record<string, number | string | string[]> = {};
  for (const [k, v] of Object.entries(raw)) {
    const spec = SPECS[k];
    if (!spec) throw new HyperparameterError(`Extraneous hyperparameter found: ${k}`);
    if (spec.kind === 'int') {
      const n = parsePyInt(v);
      if (n === undefined) throw new HyperparameterError(`Hyperparameter ${k}: could not parse value`);
      parsed[k] = n;
    } else if (spec.kind === 'float') {
      const n = parsePyFloat(v);
      if (n === undefined) throw new HyperparameterError(`Hyperparameter ${k}: could not parse value`);
      parsed[k] = n;
    } else if (spec.kind === 'list') {
      parsed[k] = v.split(',');
    } else {
      parsed[k] = v;
    }
  }
  // 3. ranges
  for (const [k, value] of Object.entries(parsed)) {
    const spec = SPECS[k]!;
    if ((spec.kind === 'int' || spec.kind === 'float') && spec.interval) {
      if (!inInterval(spec.interval, value as number)) {
        throw new HyperparameterError(`Hyperparameter ${k}: ${pyStr(spec.kind, value as number)} is not in ${intervalStr(spec.interval)}`);
      }
    } else if (spec.kind === 'cat' && spec.values) {
      if (!spec.values.includes(value as string)) throw new HyperparameterError(`Hyperparameter ${k}: ${value as string} is not in ${pyList(spec.values)}`);
    } else if (k === 'updater') {
      const list = value as string[];
      if (list.some((u) => !UPDATERS.includes(u))) {
        throw new HyperparameterError(`Hyperparameter updater: value ${pyList(list)} not in range ${pyList(UPDATERS)}`);
      }
    } else if (k === 'eval_metric') {
      for (const m of value as string[]) validateEvalMetric(m);
    }
  }
  // 4. dependencies
  const objectiveRaw = (parsed.objective as string | undefined) ?? 'reg:squarederror';
  const isMulti = objectiveRaw === 'multi:softmax' || objectiveRaw === 'multi:softprob';
  if (isMulti && parsed.num_class === undefined) throw new HyperparameterError("Require input for parameter 'num_class' for multi-classification");
  if (!isMulti && parsed.num_class !== undefined) {
    throw new HyperparameterError("Do not need to setup parameter 'num_class' for learning task other than multi-classification.");
  }
  const evalMetric = parsed.eval_metric as string[] | undefined;
  if (evalMetric?.includes('auc') && !objectiveRaw.startsWith('binary:') && !objectiveRaw.startsWith('rank:')) {
    throw new HyperparameterError("Metric 'auc' can only be applied for classification and ranking problems.");
  }
  if (evalMetric?.includes('aft-nloglik') && objectiveRaw !== 'survival:aft') {
    throw new HyperparameterError("Metric 'aft-nloglik' can only be applied for 'survival:aft' objective.");
  }
  if (parsed.updater !== undefined) {
    const list = parsed.updater as string[];
    if (parsed.process_type === 'update' && !list.every((u) => u === 'refresh' || u === 'prune')) {
      throw new HyperparameterError("process_type 'update' can only be used with updater 'refresh' and 'prune'");
    }
  }
  if (parsed.monotone_constraints !== undefined && !['exact', 'hist'].includes((parsed.tree_method as string | undefined) ?? 'auto')) {
    throw new HyperparameterError("monotone_constraints can be used only when the tree_method parameter is set to either 'exact' or 'hist'.");
  }

  // 5. what Kiln implements
  const objective = (objectiveRaw === 'reg:linear' ? 'reg:squarederror' : objectiveRaw) as ObjectiveName;
  if (!SUPPORTED_OBJECTIVES.includes(objective)) {
    throw new HyperparameterError(`Hyperparameter objective: ${objectiveRaw} is not supported by Kiln; use one of ${pyList([...SUPPORTED_OBJECTIVES, 'reg:linear'])}`);
  }
  const booster = (parsed.booster as string | undefined) ?? 'gbtree';
  if (booster !== 'gbtree') throw new HyperparameterError(`Hyperparameter booster: ${booster} is not supported by Kiln; only 'gbtree' is`);
  if (parsed.process_type === 'update') throw new HyperparameterError("Hyperparameter process_type: 'update' is not supported by Kiln");
  if (parsed.sampling_method === 'gradient_based') {
    throw new HyperparameterError("Hyperparameter sampling_method: 'gradient_based' requires tree_method gpu_hist, which Kiln does not have");
  }
  if (parsed.monotone_constraints !== undefined) {
    const text = (parsed.monotone_constraints as string).replace(/[()[\]\s]/g, '');
    if (text.split(',').some((x) => x !== '' && Number(x) !== 0)) {
      throw new HyperparameterError('Hyperparameter monotone_constraints: monotone constraints are not supported by Kiln');
    }
  }
  if (parsed.interaction_constraints !== undefined && (parsed.interaction_constraints as string).replace(/[[\]\s]/g, '') !== '') {
    throw new HyperparameterError('Hyperparameter interaction_constraints: interaction constraints are not supported by Kiln');
  }
  if (parsed.num_parallel_tree !== undefined && (parsed.num_parallel_tree as number) !== 1) {
    throw new HyperparameterError('Hyperparameter num_parallel_tree: values other than 1 are not supported by Kiln');
  }
  if (parsed._kfold !== undefined) throw new HyperparameterError('Hyperparameter _kfold: cross-validation is not supported by Kiln');
  const maxBin = (parsed.max_bin as number | undefined) ?? 256;
  if (maxBin < 2) throw new HyperparameterError(`Hyperparameter max_bin: ${maxBin} is not in [2, +inf)`);
  if (maxBin > 65534) throw new HyperparameterError(`Hyperparameter max_bin: ${maxBin} is not in [2, 65534]`);
  const maxDepth = (parsed.max_depth as number | undefined) ?? 6;
  if (maxDepth > 30) throw new HyperparameterError('Hyperparameter max_depth: max_depth can not be greater than 30');
  const growPolicy = ((parsed.grow_policy as string | undefined) ?? 'depthwise') as 'depthwise' | 'lossguide';
  const maxLeaves = (parsed.max_leaves as number | undefined) ?? 0;
  if (maxDepth === 0 && maxLeaves === 0) {
    throw new HyperparameterError('Hyperparameter max_depth: max_depth=0 (no limit) requires max_leaves > 0');
  }
  if (parsed.base_score !== undefined && (objective === 'binary:logistic' || objective === 'reg:logistic')) {
    const b = Math.fround(parsed.base_score as number);
    if (!(b > 0 && b < 1)) throw new HyperparameterError(`Hyperparameter base_score: base_score must be in (0,1) for logistic loss, got: ${parsed.base_score as number}`);
  }
  const metrics = evalMetric?.map((m) => m.trim());
  if (metrics) {
    for (const m of metrics) {
      try {
        parseMetric(m, objective);
      } catch (e) {
        if (e instanceof MetricError) throw new HyperparameterError(`Hyperparameter eval_metric: ${e.message}`);
        throw e;
      }
    }
  }
  const threads = parsed.nthread as number | undefined;
  const f32 = Math.fround;
  return {
    numRound: parsed.num_round as number,
    objective,
    numClass: isMulti ? (parsed.num_class as number) : undefined,
    eta: f32((parsed.eta as number | undefined) ?? 0.3),
    gamma: f32((parsed.gamma as number | undefined) ?? 0),
    maxDepth,
    minChildWeight: f32((parsed.min_child_weight as number | undefined) ?? 1),
    maxDeltaStep: parsed.max_delta_step === undefined ? undefined : f32(parsed.max_delta_step as number),
    subsample: f32((parsed.subsample as number | undefined) ?? 1),
    colsampleBytree: f32((parsed.colsample_bytree as number | undefined) ?? 1),
    colsampleBylevel: f32((parsed.colsample_bylevel as number | undefined) ?? 1),
    colsampleBynode: f32((parsed.colsample_bynode as number | undefined) ?? 1),
    lambda: f32((parsed.lambda as number | undefined) ?? 1),
    alpha: f32((parsed.alpha as number | undefined) ?? 0),
    scalePosWeight: f32((parsed.scale_pos_weight as number | undefined) ?? 1),
    baseScore: parsed.base_score === undefined ? undefined : f32(parsed.base_score as number),
    maxBin,
    treeMethod: ((parsed.tree_method as string | undefined) ?? 'auto') as TreeMethod,
    growPolicy,
    maxLeaves,
    seed: (parsed.seed as number | undefined) ?? 0,
    evalMetric: metrics,
    earlyStoppingRounds: parsed.early_stopping_rounds as number | undefined,
    csvWeights: ((parsed.csv_weights as number | undefined) ?? 0) as 0 | 1,
    tweedieVariancePower: f32((parsed.tweedie_variance_power as number | undefined) ?? 1.5),
    nthread: threads ?? os.availableParallelism(),
    verbosity: (parsed.verbosity as number | undefined) ?? 1,
    booster: 'gbtree',
    raw,
  };
}
