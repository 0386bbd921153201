/**
 * Batch transform throughput (rows/s) and memory, side by side with the anchor: real xgboost
 * 1.7 predicting the same CSV file in one process (its own multi-threaded CSV reader into a
 * DMatrix or pandas.read_csv, then predict, nthread 2), as a user would run a batch prediction
 * without SageMaker; the ratio is against the faster of the two.
 *
 * Kiln runs the course's job shape (MultiRecord, 6 MB payloads, SplitType Line, AssembleWith
 * Line, text/csv) on one ml.m5.xlarge instance, and the time is CreateTransformJob →
 * Completed as a client sees it. Memory is the peak RSS of the server plus its model workers.
 *
 *   node --import tsx bench/transform.ts       (BENCH_ROWS=1000000 by default)
 *
 * Needs /usr/bin/python3 with xgboost (Debian: python3-xgboost).
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CreateModelCommand, CreateTransformJobCommand, DescribeTransformJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { spawnKiln } from '../test/helpers/child-server.ts';
import { CHURN_XGBOOST } from '../test/helpers/shared-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PYTHON = '/usr/bin/python3';
const credentials = { accessKeyId: 'AKIAKILNBENCH0000004', secretAccessKey: 'kiln-bench-secret-4' };
const region = 'us-east-1';

const MAKE_MODEL = `
import sys, os, tarfile, numpy as np, xgboost as xgb
out = sys.argv[1]
tr = np.loadtxt(os.path.join(sys.argv[2], 'train.csv'), delimiter=',')
b = xgb.train(dict(max_depth=5, eta=0.2, gamma=4, min_child_weight=6, subsample=0.8, objective='binary:logistic', tree_method='hist', nthread=2, seed=0), xgb.DMatrix(tr[:, 1:], label=tr[:, 0]), 100)
b.save_model(os.path.join(out, 'xgboost-model'))
with tarfile.open(os.path.join(out, 'model.tar.gz'), 'w:gz') as t: t.add(os.path.join(out, 'xgboost-model'), arcname='xgboost-model')
`;

/**
 * The anchor: load the file, predict, write one prediction per line. The loader is xgboost's
 * own CSV reader, or pandas.read_csv (what most batch scripts use, and faster) when given.
 */
const ANCHOR = `
import sys, time, json, resource, numpy as np, xgboost as xgb
model, data, out, loader = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
b = xgb.Booster(model_file=model)
b.set_param('nthread', 2)
t0 = time.time()
if loader == 'pandas':
    import pandas as pd
    d = xgb.DMatrix(pd.read_csv(data, header=None).values, nthread=2)
else:
    d = xgb.DMatrix(data + '?format=csv', nthread=2)
t1 = time.time()
p = b.predict(d)
t2 = time.time()
np.savetxt(out, p, fmt='%.9g')
t3 = time.time()
print(json.dumps({'loader': loader, 'loadSeconds': t1 - t0, 'predictSeconds': t2 - t1, 'writeSeconds': t3 - t2, 'totalSeconds': t3 - t0, 'rows': d.num_row(), 'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;

function runPython(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`python failed: ${err}`))));
  });
}

/** RSS of a process and of the processes whose command line carries `tag`, in MiB. */
function rssMiB(pid: number, tag: string): number {
  const rss = (p: string) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  };
  let total = rss(String(pid));
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(tag)) total += rss(p);
    } catch {
      /* gone */
    }
  }
  return total;
}

const work = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-transform-'));
const dataFile = path.join(work, 'rows.csv');
{
  const rows = readFileSync(path.join(CHURN_XGBOOST, 'test.csv'), 'utf8').trim().split('\n');
  const out = createWriteStream(dataFile);
  let block = '';
  for (let i = 0; i < ROWS; i++) {
    block += `${rows[i % rows.length]}\n`;
    if (block.length > 1 << 20) {
      if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
      block = '';
    }
  }
  out.end(block);
  await new Promise<void>((r) => out.on('finish', () => r()));
}
const fileMiB = statSync(dataFile).size / 1024 / 1024;
await runPython(['-c', MAKE_MODEL, work, CHURN_XGBOOST]);

// BENCH_ANCHOR=0 measures Kiln alone (e.g. its memory on a 1 GB file, which the anchors load whole).
const withAnchor = process.env.BENCH_ANCHOR !== '0';
const anchors = withAnchor ? [JSON.parse(await runPython(['-c', ANCHOR, path.join(work, 'xgboost-model'), dataFile, path.join(work, 'anchor.out'), 'xgboost']))] : [];
const hasPandas = withAnchor && (await runPython(['-c', 'import pandas']).then(() => true, () => false));
if (hasPandas) anchors.push(JSON.parse(await runPython(['-c', ANCHOR, path.join(work, 'xgboost-model'), dataFile, path.join(work, 'anchor-pandas.out'), 'pandas'])));
/** The ratio is taken against the fastest anchor. */
const anchor = anchors.length ? anchors.reduce((a, b) => (b.totalSeconds < a.totalSeconds ? b : a)) : undefined;

const dataDir = path.join(work, 'kiln');
const kiln = await spawnKiln({ KILN_DATA_DIR: dataDir, KILN_LOG_LEVEL: 'warn', KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey });
const cfg = { endpoint: kiln.url, region, credentials };
const s3 = new S3Client({ ...cfg, forcePathStyle: true });
const sm = new SageMakerClient(cfg);
let result: Record<string, unknown>;
try {
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await new Upload({ client: s3, params: { Bucket: 'bench', Key: 'model/model.tar.gz', Body: createReadStream(path.join(work, 'model.tar.gz')) } }).done();
  await new Upload({ client: s3, params: { Bucket: 'bench', Key: 'in/rows.csv', Body: createReadStream(dataFile) }, partSize: 64 * 1024 * 1024 }).done();
  await sm.send(new CreateModelCommand({ ModelName: 'bench', ExecutionRoleArn: 'arn:aws:iam::000000000000:role/bench', PrimaryContainer: { Image: 'kiln/xgboost', ModelDataUrl: 's3://bench/model/model.tar.gz' } }));

  const started = performance.now();
  await sm.send(
    new CreateTransformJobCommand({
      TransformJobName: 'bench',
      ModelName: 'bench',
      BatchStrategy: 'MultiRecord',
      MaxPayloadInMB: 6,
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bench/in/' } }, ContentType: 'text/csv', SplitType: 'Line' },
      TransformOutput: { S3OutputPath: 's3://bench/out/', AssembleWith: 'Line' },
      TransformResources: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1 },
    }),
  );
  let peakRss = 0;
  let status = 'InProgress';
  let reason: string | undefined;
  while (status === 'InProgress' || status === 'Stopping') {
    peakRss = Math.max(peakRss, rssMiB(kiln.child.pid!, '--kiln-endpoint=bench/'));
    await new Promise((r) => setTimeout(r, 100));
    const d = await sm.send(new DescribeTransformJobCommand({ TransformJobName: 'bench' }));
    status = d.TransformJobStatus!;
    reason = d.FailureReason;
  }
  const seconds = (performance.now() - started) / 1000;
  if (status !== 'Completed') throw new Error(`transform job ${status}: ${reason}`);

  // The same predictions as xgboost's, line for line (streamed: the output can be large).
  const got = (await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'out/rows.csv.out' }))).Body as AsyncIterable<Buffer>;
  const anchorLines = anchor ? readFileSync(path.join(work, 'anchor.out'), 'utf8').trim().split('\n') : [];
  let maxDiff = 0;
  let outputLines = 0;
  let tail = '';
  for await (const chunk of got) {
    const lines = (tail + chunk.toString('utf8')).split('\n');
    tail = lines.pop()!;
    for (const line of lines) {
      if (anchor) maxDiff = Math.max(maxDiff, Math.abs(Number(line) - Number(anchorLines[outputLines])));
      outputLines++;
    }
  }

  const kilnRowsPerSec = ROWS / seconds;
  result = {
    rows: ROWS,
    fileMiB: Math.round(fileMiB),
    kiln: { seconds: Math.round(seconds * 100) / 100, rowsPerSec: Math.round(kilnRowsPerSec), peakRssMiB: Math.round(peakRss), outputLines },
    xgboost: anchors.map((a) => ({ ...a, rowsPerSec: Math.round(ROWS / a.totalSeconds) })),
    ...(anchor ? { ratioKilnOverXgboost: Math.round((kilnRowsPerSec / (ROWS / anchor.totalSeconds)) * 100) / 100, maxAbsDiff: maxDiff } : {}),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
} finally {
  s3.destroy();
  sm.destroy();
  kiln.child.kill('SIGTERM');
  await kiln.exited;
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 2));
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'transform.json'), `${JSON.stringify(result, null, 2)}\n`);
