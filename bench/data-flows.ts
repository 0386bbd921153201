/**
 * Data flows against pandas. The course's transform chain on hotel bookings (drop columns,
 * drop duplicates, impute agent, one-hot five categoricals, remove children outliers at 4 sd,
 * stratified train/validation/test split, each split written as CSV) runs in Kiln's DuckDB engine
 * and in pandas 1.5 (Debian) on the same file; the time ratio is pandas ÷ Kiln. Then the Data
 * Quality and Insights report on 1,000,000 rows × 20 columns.
 *
 * The shared file is a 19,998-row sample; it is enlarged to ~119k rows (the full data set's
 * size) and to 10× that by repeating its rows with varied values (lead time, ADR and day of
 * month shift per copy, so copies are not duplicates of each other).
 *
 *   node --import tsx bench/data-flows.ts      (KILN_DUCKDB_THREADS=1 to pin DuckDB to one thread;
 *                                              BENCH_ROUNDS=n for n runs of each side per size, 3 unless set)
 *
 * Each side's best run is compared; every run's time is reported too, with the best runs' steps.
 *
 * Needs /usr/bin/python3 with pandas (Debian: python3-pandas). Writes bench/results/data-flows.json.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckSession } from '../src/engine/data/duck.ts';
import { validateFlow, type FlowDocument } from '../src/engine/data/flow.ts';
import { writeOutputs } from '../src/engine/data/flow-outputs.ts';
import { operatorCatalog } from '../src/engine/data/operators.ts';
import { FlowSession } from '../src/engine/data/session.ts';
import { literal } from '../src/engine/data/sql.ts';
import { FsObjectStore } from '../src/store/objects/fs-store.ts';
import { HOTEL_BOOKINGS } from '../test/helpers/shared-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const DROPPED = ['reservation_status', 'reservation_status_date', 'company', 'arrival_date_year', 'arrival_date_week_number', 'days_in_waiting_list', 'assigned_room_type', 'booking_changes', 'country'];
const CATEGORICALS = ['meal', 'market_segment', 'distribution_channel', 'deposit_type', 'customer_type'];

const chainFlow = (uri: string, out: string): FlowDocument => validateFlow({
  version: 1,
  nodes: [
    { id: 'bookings', type: 'source', operator: 'csv', parameters: { uri } },
    { id: 'drop_columns', type: 'transform', operator: 'manage_columns', inputs: ['bookings'], parameters: { operator: 'drop', columns: DROPPED } },
    { id: 'drop_duplicates', type: 'transform', operator: 'manage_rows', inputs: ['drop_columns'], parameters: { operator: 'drop_duplicates' } },
    { id: 'impute_agent', type: 'transform', operator: 'handle_missing', inputs: ['drop_duplicates'], parameters: { operator: 'impute', columns: ['agent'], strategy: 'approximate_median' } },
    { id: 'one_hot', type: 'transform', operator: 'encode_categorical', inputs: ['impute_agent'], parameters: { operator: 'one_hot', columns: CATEGORICALS } },
    { id: 'children_outliers', type: 'transform', operator: 'handle_outliers', inputs: ['one_hot'], parameters: { method: 'standard_deviation', standardDeviations: 4, columns: ['children'], fix: 'remove' } },
    { id: 'split', type: 'transform', operator: 'split', inputs: ['children_outliers'], parameters: { method: 'stratified', column: 'is_canceled', splits: [{ name: 'train', fraction: 0.7 }, { name: 'validation', fraction: 0.15 }, { name: 'test', fraction: 0.15 }] } },
    ...['train', 'validation', 'test'].map((s) => ({ id: `${s}_out`, type: 'destination', operator: 's3', inputs: [`split.${s}`], parameters: { uri: `${out}${s}/` } })),
  ],
}, operatorCatalog);

const PANDAS_CHAIN = `
import sys, time, json, numpy as np, pandas as pd
src, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
d = pd.read_csv(src)
t1 = time.perf_counter()
d = d.drop(columns=${JSON.stringify(DROPPED)})
d = d.drop_duplicates()
d['agent'] = d['agent'].fillna(d['agent'].median())
d = pd.get_dummies(d, columns=${JSON.stringify(CATEGORICALS)})
m, s = d['children'].mean(), d['children'].std()
d = d[~((d['children'] - m).abs() > 4 * s)]
rng = np.random.default_rng(42)
d = d.assign(__u=rng.random(len(d)))
d['__r'] = d.groupby('is_canceled')['__u'].rank(method='first') - 1
d['__n'] = d.groupby('is_canceled')['__u'].transform('size')
t2 = time.perf_counter()
rows = {}
for name, lo, hi in [('train', 0, 0.7), ('validation', 0.7, 0.85), ('test', 0.85, 1.0)]:
    part = d[(d['__r'] >= np.floor(d['__n'] * lo + 0.5)) & ((d['__r'] < np.floor(d['__n'] * hi + 0.5)) | (hi == 1.0))].drop(columns=['__u', '__r', '__n'])
    part.to_csv(f'{out}/{name}.csv', index=False)
    rows[name] = len(part)
t3 = time.perf_counter()
print(json.dumps({'seconds': t3 - t0, 'rows': rows, 'stepsMs': {'read_csv': round((t1 - t0) * 1000), 'transforms': round((t2 - t1) * 1000), 'split and to_csv': round((t3 - t2) * 1000)}}))
`;

function python(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`python exited ${code}: ${err}`))));
  });
}

/** The sample repeated `copies` times, each copy shifted so it is not a duplicate of another. */
async function enlarge(copies: number, file: string): Promise<number> {
  const duck = await DuckSession.open();
  try {
    await duck.run(`COPY (
      SELECT * REPLACE (lead_time + k AS lead_time, round(adr * (1 + 0.013 * k), 2) AS adr, ((arrival_date_day_of_month + k - 1) % 28) + 1 AS arrival_date_day_of_month)
      FROM read_csv(${literal(HOTEL_BOOKINGS)}, nullstr = ['', 'NULL']), range(${copies}) AS c(k)
      ORDER BY k, lead_time
    ) TO ${literal(file)} (FORMAT csv, HEADER)`);
    return Number((await duck.query(`SELECT count(*) AS n FROM read_csv(${literal(file)})`))[0]!.n);
  } finally {
    await duck.close();
  }
}

async function wideTable(file: string, rows: number): Promise<void> {
  const duck = await DuckSession.open();
  try {
    const features = Array.from({ length: 17 }, (_, i) => `CASE WHEN random() < 0.01 THEN NULL ELSE round(random() * ${(i + 1) * 10} + ${i % 7}, 3) END AS f${i + 1}`).join(', ');
    await duck.run('SELECT setseed(0.42)');
    await duck.run(`COPY (SELECT i AS id, CASE WHEN random() < 0.3 THEN 1 ELSE 0 END AS label, 'c' || (i % 10) AS cat, ${features} FROM range(${rows}) t(i)) TO ${literal(file)} (FORMAT csv, HEADER)`);
  } finally {
    await duck.close();
  }
}

interface ChainRun {
  seconds: number;
  rows: Record<string, number>;
  /** Milliseconds per step: each node's build (as the session logs it), then each destination's write. */
  stepsMs: Record<string, number>;
}

async function kilnChain(objects: FsObjectStore, scratch: string, key: string): Promise<ChainRun> {
  const flow = chainFlow(`s3://bench/${key}`, `s3://bench/out/${key}/`);
  const stepsMs: Record<string, number> = {};
  let buildMs = 0;
  const log = (line: string) => {
    const m = /^node (\S+) \(.*\) ready in (\d+) ms$/.exec(line);
    if (m) {
      stepsMs[m[1]!] = Number(m[2]);
      buildMs += Number(m[2]);
    }
  };
  const started = performance.now();
  const session = await FlowSession.open(flow, { objects, scratchDir: path.join(scratch, `session-${key}`), log });
  stepsMs.open = Math.round(performance.now() - started);
  const rows: Record<string, number> = {};
  try {
    const t = performance.now();
    for (const out of await writeOutputs(session, session.destinations().map((d) => ({ node: d.id })))) rows[out.node.replace('_out', '')] = out.rows;
    // The nodes are built first (counted above); then the three outputs are written side by side.
    stepsMs['write the three outputs'] = Math.round(performance.now() - t - buildMs);
  } finally {
    const t = performance.now();
    await session.close();
    stepsMs.close = Math.round(performance.now() - t);
  }
  return { seconds: (performance.now() - started) / 1000, rows, stepsMs };
}

/** Rounds per size, alternating Kiln and pandas; each side's best run is compared. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS) || 3);

const best = <T extends { seconds: number }>(runs: T[]): T => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-flows-'));
  const objects = new FsObjectStore(path.join(work, 'objects'));
  await objects.createBucket('bench', 'us-east-1');
  const results: Record<string, unknown> = {
    machine: { cores: os.availableParallelism(), loadAverageAtStart: os.loadavg() },
    duckdbThreads: process.env.KILN_DUCKDB_THREADS ?? 'default (one per core)',
  };
  try {
    const chain: Record<string, unknown>[] = [];
    for (const [label, copies] of [['hotel bookings, ~119k rows', 6], ['10× enlargement, ~1.2M rows', 60]] as const) {
      const file = path.join(work, `hotel-${copies}.csv`);
      const rows = await enlarge(copies, file);
      await objects.putObject({ bucket: 'bench', key: `hotel-${copies}.csv`, body: createReadStream(file) });
      const outDir = path.join(work, `pandas-${copies}`);
      mkdirSync(outDir, { recursive: true });
      const kiln: ChainRun[] = [];
      const pandas: ChainRun[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        kiln.push(await kilnChain(objects, work, `hotel-${copies}.csv`));
        pandas.push(JSON.parse(await python(PANDAS_CHAIN, [file, outDir])) as ChainRun);
      }
      const k = best(kiln);
      const p = best(pandas);
      const entry = { data: label, rows, kilnSeconds: +k.seconds.toFixed(3), pandasSeconds: +p.seconds.toFixed(3), speedup: +(p.seconds / k.seconds).toFixed(2), kilnRows: k.rows, pandasRows: p.rows,
        kilnRunsSeconds: kiln.map((r) => +r.seconds.toFixed(3)), pandasRunsSeconds: pandas.map((r) => +r.seconds.toFixed(3)), kilnStepsMs: k.stepsMs, pandasStepsMs: p.stepsMs };
      console.log(JSON.stringify(entry));
      chain.push(entry);
    }
    results.chain = chain;

    const wide = path.join(work, 'wide-1m.csv');
    await wideTable(wide, 1_000_000);
    await objects.putObject({ bucket: 'bench', key: 'wide.csv', body: createReadStream(wide) });
    const flow = validateFlow({ version: 1, nodes: [
      { id: 'wide', type: 'source', operator: 'csv', parameters: { uri: 's3://bench/wide.csv' } },
      { id: 'report', type: 'analysis', operator: 'quality_report', inputs: ['wide'], parameters: { target: 'label' } },
    ] }, operatorCatalog);
    const session = await FlowSession.open(flow, { objects, scratchDir: path.join(work, 'session-wide') });
    try {
      let t = performance.now();
      await session.rowCount('wide');
      const loadSeconds = (performance.now() - t) / 1000;
      const runs = [];
      for (let i = 0; i < 2; i++) {
        t = performance.now();
        const r = await session.analyze('report');
        runs.push({ seconds: (performance.now() - t) / 1000, timings: r.data.timingsMs });
      }
      const r = best(runs);
      results.qualityReport = { rows: 1_000_000, columns: 20, loadSeconds: +loadSeconds.toFixed(3), reportSeconds: +r.seconds.toFixed(3), phasesMs: r.timings, bar: 'report < 5 s' };
      console.log(JSON.stringify(results.qualityReport));
    } finally {
      await session.close();
    }
    mkdirSync(path.join(here, 'results'), { recursive: true });
    (results.machine as Record<string, unknown>).loadAverageAtEnd = os.loadavg();
    const name = process.env.KILN_DUCKDB_THREADS ? `data-flows-threads-${process.env.KILN_DUCKDB_THREADS}.json` : 'data-flows.json';
    writeFileSync(path.join(here, 'results', name), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await objects.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
