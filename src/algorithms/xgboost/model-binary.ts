/**
 * Reading XGBoost model files other than JSON text: the legacy binary format (what
 * `booster.save_model('xgboost-model')` writes in XGBoost 1.x, as SageMaker's 1.x containers do),
 * UBJSON (`.ubj`, XGBoost 1.6+), and loadModel, which detects the format of a model file.
 *
 * Legacy binary layout (little-endian, as dmlc streams write it on every host):
 *   ["binf"] LearnerModelParam (136 bytes) objective:string booster:string
 *   GBTreeModelParam (160 bytes) { TreeParam (148 bytes) Node[num_nodes] (20 bytes each)
 *   NodeStat[num_nodes] (16 bytes each) } * num_trees  tree_info:int32[num_trees]
 *   [dart: weight_drop:vector<float>]  [attributes:vector<pair<string,string>>]
 * where a string / vector is a uint64 count followed by its items.
 */
import type { BoosterModel, Tree } from './model.ts';
import { foldDartWeights, loadJsonModel, modelFromJsonObject, normalizeObjectiveName } from './model-json.ts';

const LEARNER_PARAM_SIZE = 136;
const GBTREE_PARAM_SIZE = 160;
const TREE_PARAM_SIZE = 148;
const NODE_SIZE = 20;
const STAT_SIZE = 16;

class Reader {
  offset = 0;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
  ) {}

  need(n: number, field: string): void {
    if (this.offset + n > this.buf.length) {
      throw new Error(
        `${this.what} is truncated: ${field} needs ${n} bytes at offset ${this.offset}, file has ${this.buf.length}`,
      );
    }
  }

  u64(field: string): number {
    this.need(8, field);
    const v = this.buf.readBigUInt64LE(this.offset);
    this.offset += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${this.what}: ${field} is implausibly large (${v})`);
    return Number(v);
  }

  string(field: string, maxLength = 1 << 30): string {
    const n = this.u64(`${field} length`);
    if (n > maxLength) throw new Error(`${this.what}: ${field} length ${n} is implausible`);
    this.need(n, field);
    const s = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
}

/** Converts a pre-1.0 base_score (stored in margin space) to the output space as XGBoost 1.x does on load. */
function predTransformScalar(objective: string, margin: number): number {
  const x = Math.fround(margin);
  switch (objective) {
    case 'binary:logistic':
    case 'reg:logistic': {
      const e = Math.fround(Math.exp(Math.min(-x, Math.fround(88.7))));
      return Math.fround(1 / Math.fround(e + 1));
    }
    case 'count:poisson':
    case 'reg:gamma':
    case 'reg:tweedie':
      return Math.fround(Math.exp(x));
    case 'binary:hinge':
      return x > 0 ? 1 : 0;
    default:
      return x;
  }
}

/** Reads XGBoost's legacy binary model format (optionally starting with "binf"). */
export function loadBinaryModel(bytes: Buffer): BoosterModel {
  const what = 'XGBoost binary model';
  const r = new Reader(bytes, what);
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 4) === 'binf') r.offset = 4;
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 4) === 'bs64') {
    throw new Error(`${what}: base64 ("bs64") models are not supported (XGBoost dropped them too)`);
  }
  r.need(LEARNER_PARAM_SIZE, 'learner parameters');
  const p = r.offset;
  const baseScoreStored = bytes.readFloatLE(p);
  const numFeature = bytes.readUInt32LE(p + 4);
  const numClass = bytes.readInt32LE(p + 8);
  const containExtraAttrs = bytes.readInt32LE(p + 12);
  // p + 16: contain_eval_metrics (the metrics list is kept in the attributes)
  const majorVersion = bytes.readUInt32LE(p + 20);
  const numTarget = bytes.readUInt32LE(p + 28) || 1;
  r.offset += LEARNER_PARAM_SIZE;
  if (numClass < 0 || numClass > 1 << 20 || numFeature > 0x7fffffff) {
    throw new Error(`${what}: implausible header (num_class=${numClass}, num_feature=${numFeature}); not an XGBoost model?`);
  }
  if (numTarget > 1) throw new Error(`${what} has ${numTarget} targets; Kiln supports one target`);

  const objectiveName = r.string('objective name', 256);
  const boosterName = r.string('booster name', 256);
  if (!/^[a-z:_]+$/i.test(objectiveName) || !/^[a-z_]+$/i.test(boosterName)) {
    throw new Error(`${what}: unreadable objective/booster names; not an XGBoost model?`);
  }
  const objective = normalizeObjectiveName(objectiveName);
  if (boosterName === 'gblinear') {
    throw new Error(`${what} uses booster=gblinear; Kiln supports tree boosters (gbtree, dart) only`);
  }
  if (boosterName !== 'gbtree' && boosterName !== 'dart') {
    throw new Error(`${what} uses an unknown booster '${boosterName}'`);
  }

  r.need(GBTREE_PARAM_SIZE, 'gbtree parameters');
  const g = r.offset;
  const numTrees = bytes.readInt32LE(g);
  const numParallelTree = bytes.readInt32LE(g + 4) || 1;
  const numPbuffer = bytes.readBigInt64LE(g + 16);
  r.offset += GBTREE_PARAM_SIZE;
  if (numTrees < 0 || numTrees > 1 << 24) throw new Error(`${what}: implausible tree count ${numTrees}`);
  if (numPbuffer !== 0n) {
    throw new Error(`${what} stores a prediction buffer (XGBoost < 0.6 format); re-save it with a newer XGBoost`);
  }

  const trees: Tree[] = [];
  for (let t = 0; t < numTrees; t++) {
    r.need(TREE_PARAM_SIZE, `tree ${t} parameters`);
    const tp = r.offset;
    const numNodes = bytes.readInt32LE(tp + 4);
    const sizeLeafVector = bytes.readInt32LE(tp + 20);
    r.offset += TREE_PARAM_SIZE;
    if (numNodes < 1 || numNodes > 1 << 28) throw new Error(`${what}: tree ${t} has implausible node count ${numNodes}`);
    if (sizeLeafVector !== 0) {
      throw new Error(`${what}: tree ${t} has leaf vectors (size_leaf_vector=${sizeLeafVector}); not supported`);
    }
    r.need(numNodes * (NODE_SIZE + STAT_SIZE), `tree ${t} nodes`);
    const tree: Tree = {
      leftChildren: new Int32Array(numNodes),
      rightChildren: new Int32Array(numNodes),
      parents: new Int32Array(numNodes),
      splitIndices: new Int32Array(numNodes),
      splitConditions: new Float32Array(numNodes),
      defaultLeft: new Uint8Array(numNodes),
      baseWeights: new Float32Array(numNodes),
      lossChanges: new Float32Array(numNodes),
      sumHessian: new Float32Array(numNodes),
    };
    let o = r.offset;
    for (let i = 0; i < numNodes; i++, o += NODE_SIZE) {
      // parent (top bit: is left child), left, right, sindex (top bit: default left), value
      tree.parents[i] = bytes.readInt32LE(o) & 0x7fffffff;
      tree.leftChildren[i] = bytes.readInt32LE(o + 4);
      tree.rightChildren[i] = bytes.readInt32LE(o + 8);
      const sindex = bytes.readUInt32LE(o + 12);
      tree.splitIndices[i] = sindex & 0x7fffffff;
      tree.defaultLeft[i] = sindex >>> 31;
      tree.splitConditions[i] = bytes.readFloatLE(o + 16);
    }
    for (let i = 0; i < numNodes; i++, o += STAT_SIZE) {
      tree.lossChanges[i] = bytes.readFloatLE(o);
      tree.sumHessian[i] = bytes.readFloatLE(o + 4);
      tree.baseWeights[i] = bytes.readFloatLE(o + 8);
      // o + 12: leaf_child_cnt, unused
    }
    r.offset = o;
    for (let i = 0; i < numNodes; i++) {
      const l = tree.leftChildren[i]!;
      const rc = tree.rightChildren[i]!;
      if (l !== -1 && (l <= 0 || l >= numNodes || rc <= 0 || rc >= numNodes)) {
        throw new Error(`${what}: tree ${t} node ${i} has children (${l}, ${rc}) outside 0..${numNodes - 1}`);
      }
    }
    trees.push(tree);
  }
  const treeInfo: number[] = [];
  if (numTrees > 0) {
    r.need(4 * numTrees, 'tree_info');
    const numGroups = Math.max(numClass, 1);
    for (let t = 0; t < numTrees; t++) {
      const gi = bytes.readInt32LE(r.offset + 4 * t);
      if (gi < 0 || gi >= numGroups) throw new Error(`${what}: tree_info[${t}] = ${gi} outside 0..${numGroups - 1}`);
      treeInfo.push(gi);
    }
    r.offset += 4 * numTrees;
  }
  if (boosterName === 'dart' && numTrees > 0) {
    const n = r.u64('dart weight count');
    r.need(4 * n, 'dart weights');
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = bytes.readFloatLE(r.offset + 4 * i);
    r.offset += 4 * n;
    foldDartWeights(trees, w);
  }

  const attributes: Record<string, string> = {};
  const objectiveParams: Record<string, number> = {};
  if (containExtraAttrs !== 0) {
    const n = r.u64('attribute count');
    if (n > 1 << 20) throw new Error(`${what}: implausible attribute count ${n}`);
    for (let i = 0; i < n; i++) {
      const key = r.string(`attribute ${i} name`);
      const value = r.string(`attribute '${key}' value`);
      if (key === 'objective') {
        try {
          const cfg = JSON.parse(value) as Record<string, unknown>;
          for (const [section, params] of Object.entries(cfg)) {
            if (section === 'name' || typeof params !== 'object' || params === null) continue;
            for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
              const x = Number(v);
              if (k !== 'num_class' && !Number.isNaN(x)) objectiveParams[k] = x;
            }
          }
        } catch {
          // an unreadable objective configuration only loses its parameters
        }
      } else if (key === 'count_poisson_max_delta_step') {
        const x = Number(value);
        if (!Number.isNaN(x)) objectiveParams['max_delta_step'] = x;
      } else if (key === 'metrics' || key.startsWith('SAVED_PARAM_')) {
        // training-time settings, not part of the model
      } else {
        attributes[key] = value;
      }
    }
  }

  // Before 1.0 base_score was saved in margin space (no version in the file: major = 0).
  const baseScore =
    majorVersion < 1 && !objective.startsWith('multi:')
      ? predTransformScalar(objective, baseScoreStored)
      : Math.fround(baseScoreStored);
  if (objective.startsWith('multi:') && numClass < 2) {
    throw new Error(`${what}: ${objective} with num_class=${numClass}`);
  }
  for (let t = 0; t < numTrees; t++) {
    const tree = trees[t]!;
    for (let i = 0; i < tree.leftChildren.length; i++) {
      if (tree.leftChildren[i] !== -1 && numFeature > 0 && tree.splitIndices[i]! >= numFeature) {
        throw new Error(
          `${what}: tree ${t} node ${i} splits on feature ${tree.splitIndices[i]} but the model has ${numFeature} features`,
        );
      }
    }
  }
  const model: BoosterModel = {
    objective,
    objectiveParams,
    numFeature,
    numClass,
    baseScore,
    trees,
    treeInfo,
    attributes,
  };
  if (numParallelTree !== 1) model.numParallelTree = numParallelTree;
  return model;
}

// ---------------------------------------------------------------------------------------------
// UBJSON (Universal Binary JSON, big-endian), as XGBoost writes .ubj models

class UbjReader {
  offset = 0;
  readonly view: DataView;
  constructor(readonly buf: Buffer) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(msg: string): never {
    throw new Error(`XGBoost UBJSON model: ${msg} at offset ${this.offset}`);
  }

  need(n: number): void {
    if (this.offset + n > this.buf.length) this.fail(`truncated (needs ${n} more bytes)`);
  }

  marker(): number {
    for (;;) {
      this.need(1);
      const m = this.buf[this.offset++]!;
      if (m !== 0x4e /* N no-op */) return m;
    }
  }

  int(m: number): number {
    const v = this.view;
    let x: number;
    switch (m) {
      case 0x69: // i int8
        this.need(1);
        x = v.getInt8(this.offset);
        this.offset += 1;
        return x;
      case 0x55: // U uint8
        this.need(1);
        x = v.getUint8(this.offset);
        this.offset += 1;
        return x;
      case 0x49: // I int16
        this.need(2);
        x = v.getInt16(this.offset);
        this.offset += 2;
        return x;
      case 0x6c: // l int32
        this.need(4);
        x = v.getInt32(this.offset);
        this.offset += 4;
        return x;
      case 0x4c: {
        // L int64
        this.need(8);
        const b = v.getBigInt64(this.offset);
        this.offset += 8;
        return Number(b);
      }
      default:
        return this.fail(`expected an integer type, found '${String.fromCharCode(m)}'`);
    }
  }

  str(): string {
    const n = this.int(this.marker());
    if (n < 0) this.fail('negative string length');
    this.need(n);
    const s = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }

  value(m: number): unknown {
    switch (m) {
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x53: // S
      case 0x48: // H high-precision number as string
        return m === 0x48 ? Number(this.str()) : this.str();
      case 0x43: // C char
        this.need(1);
        return String.fromCharCode(this.buf[this.offset++]!);
      case 0x54:
        return true;
      case 0x46:
        return false;
      case 0x5a:
        return null;
      case 0x64: {
        this.need(4);
        const x = this.view.getFloat32(this.offset);
        this.offset += 4;
        return x;
      }
      case 0x44: {
        this.need(8);
        const x = this.view.getFloat64(this.offset);
        this.offset += 8;
        return x;
      }
      default:
        return this.int(m);
    }
  }

  /** Optimised container header: [$type][#count]. */
  header(): { type?: number; count?: number } {
    const out: { type?: number; count?: number } = {};
    this.need(1);
    if (this.buf[this.offset] === 0x24 /* $ */) {
      this.offset++;
      this.need(1);
      out.type = this.buf[this.offset++]!;
      this.need(1);
      if (this.buf[this.offset] !== 0x23) this.fail("typed container without '#' count");
    }
    this.need(1);
    if (this.buf[this.offset] === 0x23 /* # */) {
      this.offset++;
      out.count = this.int(this.marker());
      if (out.count < 0) this.fail('negative container count');
    }
    return out;
  }

  array(): unknown {
    const { type, count } = this.header();
    if (type !== undefined && count !== undefined) return this.typedArray(type, count);
    const out: unknown[] = [];
    if (count !== undefined) {
      for (let i = 0; i < count; i++) out.push(this.value(this.marker()));
      return out;
    }
    for (;;) {
      const m = this.marker();
      if (m === 0x5d /* ] */) return out;
      out.push(this.value(m));
    }
  }

  typedArray(type: number, count: number): unknown {
    const v = this.view;
    const size: Record<number, number> = { 0x69: 1, 0x55: 1, 0x49: 2, 0x6c: 4, 0x4c: 8, 0x64: 4, 0x44: 8 };
    const s = size[type];
    if (s === undefined) {
      const out: unknown[] = [];
      for (let i = 0; i < count; i++) out.push(this.value(type));
      return out;
    }
    this.need(s * count);
    const o = this.offset;
    this.offset += s * count;
    switch (type) {
      case 0x64: {
        const a = new Float32Array(count);
        for (let i = 0; i < count; i++) a[i] = v.getFloat32(o + 4 * i);
        return a;
      }
      case 0x44: {
        const a = new Float64Array(count);
        for (let i = 0; i < count; i++) a[i] = v.getFloat64(o + 8 * i);
        return a;
      }
      case 0x6c: {
        const a = new Int32Array(count);
        for (let i = 0; i < count; i++) a[i] = v.getInt32(o + 4 * i);
        return a;
      }
      case 0x4c: {
        const a = new Float64Array(count);
        for (let i = 0; i < count; i++) a[i] = Number(v.getBigInt64(o + 8 * i));
        return a;
      }
      case 0x49: {
        const a = new Int16Array(count);
        for (let i = 0; i < count; i++) a[i] = v.getInt16(o + 2 * i);
        return a;
      }
      case 0x69: {
        const a = new Int8Array(count);
        for (let i = 0; i < count; i++) a[i] = v.getInt8(o + i);
        return a;
      }
      default:
        return new Uint8Array(this.buf.subarray(o, o + count));
    }
  }

  object(): Record<string, unknown> {
    const { type, count } = this.header();
    const out: Record<string, unknown> = {};
    if (count !== undefined) {
      for (let i = 0; i < count; i++) {
        const key = this.str();
        out[key] = this.value(type ?? this.marker());
      }
      return out;
    }
    for (;;) {
      this.need(1);
      if (this.buf[this.offset] === 0x7d /* } */) {
        this.offset++;
        return out;
      }
      if (this.buf[this.offset] === 0x4e) {
        this.offset++;
        continue;
      }
      const key = this.str();
      out[key] = this.value(this.marker());
    }
  }
}

/** Decodes a UBJSON document (objects, arrays, strong-typed arrays as typed arrays). */
export function decodeUbjson(bytes: Buffer): unknown {
  const r = new UbjReader(bytes);
  return r.value(r.marker());
}

/** Reads an XGBoost UBJSON model (`save_model('model.ubj')`). */
export function loadUbjsonModel(bytes: Buffer): BoosterModel {
  return modelFromJsonObject(decodeUbjson(bytes));
}

// ---------------------------------------------------------------------------------------------

export type ModelFormat = 'json' | 'ubjson' | 'binary';

/** Detects an XGBoost model file's format from its first bytes (as XGBoost's loader does). */
export function detectModelFormat(bytes: Buffer): ModelFormat {
  if (bytes.length === 0) throw new Error('model file is empty');
  const b0 = bytes[0]!;
  if (b0 === 0x80) {
    throw new Error(
      'model file is a pickled Python object (SageMaker XGBoost 0.90 containers pickle the Booster); ' +
        'Kiln cannot read pickles: load it with xgboost in Python and re-save it with booster.save_model("xgboost-model.json")',
    );
  }
  if (b0 === 0x1f && bytes[1] === 0x8b) {
    throw new Error('model file is gzip-compressed (model.tar.gz?); extract the model file from the archive first');
  }
  let i = 0;
  // JSON text may start with whitespace or a UTF-8 BOM
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b /* { */) {
    let j = i + 1;
    while (j < bytes.length && (bytes[j] === 0x20 || bytes[j] === 0x0a || bytes[j] === 0x0d || bytes[j] === 0x09)) j++;
    const c = bytes[j];
    if (c === 0x22 /* " */ || c === 0x7d /* } */) return 'json';
    if (i === 0) return 'ubjson';
    return 'json';
  }
  return 'binary';
}

/** Loads an XGBoost model file in any format XGBoost writes (JSON, UBJSON, legacy binary). */
export function loadModel(bytes: Buffer): BoosterModel {
  switch (detectModelFormat(bytes)) {
    case 'json':
      return loadJsonModel(bytes.toString('utf8').replace(/^\uFEFF/, ''));
    case 'ubjson':
      return loadUbjsonModel(bytes);
    default:
      return loadBinaryModel(bytes);
  }
}
