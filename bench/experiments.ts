/**
 * Experiment tracking at scale, against a `kiln serve` child process:
 *  - BatchPutMetrics ingestion from one client: 10,000 points (1,000 calls of 10, the
 *    API's maximum), sequentially and with requests in flight on one keep-alive client;
 *    and the same 1,000 batches given to Kiln's metric store in-process, without HTTP,
 *    which shows what the store itself takes (group commit) apart from the wire; and the
 *    same signed requests to a bare Node HTTP server, the floor any HTTP service has here;
 *  - Search over 10,000 trial components with 20 parameters and 10 metrics each: a
 *    filtered (parameter and metric), metric-sorted query, p50/p95 after a first, cold one.
 *
 *   npm run bench:experiments      (BENCH_COMPONENTS=10000, BENCH_POINTS=10000 by default)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssociateTrialComponentCommand, CreateExperimentCommand, CreateTrialCommand, CreateTrialComponentCommand, SageMakerClient, SearchCommand } from '@aws-sdk/client-sagemaker';
import { Experiments } from '../src/engine/experiments/experiments.ts';
import { openMetadataStore } from '../src/store/metadata/database.ts';
import { spawnKiln } from '../test/helpers/child-server.ts';
import { MetricsClient, type MetricDatum } from '../test/helpers/metrics-client.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const COMPONENTS = Number(process.env.BENCH_COMPONENTS ?? 10_000);
const POINTS = Number(process.env.BENCH_POINTS ?? 10_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 16);
const SEARCHES = 30;
const credentials = { accessKeyId: 'AKIAKILNBENCH0000006', secretAccessKey: 'kiln-bench-secret-6' };

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-exp-'));
const kiln = await spawnKiln({ KILN_DATA_DIR: dataDir, KILN_LOG_LEVEL: 'warn', KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey });
const common = { endpoint: kiln.url, region: 'us-east-1', credentials };
const sm = new SageMakerClient({ ...common, maxAttempts: 1 });
const metrics = new MetricsClient(common);
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** Runs tasks with at most `limit` in flight. */
async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

async function put(name: string, data: MetricDatum[]): Promise<void> {
  const r = await metrics.batchPutMetrics(name, data);
  if (r.status !== 200 || r.body.Errors) throw new Error(`BatchPutMetrics failed: ${r.status} ${JSON.stringify(r.body)}`);
}

/** 10-point batches of a 10-metric training loop: step s carries one point of each metric. */
const batchAt = (s: number, t0: number): MetricDatum[] => Array.from({ length: 10 }, (_, m) => ({ MetricName: `metric_${m}`, Timestamp: new Date(t0 + s), Step: s, Value: Math.sin(s / 50 + m) }));

/**
 * The floor under any HTTP answer on this machine: the same signed requests, from the same
 * client, to a bare Node HTTP server in its own process that reads and parses the body and
 * answers `{}` (no signature check, validation or storage).
 */
async function bareHttpFloor(calls: number, t0: number): Promise<{ sequentialMs: number; inFlightMs: number }> {
  const source = `const http = require('node:http');
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => { JSON.parse(Buffer.concat(chunks).toString('utf8')); res.setHeader('content-type', 'application/json'); res.end('{}'); });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const bare = new MetricsClient({ ...common, endpoint: `http://127.0.0.1:${port}` });
    const send = async (s: number) => {
      const r = await bare.batchPutMetrics('bare', batchAt(s, t0));
      if (r.status !== 200) throw new Error(`bare server answered ${r.status}`);
    };
    await send(0);
    let start = performance.now();
    for (let s = 1; s <= calls; s++) await send(s);
    const sequentialMs = performance.now() - start;
    start = performance.now();
    await pool(calls, IN_FLIGHT, send);
    const inFlightMs = performance.now() - start;
    bare.close();
    return { sequentialMs, inFlightMs };
  } finally {
    child.kill();
  }
}

/**
 * The same batches straight into the engine's metric store (its own database), all at
 * once: the median of 3 rounds after a warm-up round.
 */
async function storeIngestion(calls: number, t0: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-store-'));
  const db = await openMetadataStore(dir);
  try {
    const experiments = new Experiments({ db, region: 'us-east-1', accountId: '000000000000' });
    await experiments.createTrialComponent({ TrialComponentName: 'ingest-store' });
    const rounds: number[] = [];
    for (let round = 0; round < 4; round++) {
      const start = performance.now();
      await Promise.all(Array.from({ length: calls }, (_, s) => experiments.putMetrics('ingest-store', batchAt(round * calls + s, t0))));
      rounds.push(performance.now() - start);
    }
    return percentile(rounds.slice(1), 0.5);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  // ---- ingestion
  await sm.send(new CreateTrialComponentCommand({ TrialComponentName: 'ingest-sequential' }));
  await sm.send(new CreateTrialComponentCommand({ TrialComponentName: 'ingest-in-flight' }));
  await put('ingest-sequential', batchAt(0, Date.now())); // warm the connection and code paths
  const calls = Math.ceil(POINTS / 10);
  const t0 = Date.now();
  let start = performance.now();
  for (let s = 1; s <= calls; s++) await put('ingest-sequential', batchAt(s, t0));
  const sequentialMs = performance.now() - start;
  start = performance.now();
  await pool(calls, IN_FLIGHT, (s) => put('ingest-in-flight', batchAt(s, t0)));
  const inFlightMs = performance.now() - start;
  const storeMs = await storeIngestion(calls, t0);
  const floor = await bareHttpFloor(calls, t0);
  const rate = (ms: number) => Math.round((calls * 10) / (ms / 1000));
  const ingestion = {
    points: calls * 10,
    calls,
    pointsPerCall: 10,
    sequential: { ms: Math.round(sequentialMs), pointsPerSecond: rate(sequentialMs) },
    inFlight: { requestsInFlight: IN_FLIGHT, ms: Math.round(inFlightMs), pointsPerSecond: rate(inFlightMs) },
    storeWithoutHttp: { ms: Math.round(storeMs), pointsPerSecond: rate(storeMs) },
    bareHttpFloor: {
      sequentialMs: Math.round(floor.sequentialMs),
      inFlightMs: Math.round(floor.inFlightMs),
      kilnOverFloorSequential: Number((sequentialMs / floor.sequentialMs).toFixed(2)),
      kilnOverFloorInFlight: Number((inFlightMs / floor.inFlightMs).toFixed(2)),
    },
  };
  console.log('BatchPutMetrics', ingestion);

  // ---- a corpus of runs: 20 parameters, 10 metrics each, in one experiment's trial
  await sm.send(new CreateExperimentCommand({ ExperimentName: 'bench' }));
  await sm.send(new CreateTrialCommand({ TrialName: 'bench-trial', ExperimentName: 'bench' }));
  start = performance.now();
  await pool(COMPONENTS, IN_FLIGHT, async (i) => {
    const name = `run-${i}`;
    const Parameters = Object.fromEntries(Array.from({ length: 20 }, (_, p) => [`param_${p}`, p % 4 === 3 ? { StringValue: ['adam', 'sgd', 'rmsprop'][(i + p) % 3]! } : { NumberValue: ((i * 7919 + p * 104729) % 1000) / 10 }]));
    await sm.send(new CreateTrialComponentCommand({ TrialComponentName: name, Parameters }));
    await sm.send(new AssociateTrialComponentCommand({ TrialComponentName: name, TrialName: 'bench-trial' }));
    await put(name, Array.from({ length: 10 }, (_, m) => ({ MetricName: `metric_${m}`, Timestamp: new Date(), Step: 0, Value: ((i * 31 + m * 17) % 997) / 997 })));
  });
  const corpusSeconds = (performance.now() - start) / 1000;
  console.log(`created ${COMPONENTS} trial components in ${corpusSeconds.toFixed(1)} s`);

  const query = new SearchCommand({
    Resource: 'ExperimentTrialComponent',
    SearchExpression: {
      Filters: [
        { Name: 'Parents.ExperimentName', Operator: 'Equals', Value: 'bench' },
        { Name: 'Parameters.param_0', Operator: 'GreaterThan', Value: '25' },
        { Name: 'Parameters.param_3', Operator: 'Equals', Value: 'adam' },
        { Name: 'Metrics.metric_1.Min', Operator: 'LessThan', Value: '0.8' },
      ],
    },
    SortBy: 'Metrics.metric_2.Last',
    SortOrder: 'Descending',
    MaxResults: 20,
  });
  start = performance.now();
  const firstPage = await sm.send(query);
  const coldMs = performance.now() - start;
  const samples: number[] = [];
  for (let i = 0; i < SEARCHES; i++) {
    start = performance.now();
    await sm.send(query);
    samples.push(performance.now() - start);
  }
  const search = {
    trialComponents: COMPONENTS,
    parametersEach: 20,
    metricsEach: 10,
    resultsPerPage: firstPage.Results!.length,
    coldMs: Math.round(coldMs),
    p50Ms: Number(percentile(samples, 0.5).toFixed(1)),
    p95Ms: Number(percentile(samples, 0.95).toFixed(1)),
    corpusCreationSeconds: Number(corpusSeconds.toFixed(1)),
  };
  console.log('Search', search);

  const result = {
    bench: 'experiments',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    ingestion,
    search,
    loadAverage: os.loadavg(),
    bars: {
      '10,000 points through BatchPutMetrics < 200 ms (in flight)': ingestion.inFlight.ms < 200,
      '10,000 points into the metric store < 200 ms': ingestion.storeWithoutHttp.ms < 200,
      'filtered, sorted Search over 10,000 runs < 200 ms p50': search.p50Ms < 200,
    },
  };
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'experiments.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  kiln.child.kill('SIGTERM');
  await kiln.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
