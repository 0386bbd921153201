/**
 * Real-time hosting: CreateEndpoint → InService time, and InvokeEndpoint throughput and
 * p50/p99 latency for one CSV row of the churn data at concurrency 1, 16 and 64, side by
 * side with the anchor: the same model (trained by real xgboost 1.7) served the way
 * SageMaker's XGBoost container serves it — Flask under gunicorn (gevent workers, one per
 * CPU, as sagemaker-containers starts it), decoding the CSV with numpy into a DMatrix.
 *
 * Both servers are driven by the same load generator: keep-alive HTTP connections, one per
 * concurrent caller; requests to Kiln are SigV4-signed (as every client signs them).
 *
 *   node --import tsx bench/hosting.ts        (BENCH_SECONDS=5 per level by default)
 *
 * Needs /usr/bin/python3 with xgboost, flask and gunicorn (Debian: python3-xgboost,
 * python3-flask, gunicorn, python3-gevent).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { spawnKiln } from '../test/helpers/child-server.ts';
import { CHURN_XGBOOST } from '../test/helpers/shared-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,16,64').split(',').map(Number);
const PYTHON = '/usr/bin/python3';
const credentials = { accessKeyId: 'AKIAKILNBENCH0000003', secretAccessKey: 'kiln-bench-secret-3' };
const region = 'us-east-1';
const ROW = readFileSync(path.join(CHURN_XGBOOST, 'test.csv'), 'utf8').split('\n')[0]!;

const MAKE_MODEL = `
import sys, os, tarfile, numpy as np, xgboost as xgb
out = sys.argv[1]
tr = np.loadtxt(os.path.join(sys.argv[2], 'train.csv'), delimiter=',')
b = xgb.train(dict(max_depth=5, eta=0.2, gamma=4, min_child_weight=6, subsample=0.8, objective='binary:logistic', tree_method='hist', nthread=2, seed=0), xgb.DMatrix(tr[:, 1:], label=tr[:, 0]), 100)
os.makedirs(os.path.join(out, 'model'))
b.save_model(os.path.join(out, 'model', 'xgboost-model'))
with tarfile.open(os.path.join(out, 'model.tar.gz'), 'w:gz') as t: t.add(os.path.join(out, 'model', 'xgboost-model'), arcname='xgboost-model')
`;

/** The anchor: what the SageMaker XGBoost container's serving does per request, in Flask. */
const FLASK_APP = `
import os, numpy as np, xgboost as xgb, flask
booster = xgb.Booster(model_file=os.path.join(os.environ['MODEL_DIR'], 'xgboost-model'))
app = flask.Flask(__name__)

@app.route('/ping', methods=['GET'])
def ping():
    return flask.Response(status=200)

@app.route('/invocations', methods=['POST'])
def invocations():
    payload = flask.request.get_data().decode('utf-8')
    rows = [r.split(',') for r in payload.strip().split('\\n')]
    dmatrix = xgb.DMatrix(np.array(rows).astype(np.float32))
    preds = booster.predict(dmatrix, validate_features=False)
    return flask.Response(response=','.join(map(str, preds.tolist())), status=200, mimetype='text/csv')
`;

interface LevelResult {
  concurrency: number;
  requests: number;
  errors: number;
  throughputPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** A SigV4 signer for one kind of request, with the day's signing key cached (as SDKs cache it). */
function signer(service: string) {
  let day = '';
  let key: Buffer = Buffer.alloc(0);
  return (method: string, host: string, pathname: string, headers: Record<string, string>, body: string) => {
    const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
    const date = amzDate.slice(0, 8);
    if (date !== day) {
      day = date;
      const h = (k: Buffer | string, v: string) => createHmac('sha256', k).update(v).digest();
      key = h(h(h(h(`AWS4${credentials.secretAccessKey}`, date), region), service), 'aws4_request');
    }
    const payloadHash = createHash('sha256').update(body).digest('hex');
    const all: Record<string, string> = { ...headers, host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
    const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
    const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]));
    const canonical = [method, pathname, '', ...names.map((n) => `${n}:${lower[n]!.trim()}`), '', names.join(';'), payloadHash].join('\n');
    const scope = `${date}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    return {
      ...all,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
    };
  };
}

/** Drives `concurrency` keep-alive callers for `seconds`; returns throughput and latency. */
async function load(url: string, pathname: string, sign: boolean, concurrency: number, seconds: number): Promise<LevelResult> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const sig = signer('sagemaker');
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  const stopAt = { t: Infinity };
  const one = () =>
    new Promise<void>((resolve) => {
      const base = { 'content-type': 'text/csv', 'content-length': String(Buffer.byteLength(ROW)) };
      const headers = sign ? sig('POST', u.host, pathname, base, ROW) : base;
      const t0 = performance.now();
      const req = http.request({ host: u.hostname, port: u.port, path: pathname, method: 'POST', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          if (measuring) {
            latencies.push(performance.now() - t0);
            if (res.statusCode !== 200) errors++;
          }
          resolve();
        });
      });
      req.on('error', () => {
        if (measuring) errors++;
        resolve();
      });
      req.end(ROW);
    });
  const caller = async () => {
    while (performance.now() < stopAt.t) await one();
  };
  // One second of warm-up, then the measured window.
  stopAt.t = performance.now() + 1000;
  await Promise.all(Array.from({ length: concurrency }, caller));
  measuring = true;
  const started = performance.now();
  stopAt.t = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests: latencies.length,
    errors,
    throughputPerSec: Math.round(latencies.length / elapsed),
    p50Ms: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => http.get(url, (res) => (res.resume(), resolve(res.statusCode === 200))).on('error', () => resolve(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-hosting-'));
const dataDir = path.join(work, 'kiln');
let gunicorn: ChildProcess | undefined;
let floor: ChildProcess | undefined;
const kiln = await spawnKiln({ KILN_DATA_DIR: dataDir, KILN_LOG_LEVEL: 'warn', KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey });
try {
  const made = spawn(PYTHON, ['-c', MAKE_MODEL, work, CHURN_XGBOOST], { stdio: 'inherit' });
  await new Promise((resolve) => made.on('exit', resolve));

  // ---- Kiln: deploy, measuring CreateEndpoint → InService.
  const s3 = new S3Client({ endpoint: kiln.url, region, credentials, forcePathStyle: true });
  const sm = new SageMakerClient({ endpoint: kiln.url, region, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'model/model.tar.gz', Body: readFileSync(path.join(work, 'model.tar.gz')) }));
  await sm.send(new CreateModelCommand({ ModelName: 'churn', ExecutionRoleArn: 'arn:aws:iam::000000000000:role/bench', PrimaryContainer: { Image: 'kiln/xgboost:1.7-1', ModelDataUrl: 's3://bench/model/model.tar.gz' } }));
  const instances = Number(process.env.BENCH_INSTANCES ?? os.cpus().length);
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'churn', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'churn', InitialInstanceCount: instances, InstanceType: 'ml.m5.large' }] }));
  const inServiceMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await sm.send(new CreateEndpointCommand({ EndpointName: `churn-${i}`, EndpointConfigName: 'churn' }));
    for (;;) {
      const d = await sm.send(new DescribeEndpointCommand({ EndpointName: `churn-${i}` }));
      if (d.EndpointStatus === 'InService') break;
      if (d.EndpointStatus === 'Failed') throw new Error(d.FailureReason);
      await new Promise((r) => setTimeout(r, 10));
    }
    inServiceMs.push(performance.now() - t0);
  }
  inServiceMs.sort((a, b) => a - b);

  // The SDK client end to end, for reference (its own overhead included).
  const rt = new SageMakerRuntimeClient({ endpoint: kiln.url, region, credentials });
  const sdkSamples: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t0 = performance.now();
    await rt.send(new InvokeEndpointCommand({ EndpointName: 'churn-0', ContentType: 'text/csv', Body: ROW }));
    sdkSamples.push(performance.now() - t0);
  }
  sdkSamples.sort((a, b) => a - b);

  const kilnLevels: LevelResult[] = [];
  for (const c of LEVELS) {
    kilnLevels.push(await load(kiln.url, `/endpoints/${process.env.BENCH_ENDPOINT ?? 'churn-0'}/invocations`, true, c, SECONDS));
    console.log('kiln', JSON.stringify(kilnLevels.at(-1)));
  }

  // ---- The anchor: Flask + gunicorn + real xgboost.
  if (process.env.BENCH_SKIP_ANCHOR) throw new Error('anchor skipped');
  const port = await freePort();
  writeFileSync(path.join(work, 'serve.py'), FLASK_APP);
  let workerClass = 'gevent';
  const gevent = spawn(PYTHON, ['-c', 'import gevent'], { stdio: 'ignore' });
  if ((await new Promise((resolve) => gevent.on('exit', resolve))) !== 0) workerClass = 'gthread';
  gunicorn = spawn(PYTHON, ['-m', 'gunicorn', '-b', `127.0.0.1:${port}`, '-w', String(os.cpus().length), '-k', workerClass, ...(workerClass === 'gthread' ? ['--threads', '4'] : []), '--chdir', work, '--log-level', 'warning', 'serve:app'], {
    env: { ...process.env, MODEL_DIR: path.join(work, 'model'), PYTHONPATH: work, OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitFor(`http://127.0.0.1:${port}/ping`);
  const pythonLevels: LevelResult[] = [];
  for (const c of LEVELS) {
    pythonLevels.push(await load(`http://127.0.0.1:${port}`, '/invocations', false, c, SECONDS));
    console.log('python', JSON.stringify(pythonLevels.at(-1)));
  }

  // ---- The floor: a bare Node HTTP server in its own process that answers a fixed prediction,
  // driven the same way (signed requests). No server written in Node can beat it on this machine.
  const floorPort = await freePort();
  floor = spawn(process.execPath, ['-e', `require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.setHeader('content-type', 'text/csv'); r.end('0.5'); }); }).listen(${floorPort}, '127.0.0.1')`], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 300));
  const floorLevels: LevelResult[] = [];
  for (const c of LEVELS) {
    floorLevels.push(await load(`http://127.0.0.1:${floorPort}`, `/endpoints/churn-0/invocations`, true, c, SECONDS));
    console.log('bare node', JSON.stringify(floorLevels.at(-1)));
  }

  const result = {
    benchmark: 'hosting',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    payload: 'one CSV row of churn-xgboost/test.csv (69 features), model: 100 trees, depth 5, binary:logistic',
    kiln: {
      instances,
      createEndpointToInServiceMs: { median: round(quantile(inServiceMs, 0.5), 1), min: round(inServiceMs[0]!, 1), max: round(inServiceMs.at(-1)!, 1) },
      sdkClientSequentialMs: { p50: round(quantile(sdkSamples, 0.5)), p99: round(quantile(sdkSamples, 0.99)) },
      invoke: kilnLevels,
    },
    anchor: { server: `gunicorn ${workerClass} x${os.cpus().length} + flask + xgboost 1.7 (Debian)`, invoke: pythonLevels },
    bareNodeFloor: { server: 'node:http answering a constant, one process', invoke: floorLevels },
    ratio: LEVELS.map((c, i) => ({
      concurrency: c,
      throughput: round(kilnLevels[i]!.throughputPerSec / Math.max(1, pythonLevels[i]!.throughputPerSec), 2),
      p99: round(kilnLevels[i]!.p99Ms / pythonLevels[i]!.p99Ms, 2),
      bareNodeOverAnchor: round(floorLevels[i]!.throughputPerSec / Math.max(1, pythonLevels[i]!.throughputPerSec), 2),
    })),
  };
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'hosting.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  gunicorn?.kill('SIGTERM');
  floor?.kill('SIGTERM');
  kiln.child.kill('SIGTERM');
  await kiln.exited;
  rmSync(work, { recursive: true, force: true });
}
