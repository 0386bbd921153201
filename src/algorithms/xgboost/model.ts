/**
 * The in-memory shapes shared by the XGBoost trainer, the model file formats and prediction.
 * Trees use XGBoost's own array layout (as in its JSON model format), so saving and loading
 * is a direct mapping and the predictor walks the same arrays either way.
 */

/** Dense feature matrix, row-major; NaN marks a missing value. */
export interface DenseMatrix {
  rows: number;
  cols: number;
  values: Float32Array;
}

/** A training or validation channel after parsing: features, labels and optional instance weights. */
export interface LabeledData {
  features: DenseMatrix;
  labels: Float32Array;
  weights?: Float32Array;
}

export type ObjectiveName =
  | 'reg:squarederror'
  | 'reg:logistic'
  | 'binary:logistic'
  | 'binary:logitraw'
  | 'binary:hinge'
  | 'multi:softmax'
  | 'multi:softprob'
  | 'count:poisson'
  | 'reg:tweedie'
  | 'reg:gamma'
  | 'reg:absoluteerror';

/**
 * One regression tree. Node 0 is the root; a leaf has leftChildren[i] === -1, and, as in
 * XGBoost's JSON format, its value sits in splitConditions[i] (already scaled by eta).
 * Internal node i sends x to leftChildren[i] when x[splitIndices[i]] < splitConditions[i],
 * to the default side (defaultLeft[i] === 1 → left) when x is missing, else right.
 */
export interface Tree {
  leftChildren: Int32Array;
  rightChildren: Int32Array;
  parents: Int32Array; // root's parent is 2147483647, as XGBoost writes it
  splitIndices: Int32Array;
  splitConditions: Float32Array;
  defaultLeft: Uint8Array;
  /** Node weights before eta for internal nodes, leaf weight for leaves (XGBoost's base_weights). */
  baseWeights: Float32Array;
  lossChanges: Float32Array;
  sumHessian: Float32Array;
}

export interface BoosterModel {
  objective: ObjectiveName;
  /** Extra objective parameters kept for saving: tweedie_variance_power, scale_pos_weight, max_delta_step. */
  objectiveParams: Record<string, number>;
  numFeature: number;
  /** Number of classes for multi:* objectives, else 0 (XGBoost's num_class). */
  numClass: number;
  /** base_score in the objective's output space (probability for logistic), as XGBoost stores it. */
  baseScore: number;
  trees: Tree[];
  /** Output group (class) of each tree; all 0 unless multi-class. */
  treeInfo: number[];
  /**
   * Trees per output group in each boosting round (XGBoost's num_parallel_tree, > 1 for boosted
   * random forests); absent means 1. Used to map iteration ranges to trees.
   */
  numParallelTree?: number;
  /** Learner attributes, e.g. best_iteration and best_score after early stopping. */
  attributes: Record<string, string>;
  featureNames?: string[];
  featureTypes?: string[];
}
