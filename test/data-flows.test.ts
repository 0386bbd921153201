import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { HOTEL_BOOKINGS } from './helpers/shared-data.ts';
import { COURSE_NODES, pandasReference } from './helpers/hotel-flow.ts';
import { run } from './helpers/processes.ts';
import { KilnApiClient, KilnApiError } from '../src/services/kiln-api/client.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('data flows', () => {
  let k: TestKiln;
  let api: KilnApiClient;
  let ref: Record<string, number>;
  let work: string;

  before(async () => {
    k = await startTestKiln();
    api = new KilnApiClient(k.endpoint, k.credentials, k.region);
    work = mkdtempSync(path.join(os.tmpdir(), 'kiln-flows-'));
    const s3 = k.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'hotels' }));
    await s3.send(new PutObjectCommand({ Bucket: 'hotels', Key: 'raw/hotel_bookings.csv', Body: readFileSync(HOTEL_BOOKINGS) }));
    ref = await pandasReference();
  });
  after(async () => {
    await k?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const post = <T>(p: string, body?: unknown) => api.request<T>('POST', p, body);
  const apiError = async (p: Promise<unknown>): Promise<KilnApiError> => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof KilnApiError, String(e));
      return e;
    }
    assert.fail('expected the API to refuse');
  };
  const kiln = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/kiln.ts'), ...args], { env: k.env, cwd: root });

  test('the API is signed: unsigned and wrongly signed requests are refused, a standard SigV4 signer is accepted', async () => {
    const unsigned = await fetch(`${k.endpoint}/_kiln/api/flows`);
    assert.equal(unsigned.status, 403);
    const wrong = new KilnApiClient(k.endpoint, { accessKeyId: k.credentials.accessKeyId, secretAccessKey: 'not-the-secret' });
    assert.equal((await apiError(wrong.request('GET', '/_kiln/api/flows'))).status, 403);
    const signer = new SignatureV4({ service: 'kiln', region: k.region, credentials: k.credentials, sha256: Sha256 });
    const url = new URL('/_kiln/api/flows', k.endpoint);
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host } });
    const res = await fetch(url, { headers: signed.headers });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { flows: [] });
  });

  test("the course's flow, built node by node through the API, matches pandas after every step", async () => {
    await post('/_kiln/api/flows', { name: 'hotel-bookings' });
    for (const node of COURSE_NODES) await post('/_kiln/api/flows/hotel-bookings/nodes', { node });
    const stored = await api.request<{ revision: number; flow: { nodes: unknown[] } }>('GET', '/_kiln/api/flows/hotel-bookings');
    assert.equal(stored.flow.nodes.length, COURSE_NODES.length);
    assert.equal(stored.revision, COURSE_NODES.length + 1);

    for (const step of ['bookings', 'drop_columns', 'drop_duplicates', 'impute_agent', 'one_hot', 'children_outliers']) {
      const p = await post<{ rowCount: number; rows: unknown[]; columns: { name: string; type: string }[] }>('/_kiln/api/flows/hotel-bookings/preview', { node: step, limit: 5 });
      assert.equal(p.rowCount, ref[step], `rows after ${step}`);
      assert.equal(p.rows.length, 5);
      if (step === 'one_hot') assert.equal(p.columns.length, ref.one_hot_columns);
    }
    const types = await post<{ columns: { name: string; type: string }[] }>('/_kiln/api/flows/hotel-bookings/preview', { node: 'types', limit: 1 });
    assert.equal(types.columns.find((c) => c.name === 'children')?.type, 'DOUBLE');
    const imputed = await post<{ columns: { name: string }[]; rows: Record<string, unknown>[] }>('/_kiln/api/flows/hotel-bookings/preview', { node: 'impute_agent', limit: 10_000 });
    assert.ok(imputed.rows.every((r) => r.agent !== null));
    for (const [name, count] of Object.entries({ train: ref.train, validation: ref.validation, test: ref.test })) {
      const p = await post<{ rowCount: number }>('/_kiln/api/flows/hotel-bookings/preview', { node: `split.${name}`, limit: 0 });
      assert.equal(p.rowCount, count, `rows in ${name}`);
    }
  });

  test('the quality report finds the duplicates, the leakage of reservation_status and the missing agents', async () => {
    const r = await post<{ data: Record<string, any>; chart: Record<string, unknown> }>('/_kiln/api/flows/hotel-bookings/analyses/quality');
    assert.equal(r.data.rows, ref.bookings);
    assert.equal(r.data.duplicateRowsPercent, ref.duplicate_pct);
    const agent = r.data.features.find((f: { column: string }) => f.column === 'agent');
    assert.equal(agent.missingPercent, ref.agent_missing_pct);
    assert.ok(agent.histogram.length > 0);
    const leak = r.data.targetLeakage.features[0];
    assert.equal(leak.feature, 'reservation_status');
    assert.equal(leak.leakage, 'likely');
    assert.ok(leak.score > 0.99);
    assert.deepEqual(r.data.target.balance.map((b: { value: string }) => b.value).sort(), ['0', '1']);
    assert.ok(r.data.anomalousSamples.length > 0);
    assert.ok(r.data.quickModel.scores.auc > 0.8, JSON.stringify(r.data.quickModel.scores));
    assert.ok(r.data.quickModel.featureImportance[0].importance > 0);
    assert.ok(r.data.warnings.some((w: { message: string }) => /target leakage: reservation_status/.test(w.message)));
    assert.equal((r.chart as { $schema: string }).$schema, 'https://vega.github.io/schema/vega-lite/v5.json');
  });

  test('histogram, scatter, leakage and correlation analyses return data and chart specs', async () => {
    const hist = await post<{ data: { bins: { count: number; color: string }[]; missing: number }; chart: { encoding: Record<string, unknown> } }>('/_kiln/api/flows/hotel-bookings/analyses/lead_hist');
    assert.equal(hist.data.bins.reduce((a, b) => a + b.count, 0) + hist.data.missing, ref.bookings);
    assert.deepEqual([...new Set(hist.data.bins.map((b) => b.color))].sort(), ['0', '1']);
    assert.ok(hist.chart.encoding.color);
    const scatter = await post<{ data: { points: { x: number; y: number; facet: string }[] }; chart: { encoding: Record<string, unknown> } }>('/_kiln/api/flows/hotel-bookings/analyses/adr_scatter');
    assert.equal(scatter.data.points.length, 5000);
    assert.ok(new Set(scatter.data.points.map((p) => p.facet)).size > 1);
    assert.ok(scatter.chart.encoding.facet);
    const leakage = await post<{ data: { features: { feature: string; leakage: string }[] } }>('/_kiln/api/flows/hotel-bookings/analyses/leakage');
    assert.equal(leakage.data.features[0]!.feature, 'reservation_status');
    const corr = await post<{ data: { columns: string[]; matrix: number[][] } }>('/_kiln/api/flows/hotel-bookings/analyses/correlation');
    const i = corr.data.columns.indexOf('lead_time');
    const j = corr.data.columns.indexOf('is_canceled');
    assert.ok(Math.abs(corr.data.matrix[i]![j]! - ref.corr_lead_canceled!) < 1e-9);
    const nl = await post<{ data: { matrix: number[][] } }>('/_kiln/api/flows/hotel-bookings/analyses/correlation_nl');
    assert.ok(Math.abs(nl.data.matrix[0]![1]! - ref.spearman_lead_adr!) < 1e-9, `${nl.data.matrix[0]![1]} vs ${ref.spearman_lead_adr}`);
  });

  test('a run writes the train, validation and test splits to S3 as a job with status and logs', async () => {
    let run = await post<{ runId: string; status: string; outputs: { node: string; rows: number; objects: string[] }[]; logs: unknown[]; failureReason?: string }>('/_kiln/api/flows/hotel-bookings/runs', {});
    for (let i = 0; i < 600 && run.status === 'InProgress'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await api.request('GET', `/_kiln/api/flow-runs/${run.runId}`);
    }
    assert.equal(run.status, 'Completed', run.failureReason);
    assert.ok(run.logs.length > 3);
    const rows = Object.fromEntries(run.outputs.map((o) => [o.node, o.rows]));
    assert.deepEqual(rows, { train_out: ref.train, validation_out: ref.validation, test_out: ref.test });
    const s3 = k.s3();
    const train = await (await s3.send(new GetObjectCommand({ Bucket: 'hotels', Key: 'prepared/train/part-00000.csv' }))).Body!.transformToString();
    assert.equal(train.trim().split('\n').length, ref.train! + 1);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'hotels', Prefix: 'prepared/' }));
    const keys = listed.Contents!.map((o) => o.Key!);
    assert.ok(keys.includes('prepared/validation/part-00000.parquet'));
    assert.ok(keys.some((key) => /^prepared\/test\/hotel=[^/]+\/data_0\.csv$/.test(key)), keys.join(' '));
    const runs = await api.request<{ runs: { runId: string }[] }>('GET', '/_kiln/api/flows/hotel-bookings/runs');
    assert.equal(runs.runs[0]!.runId, run.runId);
  });

  test('the exported script reproduces the flow with DuckDB outside Kiln', async () => {
    const exported = await post<{ files: Record<string, string>; inputs: Record<string, string> }>('/_kiln/api/flows/hotel-bookings/export', { format: 'script' });
    const dir = path.join(work, 'script');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    for (const [name, text] of Object.entries(exported.files)) writeFileSync(path.join(dir, name), text);
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    const [variable] = Object.keys(exported.inputs);
    assert.equal(exported.inputs[variable!], 's3://hotels/raw/hotel_bookings.csv');
    const r = await run(process.execPath, [path.join(dir, 'run.mjs'), path.join(dir, 'out'), `${variable}=${HOTEL_BOOKINGS}`]);
    assert.equal(r.code, 0, r.stderr);
    const train = readFileSync(path.join(dir, 'out', 'train_out', 'part-00000.csv'), 'utf8');
    assert.equal(train.trim().split('\n').length, ref.train! + 1);
    const file = await api.request<Record<string, unknown>>('GET', '/_kiln/api/flows/hotel-bookings/file');
    assert.equal((file.nodes as unknown[]).length, COURSE_NODES.length);
  });

  test('bad input is answered clearly and leaves the stored flow as it was', async () => {
    const before = await api.request<{ revision: number; flow: unknown }>('GET', '/_kiln/api/flows/hotel-bookings');
    const unknownColumn = await apiError(post('/_kiln/api/flows/hotel-bookings/nodes', { node: { id: 'bad_drop', type: 'transform', operator: 'manage_columns', inputs: ['types'], parameters: { operator: 'drop', columns: ['no_such_column'] } } }).then(() => post('/_kiln/api/flows/hotel-bookings/preview', { node: 'bad_drop' })));
    assert.equal(unknownColumn.code, 'UnknownColumn');
    assert.match(unknownColumn.message, /unknown column 'no_such_column'/);
    await api.request('DELETE', '/_kiln/api/flows/hotel-bookings/nodes/bad_drop');

    const badRef = await apiError(post('/_kiln/api/flows/hotel-bookings/nodes', { node: { id: 'x', type: 'transform', operator: 'manage_rows', inputs: ['nowhere'], parameters: { operator: 'drop_duplicates' } } }));
    assert.match(badRef.message, /input 'nowhere' is not a node/);
    const inUse = await apiError(api.request('DELETE', '/_kiln/api/flows/hotel-bookings/nodes/types'));
    assert.equal(inUse.status, 409);
    const stale = await apiError(api.request('PUT', '/_kiln/api/flows/hotel-bookings', { flow: before.flow, revision: before.revision - 1 }));
    assert.equal(stale.code, 'RevisionConflict');

    await k.s3().send(new PutObjectCommand({ Bucket: 'hotels', Key: 'raw/broken.csv', Body: 'a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n' }));
    await post('/_kiln/api/flows', { name: 'broken', flow: { version: 1, nodes: [
      { id: 'src', type: 'source', operator: 'csv', parameters: { uri: 's3://hotels/raw/broken.csv' } },
      { id: 'js', type: 'transform', operator: 'custom_javascript', inputs: ['src'], parameters: { code: 'return rows.map((r) => r.nope.length);' } },
    ] } });
    const malformed = await apiError(post('/_kiln/api/flows/broken/preview', { node: 'src' }));
    assert.equal(malformed.code, 'MalformedCsv');
    assert.match(malformed.message, /line 4: expected 3 fields \(as in the header\), found 2/);

    await k.s3().send(new PutObjectCommand({ Bucket: 'hotels', Key: 'raw/broken.csv', Body: 'a,b,c\n1,2,3\n' }));
    await api.request('PUT', '/_kiln/api/flows/broken/nodes/src', { node: { type: 'source', operator: 'csv', parameters: { uri: 's3://hotels/raw/broken.csv' } } });
    const thrown = await apiError(post('/_kiln/api/flows/broken/preview', { node: 'js' }));
    assert.equal(thrown.code, 'CustomTransformError');
    assert.match(thrown.message, /TypeError: Cannot read properties of undefined \(reading 'length'\) \(line 1\)/);

    const after = await api.request<{ revision: number; flow: unknown }>('GET', '/_kiln/api/flows/hotel-bookings');
    assert.deepEqual(after.flow, before.flow);
    const still = await post<{ rowCount: number }>('/_kiln/api/flows/hotel-bookings/preview', { node: 'children_outliers', limit: 0 });
    assert.equal(still.rowCount, ref.children_outliers);
  });

  test('custom SQL and Python transforms, joins and SQL over catalog tables', async () => {
    await k.s3().send(new PutObjectCommand({ Bucket: 'hotels', Key: 'ref/agents/part-0.csv', Body: 'agent_id;agency\n9;Nine Travel\n240;Two Forty\n' }));
    const table = await post<{ columns: { name: string; type: string }[] }>('/_kiln/api/data-catalog/tables', { name: 'agents', location: 's3://hotels/ref/agents/', format: 'csv' });
    assert.deepEqual(table.columns.map((c) => c.name), ['agent_id', 'agency']);
    await post('/_kiln/api/data-catalog/tables', { name: 'bookings', location: 's3://hotels/raw/hotel_bookings.csv' });
    await post('/_kiln/api/flows', { name: 'joins', flow: { version: 1, nodes: [
      { id: 'q', type: 'source', operator: 'sql', parameters: { query: 'SELECT agent, count(*) AS bookings FROM bookings WHERE agent IS NOT NULL GROUP BY agent' } },
      { id: 'agents', type: 'source', operator: 'sql', parameters: { query: 'SELECT * FROM agents' } },
      { id: 'joined', type: 'transform', operator: 'join', inputs: ['q', 'agents'], parameters: { type: 'inner', leftColumns: ['agent'], rightColumns: ['agent_id'] } },
      { id: 'anti', type: 'transform', operator: 'join', inputs: ['q', 'agents'], parameters: { type: 'anti', leftColumns: ['agent'], rightColumns: ['agent_id'] } },
      { id: 'sql', type: 'transform', operator: 'custom_sql', inputs: ['joined'], parameters: { sql: 'SELECT agency, bookings * 2 AS doubled FROM df ORDER BY agency' } },
      { id: 'py', type: 'transform', operator: 'custom_python', inputs: ['sql'], parameters: { code: "df['tripled'] = df['doubled'] * 3 // 2" } },
    ] } });
    const joined = await post<{ rowCount: number; rows: Record<string, unknown>[] }>('/_kiln/api/flows/joins/preview', { node: 'joined' });
    const perAgent = await post<{ rowCount: number }>('/_kiln/api/flows/joins/preview', { node: 'q' });
    const anti = await post<{ rowCount: number }>('/_kiln/api/flows/joins/preview', { node: 'anti' });
    assert.equal(joined.rowCount + anti.rowCount, perAgent.rowCount);
    const py = await post<{ rows: Record<string, unknown>[] }>('/_kiln/api/flows/joins/preview', { node: 'py' });
    assert.deepEqual(Object.keys(py.rows[0]!), ['agency', 'doubled', 'tripled']);
    for (const r of py.rows) assert.equal(r.tripled, (Number(r.doubled) * 3) / 2);
  });

  test('the kiln CLI builds, previews, analyses and runs a flow', async () => {
    const flowFile = path.join(work, 'cli.flow');
    writeFileSync(flowFile, JSON.stringify({ version: 1, nodes: COURSE_NODES.filter((n) => ['bookings', 'types', 'drop_columns', 'drop_duplicates'].includes(n.id)) }));
    let r = await kiln('flow', 'create', 'cli-flow', '--file', flowFile);
    assert.equal(r.code, 0, r.stderr);
    const node = COURSE_NODES.find((n) => n.id === 'impute_agent')!;
    r = await kiln('flow', 'add-node', 'cli-flow', '--json', JSON.stringify(node));
    assert.equal(r.code, 0, r.stderr);
    r = await kiln('flow', 'add-node', 'cli-flow', '--json', JSON.stringify({ id: 'out', type: 'destination', operator: 's3', inputs: ['impute_agent'], parameters: { uri: 's3://hotels/cli/' } }));
    assert.equal(r.code, 0, r.stderr);
    r = await kiln('flow', 'preview', 'cli-flow', 'impute_agent', '--limit', '3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^impute_agent: ${ref.impute_agent} rows × 23 columns`));
    assert.equal(r.stdout.trim().split('\n').length, 1 + 2 + 3);
    r = await kiln('flow', 'add-node', 'cli-flow', '--json', JSON.stringify({ id: 'hist', type: 'analysis', operator: 'histogram', inputs: ['types'], parameters: { column: 'adr', facetBy: 'hotel' } }));
    r = await kiln('flow', 'analyze', 'cli-flow', 'hist');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).column, 'adr');
    r = await kiln('flow', 'run', 'cli-flow', '--wait');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`out: ${ref.impute_agent} rows → s3://hotels/cli/part-00000.csv`));
    assert.match(r.stdout, /Completed/);
    r = await kiln('flow', 'get', 'cli-flow');
    assert.equal(JSON.parse(r.stdout).nodes.length, 7);
    r = await kiln('flow', 'preview', 'cli-flow', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no node 'nope'/);
    r = await kiln('flow', 'list');
    assert.match(r.stdout, /cli-flow\trevision 4/);
  });
});
