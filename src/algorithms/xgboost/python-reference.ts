/**
 * Test support: runs real XGBoost (Debian's python3-xgboost 1.7.x under /usr/bin/python3) to
 * produce reference models, predictions and parsed matrices that the tests compare Kiln against.
 * Not used by Kiln itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHURN_XGBOOST } from '../../../test/helpers/shared-data.ts';

export const PYTHON = '/usr/bin/python3';
export const CHURN_TRAIN = path.join(CHURN_XGBOOST, 'train.csv');
export const CHURN_VALIDATION = path.join(CHURN_XGBOOST, 'validation.csv');

let available: string | undefined;

/** The installed XGBoost version, or '' when python3 with xgboost and numpy is not available. */
export function xgboostVersion(): string {
  if (available === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import numpy, scipy, xgboost; print(xgboost.__version__)'], {
      encoding: 'utf8',
    });
    available = r.status === 0 ? r.stdout.trim() : '';
  }
  return available;
}

/** A reason to skip XGBoost reference tests, or false when they can run. */
export function skipWithoutXgboost(): string | false {
  return xgboostVersion() === '' ? `needs ${PYTHON} with xgboost, numpy and scipy (apt-get install python3-xgboost)` : false;
}

/** Runs a Python script with arguments; throws with its stderr when it fails. */
export function runPython(script: string, args: string[] = [], cwd?: string): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], {
    encoding: 'utf8',
    cwd,
    env: { ...process.env, OMP_NUM_THREADS: '2', PYTHONWARNINGS: 'ignore' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`python failed (${r.status}): ${r.stderr.slice(-4000)}`);
  }
  return r.stdout;
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `kiln-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Reads a little-endian float32 file (numpy's tofile). */
export function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

/** Largest absolute difference between two arrays (Infinity on length mismatch; NaN == NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return Infinity;
      continue;
    }
    const d = Math.abs(x - y);
    if (d > m) m = d;
  }
  return m;
}

/**
 * Python that trains the reference models on the churn data. Each case writes, into the output
 * directory: <name>.json, <name>.model (legacy binary), <name>.ubj, and predictions on the
 * validation features (<name>.pred, <name>.margin, <name>.range for iteration_range (1, 3))
 * plus x.f32 / xnan.f32 (the validation features, without and with NaNs). Prints a manifest.
 */
export const TRAIN_REFERENCE_MODELS = String.raw`
import json, sys
import numpy as np
import xgboost as xgb

out, train_csv, valid_csv = sys.argv[1], sys.argv[2], sys.argv[3]
only = set(sys.argv[4].split(',')) if len(sys.argv) > 4 and sys.argv[4] else None
tr = np.loadtxt(train_csv, delimiter=',', dtype=np.float64)
va = np.loadtxt(valid_csv, delimiter=',', dtype=np.float64)
X, y = tr[:, 1:], tr[:, 0]
Xv = va[:, 1:]
rng = np.random.default_rng(7)
Xn = X.copy(); Xn[rng.random(X.shape) < 0.15] = np.nan
Xvn = Xv.copy(); Xvn[rng.random(Xv.shape) < 0.15] = np.nan
Xv.astype(np.float32).tofile(out + '/x.f32')
Xvn.astype(np.float32).tofile(out + '/xnan.f32')

z = (X[:, 2] - X[:, 2].mean()) / X[:, 2].std()
z2 = (X[:, 5] - X[:, 5].mean()) / X[:, 5].std()
y3 = np.digitize(z + 0.5 * z2, [-0.5, 0.5]).astype(np.float64)
ycont = X[:, 2] * 0.1 + X[:, 5] * 0.05 + rng.normal(0, 1, len(y))
ycount = rng.poisson(np.exp(0.4 * z + 0.2 * z2)).astype(np.float64)
ypos = np.exp(0.3 * z + 0.2 * z2 + rng.normal(0, 0.2, len(y)))

base = {'max_depth': 4, 'eta': 0.3, 'nthread': 2, 'seed': 3}
cases = {
    'binary_logistic': ({'objective': 'binary:logistic'}, X, y, Xv, 20),
    'binary_logistic_nan': ({'objective': 'binary:logistic'}, Xn, y, Xvn, 20),
    'multi_softprob': ({'objective': 'multi:softprob', 'num_class': 3}, X, y3, Xv, 10),
    'multi_softmax': ({'objective': 'multi:softmax', 'num_class': 3}, Xn, y3, Xvn, 10),
    'reg_squarederror': ({'objective': 'reg:squarederror'}, X, ycont, Xv, 20),
    'count_poisson': ({'objective': 'count:poisson'}, Xn, ycount, Xvn, 20),
    'reg_logistic': ({'objective': 'reg:logistic'}, X, y, Xv, 10),
    'binary_logitraw': ({'objective': 'binary:logitraw'}, X, y, Xv, 10),
    'binary_hinge': ({'objective': 'binary:hinge'}, X, y, Xv, 10),
    'reg_gamma': ({'objective': 'reg:gamma'}, X, ypos, Xv, 10),
    'reg_tweedie': ({'objective': 'reg:tweedie', 'tweedie_variance_power': 1.3}, X, ypos, Xv, 10),
    'reg_absoluteerror': ({'objective': 'reg:absoluteerror'}, X, ycont, Xv, 10),
    'base_score': ({'objective': 'binary:logistic', 'base_score': 0.2, 'scale_pos_weight': 2.5}, X, y, Xv, 10),
    'pruned': ({'objective': 'binary:logistic', 'tree_method': 'exact', 'gamma': 3, 'max_depth': 6}, Xn, y, Xvn, 10),
    'hist': ({'objective': 'binary:logistic', 'tree_method': 'hist', 'max_depth': 6}, Xn, y, Xvn, 15),
    'forest': ({'objective': 'multi:softprob', 'num_class': 3, 'num_parallel_tree': 3, 'subsample': 0.8,
                'colsample_bynode': 0.8}, X, y3, Xv, 4),
    'dart': ({'objective': 'binary:logistic', 'booster': 'dart', 'rate_drop': 0.3, 'skip_drop': 0.0}, X, y, Xv, 10),
}
manifest = {}
for name, (params, Xt, yt, Xp, rounds) in cases.items():
    if only is not None and name not in only:
        continue
    bst = xgb.train({**base, **params}, xgb.DMatrix(Xt, label=yt), rounds)
    bst.save_model(out + '/' + name + '.json')
    bst.save_model(out + '/' + name + '.model')
    bst.save_model(out + '/' + name + '.ubj')
    d = xgb.DMatrix(Xp)
    bst.predict(d).astype(np.float32).tofile(out + '/' + name + '.pred')
    bst.predict(d, output_margin=True).astype(np.float32).tofile(out + '/' + name + '.margin')
    if params.get('booster') != 'dart':
        bst.predict(d, iteration_range=(1, 3)).astype(np.float32).tofile(out + '/' + name + '.range')
    manifest[name] = {'x': 'xnan.f32' if Xp is Xvn else 'x.f32', 'rows': int(Xp.shape[0]),
                      'cols': int(Xp.shape[1]), 'rounds': rounds}
print(json.dumps(manifest))
`;

export interface ReferenceCase {
  x: string;
  rows: number;
  cols: number;
  rounds: number;
}

/** Trains the reference models (all, or the named cases) into dir; returns the manifest. */
export function trainReferenceModels(dir: string, only?: string[]): Record<string, ReferenceCase> {
  const stdout = runPython(TRAIN_REFERENCE_MODELS, [dir, CHURN_TRAIN, CHURN_VALIDATION, (only ?? []).join(',')]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, ReferenceCase>;
}

/**
 * Python that loads each model file given and writes its predictions (and margins) for the given
 * float32 features: args out_dir, x_file, rows, cols, then model files.
 */
export const PREDICT_WITH_XGBOOST = String.raw`
import sys, os
import numpy as np
import xgboost as xgb
out, xfile, rows, cols = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
x = np.fromfile(xfile, dtype=np.float32).reshape(rows, cols)
d = xgb.DMatrix(x)
for f in sys.argv[5:]:
    b = xgb.Booster()
    b.load_model(f)
    stem = os.path.join(out, os.path.basename(f))
    b.predict(d).astype(np.float32).tofile(stem + '.pred')
    b.predict(d, output_margin=True).astype(np.float32).tofile(stem + '.margin')
print('ok')
`;
