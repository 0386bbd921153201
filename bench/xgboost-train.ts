/**
 * XGBoost training benchmark: Kiln's TypeScript trainer against real XGBoost 1.7.4 (Debian's
 * python3-xgboost through /usr/bin/python3), same data, same parameters, tree_method=hist,
 * nthread 2, evaluated on train and validation each round like SageMaker's container.
 *
 * Cases: synthetic binary classification 100k×30 and 1M×30 (80/20 train/validation split,
 * 100 rounds, max_depth 6, eta 0.2) and the churn dataset (SageMaker's sample parameters).
 * Each side runs in its own child process that loads the same files; the time is measured
 * around train() / xgb.train only, memory is the child's peak RSS (VmHWM). Runs alternate
 * between the two trainers (BENCH_REPEAT times, default 3, 2 for 1M rows); the ratio uses
 * each side's best time, the median ratio is reported too.
 *
 *   node --import tsx bench/xgboost-train.ts          (BENCH_CASES=synthetic-100k,churn to pick)
 *
 * Writes bench/results/xgboost-train.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHyperparameters } from '../src/algorithms/xgboost/hyperparameters.ts';
import { train } from '../src/algorithms/xgboost/train.ts';
import type { LabeledData } from '../src/algorithms/xgboost/model.ts';
import { CHURN_XGBOOST } from '../test/helpers/shared-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHURN = CHURN_XGBOOST;

interface Case {
  name: string;
  rows?: number;
  hyperparameters: Record<string, string>;
}

const SYNTHETIC_HP = {
  num_round: '100',
  max_depth: '6',
  eta: '0.2',
  objective: 'binary:logistic',
  eval_metric: 'error',
  tree_method: 'hist',
  nthread: '2',
};

const CASES: Case[] = [
  { name: 'synthetic-100k', rows: 100_000, hyperparameters: SYNTHETIC_HP },
  { name: 'synthetic-1m', rows: 1_000_000, hyperparameters: SYNTHETIC_HP },
  {
    name: 'churn',
    hyperparameters: {
      num_round: '100',
      max_depth: '5',
      eta: '0.2',
      gamma: '4',
      min_child_weight: '6',
      subsample: '0.8',
      objective: 'binary:logistic',
      eval_metric: 'error',
      tree_method: 'hist',
      nthread: '2',
      seed: '0',
    },
  },
];

// ---------------------------------------------------------------- data files (.npy)

function writeNpy(file: string, data: Float32Array, shape: number[]): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function readNpy(file: string): { data: Float32Array; shape: number[] } {
  const buf = readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const start = 10 + hlen;
  const bytes = buf.subarray(start);
  const data = new Float32Array(bytes.length / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { data, shape };
}

/** Deterministic make_classification-like data: 10 informative, 10 redundant, 10 noise features. */
function synthesize(rows: number, seed: number): { X: Float32Array; y: Float32Array } {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  let spare = NaN;
  const gauss = () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = NaN;
      return v;
    }
    const u = next() || 1e-12;
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  const F = 30;
  const inf = 10;
  const clusters = 4; // two per class
  const centroids = Array.from({ length: clusters }, () => Array.from({ length: inf }, () => (next() < 0.5 ? -1 : 1) * 1.0));
  const mix = Array.from({ length: 10 }, () => Array.from({ length: inf }, () => gauss() * 0.5));
  const X = new Float32Array(rows * F);
  const y = new Float32Array(rows);
  const xi = new Float64Array(inf);
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(next() * clusters);
    let label = c % 2;
    if (next() < 0.01) label = 1 - label;
    y[r] = label;
    for (let j = 0; j < inf; j++) xi[j] = centroids[c]![j]! + gauss();
    const o = r * F;
    for (let j = 0; j < inf; j++) X[o + j] = xi[j]!;
    for (let j = 0; j < 10; j++) {
      let v = 0;
      for (let q = 0; q < inf; q++) v += mix[j]![q]! * xi[q]!;
      X[o + inf + j] = v;
    }
    for (let j = 0; j < 10; j++) X[o + 20 + j] = gauss();
  }
  return { X, y };
}

function csvToArrays(file: string): { X: Float32Array; y: Float32Array; rows: number; cols: number } {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const cols = lines[0]!.split(',').length - 1;
  const X = new Float32Array(lines.length * cols);
  const y = new Float32Array(lines.length);
  lines.forEach((line, i) => {
    const parts = line.split(',');
    y[i] = Number(parts[0]);
    for (let f = 0; f < cols; f++) X[i * cols + f] = parts[f + 1] === '' ? NaN : Number(parts[f + 1]);
  });
  return { X, y, rows: lines.length, cols };
}

function prepare(c: Case, dir: string): void {
  let X: Float32Array;
  let y: Float32Array;
  let Xv: Float32Array;
  let yv: Float32Array;
  let cols: number;
  if (c.rows) {
    const all = synthesize(c.rows, 42);
    cols = 30;
    const nTrain = Math.floor(c.rows * 0.8);
    X = all.X.subarray(0, nTrain * cols);
    y = all.y.subarray(0, nTrain);
    Xv = all.X.subarray(nTrain * cols);
    yv = all.y.subarray(nTrain);
  } else {
    const t = csvToArrays(path.join(CHURN, 'train.csv'));
    const v = csvToArrays(path.join(CHURN, 'validation.csv'));
    X = t.X;
    y = t.y;
    Xv = v.X;
    yv = v.y;
    cols = t.cols;
  }
  writeNpy(path.join(dir, 'X.npy'), X, [y.length, cols]);
  writeNpy(path.join(dir, 'y.npy'), y, [y.length]);
  writeNpy(path.join(dir, 'Xv.npy'), Xv, [yv.length, cols]);
  writeNpy(path.join(dir, 'yv.npy'), yv, [yv.length]);
  writeFileSync(path.join(dir, 'hp.json'), JSON.stringify(c.hyperparameters));
}

function peakRssMiB(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

// ---------------------------------------------------------------- child: Kiln

async function childKiln(dir: string): Promise<void> {
  const load = (name: string) => readNpy(path.join(dir, name));
  const X = load('X.npy');
  const y = load('y.npy');
  const Xv = load('Xv.npy');
  const yv = load('yv.npy');
  const trainData: LabeledData = { features: { rows: X.shape[0]!, cols: X.shape[1]!, values: X.data }, labels: y.data };
  const valid: LabeledData = { features: { rows: Xv.shape[0]!, cols: Xv.shape[1]!, values: Xv.data }, labels: yv.data };
  const hp = JSON.parse(readFileSync(path.join(dir, 'hp.json'), 'utf8')) as Record<string, string>;
  const params = parseHyperparameters(hp);
  const lines: string[] = [];
  const t0 = performance.now();
  const result = await train(params, trainData, valid, (l) => lines.push(l));
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ seconds, peakRssMiB: peakRssMiB(), validationError: result.finalMetrics['validation:error'], lastLine: lines.at(-1) }));
}

const PY = String.raw`
import json, sys, time, numpy as np, xgboost as xgb
d = sys.argv[1]
X = np.load(d + '/X.npy'); y = np.load(d + '/y.npy'); Xv = np.load(d + '/Xv.npy'); yv = np.load(d + '/yv.npy')
hp = json.load(open(d + '/hp.json'))
num_round = int(hp.pop('num_round'))
dtrain = xgb.DMatrix(X, label=y); dval = xgb.DMatrix(Xv, label=yv)
res = {}
t0 = time.perf_counter()
bst = xgb.train(hp, dtrain, num_boost_round=num_round, evals=[(dtrain, 'train'), (dval, 'validation')], evals_result=res, verbose_eval=False)
seconds = time.perf_counter() - t0
peak = 0
for line in open('/proc/self/status'):
    if line.startswith('VmHWM:'): peak = int(line.split()[1]) / 1024
print(json.dumps({'seconds': seconds, 'peakRssMiB': peak, 'validationError': res['validation']['error'][-1]}))
`;

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await childKiln(process.argv[3]!);
    return;
  }
  const wanted = process.env.BENCH_CASES?.split(',');
  const cases = CASES.filter((c) => !wanted || wanted.includes(c.name));
  const results: Record<string, unknown> = {};
  const self = fileURLToPath(import.meta.url);
  for (const c of cases) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `kiln-xgb-bench-${c.name}-`));
    try {
      prepare(c, dir);
      // The machine may be shared: alternate the two trainers and keep each one's best time.
      const repeats = Number(process.env.BENCH_REPEAT ?? (c.rows && c.rows >= 1_000_000 ? 2 : 3));
      const refRuns: { seconds: number; peakRssMiB: number; validationError: number }[] = [];
      const ourRuns: { seconds: number; peakRssMiB: number; validationError: number; lastLine: string }[] = [];
      for (let rep = 0; rep < repeats; rep++) {
        const xgbRun = spawnSync('/usr/bin/python3', ['-c', PY, dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
        if (xgbRun.status !== 0) throw new Error(`xgboost run failed: ${xgbRun.stderr}`);
        refRuns.push(JSON.parse(xgbRun.stdout.trim().split('\n').at(-1)!));
        const kilnRun = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
        if (kilnRun.status !== 0) throw new Error(`kiln run failed (status ${kilnRun.status}, signal ${kilnRun.signal}): ${kilnRun.stderr}${kilnRun.stdout}`);
        ourRuns.push(JSON.parse(kilnRun.stdout));
      }
      const best = <T extends { seconds: number }>(runs: T[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      const median = (runs: { seconds: number }[]) => [...runs.map((r) => r.seconds)].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
      const ref = best(refRuns);
      const ours = best(ourRuns);
      const row = {
        kilnSeconds: ours.seconds,
        xgboostSeconds: ref.seconds,
        timeRatio: ours.seconds / ref.seconds,
        kilnMedianSeconds: median(ourRuns),
        xgboostMedianSeconds: median(refRuns),
        medianTimeRatio: median(ourRuns) / median(refRuns),
        repeats,
        kilnPeakRssMiB: Math.max(...ourRuns.map((r) => r.peakRssMiB)),
        xgboostPeakRssMiB: Math.max(...refRuns.map((r) => r.peakRssMiB)),
        kilnValidationError: ours.validationError,
        xgboostValidationError: ref.validationError,
        validationErrorDiff: ours.validationError - ref.validationError,
        hyperparameters: c.hyperparameters,
      };
      results[c.name] = row;
      console.log(
        `${c.name.padEnd(15)} kiln ${ours.seconds.toFixed(2)}s  xgboost ${ref.seconds.toFixed(2)}s  ratio ${row.timeRatio.toFixed(2)} (median ${row.medianTimeRatio.toFixed(2)})  ` +
          `peak RSS ${row.kilnPeakRssMiB.toFixed(0)}/${row.xgboostPeakRssMiB.toFixed(0)} MiB  val error ${ours.validationError.toFixed(5)} vs ${ref.validationError.toFixed(5)} (diff ${row.validationErrorDiff.toFixed(5)})`,
      );
    } finally {
      if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
      else console.log('kept', dir);
    }
  }
  results.config = { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, date: new Date().toISOString() };
  const outDir = path.join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  if (!wanted) writeFileSync(path.join(outDir, 'xgboost-train.json'), JSON.stringify(results, null, 2) + '\n');
  else console.log('(subset run: results file not written)');
}

await main();
