/**
 * Benchmark for the XGBoost data loader and predictor:
 *   node --import tsx bench/xgboost-predict.ts [rows=1000000] [cols=30] [trees=100] [depth=6]
 * Writes a rows × (1 + cols) CSV under the OS temp folder (reused between runs), times
 * loadChannel on it, then times predict with a model of full-depth random trees whose splits
 * are drawn from the data (so both branches are taken).
 */
import { existsSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadChannel } from '../src/algorithms/xgboost/data.ts';
import type { BoosterModel, DenseMatrix, Tree } from '../src/algorithms/xgboost/model.ts';
import { predict } from '../src/algorithms/xgboost/predict.ts';

const [rows = 1_000_000, cols = 30, nTrees = 100, depth = 6] = process.argv.slice(2).map(Number);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function writeCsv(file: string): Promise<void> {
  const rand = rng(42);
  const tmp = `${file}.partial`;
  const fh = await open(tmp, 'w');
  try {
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) {
      const fields = [rand() < 0.5 ? '0' : '1'];
      for (let c = 0; c < cols; c++) {
        const u = rand();
        fields.push(u < 0.02 ? '' : c % 5 === 0 ? String(Math.floor(u * 1000)) : (u * 200 - 100).toFixed(4));
      }
      lines.push(fields.join(','));
      if (lines.length === 20_000 || r === rows - 1) {
        await fh.write(`${lines.join('\n')}\n`);
        lines.length = 0;
      }
    }
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

function randomModel(x: DenseMatrix): BoosterModel {
  const rand = rng(7);
  const trees: Tree[] = [];
  const n = 2 ** (depth + 1) - 1;
  for (let t = 0; t < nTrees; t++) {
    const tree: Tree = {
      leftChildren: new Int32Array(n).fill(-1),
      rightChildren: new Int32Array(n).fill(-1),
      parents: new Int32Array(n),
      splitIndices: new Int32Array(n),
      splitConditions: new Float32Array(n),
      defaultLeft: new Uint8Array(n),
      baseWeights: new Float32Array(n),
      lossChanges: new Float32Array(n),
      sumHessian: new Float32Array(n),
    };
    tree.parents[0] = 2147483647;
    for (let i = 0; i < n; i++) {
      if (2 * i + 2 < n) {
        const f = Math.floor(rand() * x.cols);
        let v = NaN;
        while (Number.isNaN(v)) v = x.values[Math.floor(rand() * x.rows) * x.cols + f]!;
        tree.leftChildren[i] = 2 * i + 1;
        tree.rightChildren[i] = 2 * i + 2;
        tree.parents[2 * i + 1] = i;
        tree.parents[2 * i + 2] = i;
        tree.splitIndices[i] = f;
        tree.splitConditions[i] = v;
        tree.defaultLeft[i] = rand() < 0.5 ? 1 : 0;
      } else {
        tree.splitConditions[i] = (rand() - 0.5) * 0.1;
      }
    }
    trees.push(tree);
  }
  return {
    objective: 'binary:logistic',
    objectiveParams: {},
    numFeature: x.cols,
    numClass: 0,
    baseScore: 0.5,
    trees,
    treeInfo: new Array<number>(nTrees).fill(0),
    attributes: {},
  };
}

const file = path.join(os.tmpdir(), `kiln-bench-${rows}x${cols}.csv`);
if (!existsSync(file)) {
  console.log(`writing ${file} ...`);
  await writeCsv(file);
}
const mb = statSync(file).size / 1e6;
let data;
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  data = await loadChannel([file], 'text/csv');
  const s = (performance.now() - t0) / 1000;
  console.log(
    `loadChannel text/csv: ${data.features.rows} rows × ${data.features.cols} features, ${mb.toFixed(0)} MB in ${s.toFixed(2)} s (${(mb / s).toFixed(0)} MB/s)`,
  );
}
const x = data!.features;
const model = randomModel(x);
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  predict(model, x);
  const s = (performance.now() - t0) / 1000;
  console.log(
    `predict: ${x.rows} rows × ${nTrees} trees of depth ${depth} in ${s.toFixed(2)} s (${((x.rows / s) / 1e6).toFixed(2)} M rows/s, ${((x.rows * nTrees) / s / 1e6).toFixed(0)} M tree-rows/s)`,
  );
}
