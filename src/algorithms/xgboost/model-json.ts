/**
 * XGBoost's JSON model format (what `Booster.save_model('model.json')` writes).
 *
 * saveJsonModel writes exactly the layout of XGBoost 1.7 (keys sorted as XGBoost's std::map does,
 * floats in XGBoost's shortest "1.2112676E0" notation, version [1,7,4]), so real XGBoost 1.x/2.x
 * loads it. Note XGBoost's own JSON reader treats a number without '.' or 'E' as an integer and
 * refuses it where a float is expected, so every float is written with an exponent.
 *
 * loadJsonModel reads models written by XGBoost 1.0–2.x (and 3.x where the model fits
 * BoosterModel): optional fields are defaulted, dart boosters are folded into plain trees, and
 * features Kiln cannot represent (categorical splits, vector leaves, gblinear) are refused clearly.
 * modelFromJsonObject is shared with the UBJSON reader (typed arrays are accepted there).
 */
import type { BoosterModel, ObjectiveName, Tree } from './model.ts';

/** XGBoost version written into saved models. */
export const SAVED_XGBOOST_VERSION: readonly [number, number, number] = [1, 7, 4];

const ROOT_PARENT = 2147483647;
const DELETED_SPLIT_INDEX = 0x7fffffff;

export const SUPPORTED_OBJECTIVES: readonly ObjectiveName[] = [
  'reg:squarederror',
  'reg:logistic',
  'binary:logistic',
  'binary:logitraw',
  'binary:hinge',
  'multi:softmax',
  'multi:softprob',
  'count:poisson',
  'reg:tweedie',
  'reg:gamma',
  'reg:absoluteerror',
];

/** Maps an objective name found in a model file to Kiln's, accepting XGBoost's deprecated aliases. */
export function normalizeObjectiveName(name: string): ObjectiveName {
  const n = name.trim();
  if (n === 'reg:linear') return 'reg:squarederror';
  if ((SUPPORTED_OBJECTIVES as readonly string[]).includes(n)) return n as ObjectiveName;
  throw new Error(
    `XGBoost model uses objective '${name}', which Kiln cannot serve; supported objectives: ${SUPPORTED_OBJECTIVES.join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Number formatting

/**
 * A float32 value in XGBoost's JSON notation: the shortest decimal that reads back to the same
 * float32, as mantissa 'E' exponent ("5E-1", "-2.857143E-1", "0E0").
 */
export function formatFloat32(value: number): string {
  const x = Math.fround(value);
  if (x === 0) return Object.is(x, -0) ? '-0E0' : '0E0';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  let s = x.toExponential(8);
  for (let digits = 0; digits < 8; digits++) {
    const candidate = x.toExponential(digits);
    if (Math.fround(Number(candidate)) === x) {
      s = roundHalfEven(x, candidate, digits + 1);
      break;
    }
  }
  const e = s.indexOf('e');
  const exp = s.charCodeAt(e + 1) === 43 /* + */ ? s.slice(e + 2) : s.slice(e + 1);
  return `${s.slice(0, e)}E${exp}`;
}

/**
 * toExponential rounds exact ties away from zero; XGBoost's shortest-float printer (Ryu) rounds
 * them to even. When x lies exactly halfway between two p-digit decimals, prefer the even one.
 */
function roundHalfEven(x: number, candidate: string, p: number): string {
  const longer = x.toExponential(p);
  if (longer.charCodeAt(longer.indexOf('e') - 1) !== 0x35 /* 5 */) return candidate;
  const [mant, exp] = Math.abs(x).toExponential(99).split('e') as [string, string];
  const digits = mant.replace('.', '');
  if (digits[p] !== '5' || !/^0*$/.test(digits.slice(p + 1))) return candidate;
  const down = digits.slice(0, p);
  if ((down.charCodeAt(p - 1) - 0x30) % 2 !== 0) return candidate;
  const downText = `${x < 0 ? '-' : ''}${down[0]}${p > 1 ? `.${down.slice(1)}` : ''}e${exp}`;
  return Math.fround(Number(downText)) === x ? downText : candidate;
}

/** A parameter value as dmlc's parameter printer writes a float (9 significant digits, %g style). */
export function formatParamFloat(value: number): string {
  const x = Math.fround(value);
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -5 || exp >= 9) {
    const [m, e] = x.toExponential(8).split('e');
    const mant = m!.includes('.') ? m!.replace(/0+$/, '').replace(/\.$/, '') : m!;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  let s = x.toPrecision(9);
  if (s.includes('e')) s = String(Number(s));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

function parseParamNumber(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const t = value.trim();
    const v = Number(t);
    if (t !== '' && !Number.isNaN(v)) return v;
    const lower = t.toLowerCase();
    if (lower === 'nan') return NaN;
    if (lower === 'inf' || lower === 'infinity' || lower === '+inf') return Infinity;
    if (lower === '-inf' || lower === '-infinity') return -Infinity;
  }
  throw new Error(`XGBoost model: ${what} is not a number: ${JSON.stringify(value)}`);
}

/** base_score as XGBoost writes it: "5E-1" (1.x) or "[5E-1]" (2.x and later, one per target). */
function parseBaseScore(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') throw new Error(`XGBoost model: base_score is not a string: ${JSON.stringify(value)}`);
  const t = value.trim();
  if (t.startsWith('[')) {
    const parts = t
      .slice(1, t.endsWith(']') ? -1 : undefined)
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    if (parts.length === 0) throw new Error(`XGBoost model: empty base_score ${value}`);
    const values = parts.map((p) => Math.fround(parseParamNumber(p, 'base_score')));
    if (values.some((v) => v !== values[0] && !(Number.isNaN(v) && Number.isNaN(values[0]!)))) {
      throw new Error(
        `XGBoost model has one base_score per class/target (${value}); Kiln supports a single base_score`,
      );
    }
    return values[0]!;
  }
  return Math.fround(parseParamNumber(t, 'base_score'));
}

// ---------------------------------------------------------------------------------------------
// Saving

interface ObjectiveParamSpec {
  section: string;
  params: Array<[key: string, defaultValue: number]>;
}

/** The objective's configuration block as XGBoost 1.7 saves it. */
function objectiveSpec(objective: ObjectiveName): ObjectiveParamSpec | undefined {
  switch (objective) {
    case 'reg:squarederror':
    case 'reg:logistic':
    case 'binary:logistic':
    case 'binary:logitraw':
      return { section: 'reg_loss_param', params: [['scale_pos_weight', 1]] };
    case 'count:poisson':
      return { section: 'poisson_regression_param', params: [['max_delta_step', 0.7]] };
    case 'reg:tweedie':
      return { section: 'tweedie_regression_param', params: [['tweedie_variance_power', 1.5]] };
    case 'multi:softmax':
    case 'multi:softprob':
      return { section: 'softmax_multiclass_param', params: [] };
    default:
      return undefined;
  }
}

function jsonString(s: string): string {
  return JSON.stringify(s);
}

function floatArray(values: ArrayLike<number>, n: number): string {
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = formatFloat32(values[i]!);
  return `[${parts.join(',')}]`;
}

function intArray(values: ArrayLike<number>, n: number): string {
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = String(values[i]! | 0);
  return `[${parts.join(',')}]`;
}

function validateTree(tree: Tree, t: number): number {
  const n = tree.leftChildren.length;
  if (n === 0) throw new Error(`saveJsonModel: tree ${t} has no nodes`);
  const arrays: Array<[string, ArrayLike<number>]> = [
    ['rightChildren', tree.rightChildren],
    ['parents', tree.parents],
    ['splitIndices', tree.splitIndices],
    ['splitConditions', tree.splitConditions],
    ['defaultLeft', tree.defaultLeft],
    ['baseWeights', tree.baseWeights],
    ['lossChanges', tree.lossChanges],
    ['sumHessian', tree.sumHessian],
  ];
  for (const [name, arr] of arrays) {
    if (arr.length !== n) {
      throw new Error(`saveJsonModel: tree ${t} has ${n} leftChildren but ${arr.length} ${name}`);
    }
  }
  return n;
}

function treeJson(tree: Tree, id: number, numFeature: number): string {
  const n = validateTree(tree, id);
  // XGBoost checks num_deleted against the nodes marked deleted (split index 2^31-1, default left).
  let numDeleted = 0;
  for (let i = 1; i < n; i++) {
    if (tree.splitIndices[i] === DELETED_SPLIT_INDEX && tree.defaultLeft[i] === 1) numDeleted++;
  }
  const zeros = new Uint8Array(n);
  const defaultLeft = new Uint8Array(n);
  for (let i = 0; i < n; i++) defaultLeft[i] = tree.defaultLeft[i] ? 1 : 0;
  return (
    `{"base_weights":${floatArray(tree.baseWeights, n)},` +
    `"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],` +
    `"default_left":${intArray(defaultLeft, n)},` +
    `"id":${id},` +
    `"left_children":${intArray(tree.leftChildren, n)},` +
    `"loss_changes":${floatArray(tree.lossChanges, n)},` +
    `"parents":${intArray(tree.parents, n)},` +
    `"right_children":${intArray(tree.rightChildren, n)},` +
    `"split_conditions":${floatArray(tree.splitConditions, n)},` +
    `"split_indices":${intArray(tree.splitIndices, n)},` +
    `"split_type":${intArray(zeros, n)},` +
    `"sum_hessian":${floatArray(tree.sumHessian, n)},` +
    `"tree_param":{"num_deleted":"${numDeleted}","num_feature":"${numFeature}","num_nodes":"${n}","size_leaf_vector":"0"}}`
  );
}

function objectiveJson(model: BoosterModel): string {
  const spec = objectiveSpec(model.objective);
  let out = `{"name":${jsonString(model.objective)}`;
  if (spec) {
    const params: string[] = [];
    if (spec.section === 'softmax_multiclass_param') {
      params.push(`"num_class":"${model.numClass}"`);
    }
    for (const [key, def] of spec.params) {
      const v = model.objectiveParams[key];
      params.push(`${jsonString(key)}:"${formatParamFloat(v === undefined ? def : v)}"`);
    }
    out += `,${jsonString(spec.section)}:{${params.join(',')}}`;
  }
  return `${out}}`;
}

/** Serialises a model as XGBoost 1.7's JSON model (Booster.save_model('x.json')). */
export function saveJsonModel(model: BoosterModel): string {
  normalizeObjectiveName(model.objective);
  const numGroups = Math.max(model.numClass, 1);
  if (model.objective.startsWith('multi:') && model.numClass < 2) {
    throw new Error(`saveJsonModel: ${model.objective} needs numClass >= 2 (got ${model.numClass})`);
  }
  if (model.treeInfo.length !== model.trees.length) {
    throw new Error(
      `saveJsonModel: treeInfo has ${model.treeInfo.length} entries for ${model.trees.length} trees`,
    );
  }
  for (const g of model.treeInfo) {
    if (!Number.isInteger(g) || g < 0 || g >= numGroups) {
      throw new Error(`saveJsonModel: tree output group ${g} out of range for ${numGroups} group(s)`);
    }
  }
  const numParallelTree = model.numParallelTree ?? 1;
  const attributeKeys = Object.keys(model.attributes).sort();
  const attributes = attributeKeys
    .map((k) => `${jsonString(k)}:${jsonString(String(model.attributes[k]))}`)
    .join(',');
  const featureNames = (model.featureNames ?? []).map(jsonString).join(',');
  const featureTypes = (model.featureTypes ?? []).map(jsonString).join(',');
  const trees = model.trees.map((t, i) => treeJson(t, i, model.numFeature)).join(',');
  return (
    `{"learner":{` +
    `"attributes":{${attributes}},` +
    `"feature_names":[${featureNames}],` +
    `"feature_types":[${featureTypes}],` +
    `"gradient_booster":{"model":{` +
    `"gbtree_model_param":{"num_parallel_tree":"${numParallelTree}","num_trees":"${model.trees.length}","size_leaf_vector":"0"},` +
    `"tree_info":${intArray(model.treeInfo, model.treeInfo.length)},` +
    `"trees":[${trees}]},"name":"gbtree"},` +
    `"learner_model_param":{"base_score":"${formatFloat32(model.baseScore)}","boost_from_average":"1",` +
    `"num_class":"${model.numClass}","num_feature":"${model.numFeature}","num_target":"1"},` +
    `"objective":${objectiveJson(model)}` +
    `},"version":[${SAVED_XGBOOST_VERSION.join(',')}]}`
  );
}

// ---------------------------------------------------------------------------------------------
// Loading

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function obj(v: unknown, what: string): JsonObject {
  if (!isObject(v)) throw new Error(`XGBoost model: '${what}' is missing or not an object`);
  return v;
}

function isNumberArray(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function numArray(v: unknown, what: string, n?: number): ArrayLike<unknown> {
  if (!isNumberArray(v)) throw new Error(`XGBoost model: '${what}' is missing or not an array`);
  if (n !== undefined && v.length !== n) {
    throw new Error(`XGBoost model: '${what}' has ${v.length} entries, expected ${n}`);
  }
  return v;
}

function toNumber(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null) return NaN; // NaN/Infinity tokens replaced on the way in
  if (typeof v === 'string') return parseParamNumber(v, what);
  throw new Error(`XGBoost model: '${what}' holds a non-number ${JSON.stringify(v)}`);
}

function toFloat32Array(v: unknown, what: string, n: number): Float32Array {
  const arr = numArray(v, what, n);
  if (arr instanceof Float32Array) return new Float32Array(arr);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = toNumber(arr[i], what);
  return out;
}

function toInt32Array(v: unknown, what: string, n: number): Int32Array {
  const arr = numArray(v, what, n);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = toNumber(arr[i], what);
    if (!Number.isInteger(x)) throw new Error(`XGBoost model: '${what}' holds a non-integer ${x}`);
    out[i] = x;
  }
  return out;
}

function optionalFloat32Array(v: unknown, what: string, n: number): Float32Array {
  return v === undefined ? new Float32Array(n) : toFloat32Array(v, what, n);
}

function intParam(params: JsonObject, key: string, what: string, def?: number): number {
  const v = params[key];
  if (v === undefined) {
    if (def !== undefined) return def;
    throw new Error(`XGBoost model: '${what}.${key}' is missing`);
  }
  const x = toNumber(v, `${what}.${key}`);
  if (!Number.isInteger(x)) throw new Error(`XGBoost model: '${what}.${key}' is not an integer: ${String(v)}`);
  return x;
}

function treeFromJson(j: JsonObject, index: number): Tree {
  const where = `trees[${index}]`;
  const tp = isObject(j['tree_param']) ? j['tree_param'] : {};
  const leftRaw = numArray(j['left_children'], `${where}.left_children`);
  const n = tp['num_nodes'] !== undefined ? intParam(tp, 'num_nodes', `${where}.tree_param`) : leftRaw.length;
  if (n < 1) throw new Error(`XGBoost model: ${where} has no nodes`);
  const sizeLeafVector = intParam(tp, 'size_leaf_vector', `${where}.tree_param`, 0);
  if (sizeLeafVector > 1) {
    throw new Error(
      `XGBoost model: ${where} has vector leaves (size_leaf_vector=${sizeLeafVector}, multi_output_tree); Kiln supports scalar-leaf trees only`,
    );
  }
  const leftChildren = toInt32Array(leftRaw, `${where}.left_children`, n);
  const rightChildren = toInt32Array(j['right_children'], `${where}.right_children`, n);
  const splitIndices = toInt32Array(j['split_indices'], `${where}.split_indices`, n);
  const splitConditions = toFloat32Array(j['split_conditions'], `${where}.split_conditions`, n);
  const defaultLeftRaw = numArray(j['default_left'], `${where}.default_left`, n);
  const defaultLeft = new Uint8Array(n);
  for (let i = 0; i < n; i++) defaultLeft[i] = toNumber(defaultLeftRaw[i], `${where}.default_left`) ? 1 : 0;
  const splitType = j['split_type'];
  if (splitType !== undefined) {
    const st = numArray(splitType, `${where}.split_type`);
    for (let i = 0; i < st.length; i++) {
      if (toNumber(st[i], `${where}.split_type`) !== 0) {
        throw new Error(
          `XGBoost model: ${where} has a categorical split at node ${i}; Kiln supports numerical splits only`,
        );
      }
    }
  }
  let parents: Int32Array;
  if (j['parents'] !== undefined) {
    parents = toInt32Array(j['parents'], `${where}.parents`, n);
  } else {
    parents = new Int32Array(n).fill(ROOT_PARENT);
    for (let i = 0; i < n; i++) {
      if (leftChildren[i] !== -1) {
        parents[leftChildren[i]!] = i;
        parents[rightChildren[i]!] = i;
      }
    }
    parents[0] = ROOT_PARENT;
  }
  for (let i = 0; i < n; i++) {
    const l = leftChildren[i]!;
    if (l === -1) continue;
    const r = rightChildren[i]!;
    if (l <= 0 || l >= n || r <= 0 || r >= n) {
      throw new Error(`XGBoost model: ${where} node ${i} has children (${l}, ${r}) outside 0..${n - 1}`);
    }
    if (splitIndices[i]! < 0) throw new Error(`XGBoost model: ${where} node ${i} splits on feature ${splitIndices[i]}`);
  }
  return {
    leftChildren,
    rightChildren,
    parents,
    splitIndices,
    splitConditions,
    defaultLeft,
    baseWeights: optionalFloat32Array(j['base_weights'], `${where}.base_weights`, n),
    lossChanges: optionalFloat32Array(j['loss_changes'], `${where}.loss_changes`, n),
    sumHessian: optionalFloat32Array(j['sum_hessian'], `${where}.sum_hessian`, n),
  };
}

/** Multiplies each dart tree's leaves by its weight, as dart prediction does (leaf * w in float32). */
export function foldDartWeights(trees: Tree[], weights: ArrayLike<number>): void {
  if (weights.length !== trees.length) {
    throw new Error(`XGBoost dart model has ${weights.length} tree weights for ${trees.length} trees`);
  }
  for (let t = 0; t < trees.length; t++) {
    const w = Math.fround(weights[t]!);
    if (w === 1) continue;
    const tree = trees[t]!;
    for (let i = 0; i < tree.leftChildren.length; i++) {
      if (tree.leftChildren[i] === -1) tree.splitConditions[i] = Math.fround(tree.splitConditions[i]! * w);
    }
  }
}

function objectiveParamsFrom(objective: JsonObject | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!objective) return out;
  for (const [section, value] of Object.entries(objective)) {
    if (section === 'name' || !isObject(value)) continue;
    for (const [k, v] of Object.entries(value)) {
      if (k === 'num_class') continue;
      if (typeof v === 'string' || typeof v === 'number') {
        try {
          out[k] = parseParamNumber(v, k);
        } catch {
          // non-numeric objective settings (none known for supported objectives) are not kept
        }
      }
    }
  }
  return out;
}

function stringArray(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new Error(`XGBoost model: '${what}' is not an array`);
  if (v.length === 0) return undefined;
  return v.map((x) => String(x));
}

/** Builds a BoosterModel from XGBoost's JSON model document (already parsed; UBJSON gives the same tree). */
export function modelFromJsonObject(doc: unknown): BoosterModel {
  let root = obj(doc, 'document');
  // A Booster's raw memory snapshot ({"Config":…, "Model":…}) holds the model under "Model".
  if (!('learner' in root) && isObject(root['Model'])) root = root['Model'];
  const learner = obj(root['learner'], 'learner');

  const lmp = obj(learner['learner_model_param'], 'learner.learner_model_param');
  const numFeature = intParam(lmp, 'num_feature', 'learner_model_param');
  const numClass = intParam(lmp, 'num_class', 'learner_model_param', 0);
  const numTarget = intParam(lmp, 'num_target', 'learner_model_param', 1);
  if (numTarget > 1) {
    throw new Error(`XGBoost model has ${numTarget} targets (multi-target regression); Kiln supports one target`);
  }
  const objectiveObj = isObject(learner['objective']) ? learner['objective'] : undefined;
  const objName = objectiveObj?.['name'];
  if (typeof objName !== 'string') throw new Error(`XGBoost model: 'learner.objective.name' is missing`);
  const objective = normalizeObjectiveName(objName);
  if (objective.startsWith('multi:') && numClass < 2) {
    throw new Error(`XGBoost model: ${objective} with num_class=${numClass}`);
  }
  const baseScore = parseBaseScore(lmp['base_score'] ?? '5E-1');
  const gb = obj(learner['gradient_booster'], 'learner.gradient_booster');
  const gbName = gb['name'];
  let gbtree: JsonObject;
  let dartWeights: ArrayLike<unknown> | undefined;
  if (gbName === 'gbtree' || gbName === undefined) {
    gbtree = gb;
  } else if (gbName === 'dart') {
    gbtree = obj(gb['gbtree'], 'gradient_booster.gbtree');
    dartWeights = numArray(gb['weight_drop'], 'gradient_booster.weight_drop');
  } else if (gbName === 'gblinear') {
    throw new Error('XGBoost model uses booster=gblinear; Kiln supports tree boosters (gbtree, dart) only');
  } else {
    throw new Error(`XGBoost model uses an unknown booster '${String(gbName)}'`);
  }
  const m = obj(gbtree['model'], 'gradient_booster.model');
  const gparam = isObject(m['gbtree_model_param']) ? m['gbtree_model_param'] : {};
  const treesJson = numArray(m['trees'], 'gradient_booster.model.trees') as ArrayLike<unknown>;
  const numTrees = intParam(gparam, 'num_trees', 'gbtree_model_param', treesJson.length);
  if (numTrees !== treesJson.length) {
    throw new Error(`XGBoost model: num_trees is ${numTrees} but ${treesJson.length} trees are stored`);
  }
  const numParallelTree = intParam(gparam, 'num_parallel_tree', 'gbtree_model_param', 1);
  const numGroups = Math.max(numClass, 1);

  const trees = new Array<Tree>(numTrees);
  for (let i = 0; i < numTrees; i++) {
    const tj = obj(treesJson[i], `trees[${i}]`);
    const id = tj['id'] === undefined ? i : toNumber(tj['id'], `trees[${i}].id`);
    if (!Number.isInteger(id) || id < 0 || id >= numTrees || trees[id] !== undefined) {
      throw new Error(`XGBoost model: trees[${i}] has an invalid or duplicate id ${id}`);
    }
    trees[id] = treeFromJson(tj, i);
  }
  const treeInfoRaw = m['tree_info'] === undefined ? new Array<number>(numTrees).fill(0) : numArray(m['tree_info'], 'tree_info', numTrees);
  const treeInfo: number[] = [];
  for (let i = 0; i < numTrees; i++) {
    const g = toNumber(treeInfoRaw[i], 'tree_info');
    if (!Number.isInteger(g) || g < 0 || g >= numGroups) {
      throw new Error(`XGBoost model: tree_info[${i}] = ${g} is outside 0..${numGroups - 1}`);
    }
    treeInfo.push(g);
  }
  for (let t = 0; t < numTrees; t++) {
    const tree = trees[t]!;
    for (let i = 0; i < tree.leftChildren.length; i++) {
      if (tree.leftChildren[i] !== -1 && tree.splitIndices[i]! >= numFeature && numFeature > 0) {
        throw new Error(
          `XGBoost model: tree ${t} node ${i} splits on feature ${tree.splitIndices[i]} but the model has ${numFeature} features`,
        );
      }
    }
  }
  if (dartWeights) {
    foldDartWeights(trees, Array.from(dartWeights, (w) => toNumber(w, 'weight_drop')));
  }

  const attributes: Record<string, string> = {};
  if (isObject(learner['attributes'])) {
    for (const [k, v] of Object.entries(learner['attributes'])) attributes[k] = String(v);
  }
  const model: BoosterModel = {
    objective,
    objectiveParams: objectiveParamsFrom(objectiveObj),
    numFeature,
    numClass,
    baseScore,
    trees,
    treeInfo,
    attributes,
  };
  if (numParallelTree !== 1) model.numParallelTree = numParallelTree;
  const featureNames = stringArray(learner['feature_names'], 'feature_names');
  const featureTypes = stringArray(learner['feature_types'], 'feature_types');
  if (featureNames) model.featureNames = featureNames;
  if (featureTypes) {
    if (featureTypes.some((t) => t === 'c')) {
      throw new Error('XGBoost model has categorical features; Kiln supports numerical features only');
    }
    model.featureTypes = featureTypes;
  }
  return model;
}

const NON_FINITE_TOKEN = /(^|[\[,:]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g;

/**
 * Parses a JSON model (text). XGBoost writes NaN/Infinity as bare tokens, which JSON.parse
 * refuses; they are read back as numbers.
 */
export function loadJsonModel(text: string): BoosterModel {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) {
      throw new Error(`XGBoost JSON model is not valid JSON: ${(err as Error).message}`);
    }
    const marked = text.replace(NON_FINITE_TOKEN, (_m, pre: string, tok: string) => `${pre}"\\u0000${tok}"`);
    try {
      doc = JSON.parse(marked, (_k, v: unknown) => {
        if (typeof v === 'string' && v.charCodeAt(0) === 0) {
          const tok = v.slice(1);
          return tok === 'NaN' ? NaN : tok === '-Infinity' ? -Infinity : Infinity;
        }
        return v;
      });
    } catch (err2) {
      throw new Error(`XGBoost JSON model is not valid JSON: ${(err2 as Error).message}`);
    }
  }
  return modelFromJsonObject(doc);
}
