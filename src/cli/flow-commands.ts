/** `kiln flow …` and `kiln table …`: the data-flow REST API from the command line. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { rootCredentialsFile, type AccessKey } from '../iam/credentials.ts';
import { KilnApiClient, KilnApiError } from '../services/kiln-api/client.ts';
import { exportFlowAsJob } from './flow-export-job.ts';

export const FLOW_USAGE = `Data flows (the REST API under /_kiln/api, signed with your credentials):
  kiln flow list
  kiln flow create <name> [--file <x.flow>]        create a flow, empty or from a .flow file
  kiln flow get <name>                             print the flow as a .flow document
  kiln flow put <name> --file <x.flow>             replace the flow's document
  kiln flow delete <name>
  kiln flow add-node <name> (--json '<node>' | --file <node.json>)
  kiln flow set-node <name> <node> (--json '<node>' | --file <node.json>)
  kiln flow remove-node <name> <node>
  kiln flow preview <name> [<node>] [--limit N] [--output json]   first rows after a node
  kiln flow analyze <name> <node> [--output json]  run an analysis node (json: with its chart spec)
  kiln flow run <name> [--wait] [--destination <node>]…   write the flow's destinations to S3
  kiln flow runs <name>                            list the flow's runs
  kiln flow run-status <run-id>
  kiln flow export <name> [--format script|flow] [--out <folder>]
  kiln flow export-job <name> --output <node>[.<output>]=s3://… [--output …] [--format csv|parquet]
                 [--flow-uri s3://…/x.flow] [--job-name <job>] [--instance-type ml.m5.large] [--role-arn <arn>] [--wait]
                                                   run the flow as a Data Wrangler processing job (CreateProcessingJob)
  kiln flow operators
  kiln table list
  kiln table register <name> --location s3://… [--format csv|parquet|jsonl] [--delimiter ,] [--columns name:type,…]
  kiln table delete <name>`;

interface Parsed {
  positional: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

const FLAGS = new Set(['wait']);

function parse(args: string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [key, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (FLAGS.has(key)) flags.add(key);
    else {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${key} needs a value`);
      options.set(key, [...(options.get(key) ?? []), value]);
    }
  }
  return { positional, options, flags };
}

class UsageError extends Error {}

function client(): KilnApiClient {
  const config = loadConfig();
  const endpoint = process.env.KILN_ENDPOINT ?? process.env.AWS_ENDPOINT_URL ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  let key: AccessKey | undefined;
  if (process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY) key = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
  else if (existsSync(rootCredentialsFile(config.dataDir))) key = JSON.parse(readFileSync(rootCredentialsFile(config.dataDir), 'utf8')) as AccessKey;
  if (!key) throw new UsageError('no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (eval "$(kiln credentials)") or run in the folder of the Kiln data directory');
  return new KilnApiClient(endpoint, key, process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? config.region);
}

const one = (p: Parsed, name: string) => p.options.get(name)?.at(-1);

function jsonInput(p: Parsed, what: string): unknown {
  const inline = one(p, 'json');
  const file = one(p, 'file');
  if (inline === undefined && file === undefined) throw new UsageError(`give the ${what} with --json '<json>' or --file <path>`);
  const text = inline ?? readFileSync(file!, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`the ${what} is not valid JSON: ${(e as Error).message}`);
  }
}

const need = (p: Parsed, i: number, what: string): string => {
  const v = p.positional[i];
  if (v === undefined) throw new UsageError(`missing <${what}>`);
  return v;
};

const enc = encodeURIComponent;

function printTable(columns: { name: string; type: string }[], rows: Record<string, unknown>[]): void {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.min(30, Math.max(c.name.length, ...rows.map((r) => cell(r[c.name]).length))));
  const line = (vals: string[]) => vals.map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!))).join('  ');
  console.log(line(columns.map((c) => c.name)));
  console.log(line(columns.map((c) => c.type)));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c.name]))));
}

async function flowCommand(sub: string | undefined, p: Parsed): Promise<void> {
  const api = client();
  const out = (v: unknown) => console.log(JSON.stringify(v, null, 2));
  switch (sub) {
    case 'list': {
      const { flows } = await api.request<{ flows: { name: string; revision: number; nodes: number; updatedAt: string }[] }>('GET', '/_kiln/api/flows');
      for (const f of flows) console.log(`${f.name}\trevision ${f.revision}\t${f.nodes} nodes\t${f.updatedAt}`);
      return;
    }
    case 'operators':
      return out(await api.request('GET', '/_kiln/api/flows/operators'));
    case 'create': {
      const name = need(p, 1, 'name');
      const flow = one(p, 'file') ? jsonInput(p, 'flow') : undefined;
      const created = await api.request<{ name: string; revision: number }>('POST', '/_kiln/api/flows', { name, ...(flow ? { flow } : {}) });
      console.log(`created flow ${created.name} (revision ${created.revision})`);
      return;
    }
    case 'get':
      process.stdout.write(await api.request<string>('GET', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}/file`).then((t) => (typeof t === 'string' ? t : `${JSON.stringify(t, null, 2)}\n`)));
      return;
    case 'put': {
      const r = await api.request<{ revision: number }>('PUT', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}`, { flow: jsonInput(p, 'flow') });
      console.log(`saved (revision ${r.revision})`);
      return;
    }
    case 'delete':
      await api.request('DELETE', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}`);
      console.log('deleted');
      return;
    case 'add-node': {
      const node = jsonInput(p, 'node') as { id?: string };
      const r = await api.request<{ revision: number }>('POST', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}/nodes`, { node });
      console.log(`added node ${node.id} (revision ${r.revision})`);
      return;
    }
    case 'set-node': {
      const r = await api.request<{ revision: number }>('PUT', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}/nodes/${enc(need(p, 2, 'node'))}`, { node: jsonInput(p, 'node') });
      console.log(`saved node (revision ${r.revision})`);
      return;
    }
    case 'remove-node': {
      const r = await api.request<{ revision: number }>('DELETE', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}/nodes/${enc(need(p, 2, 'node'))}`);
      console.log(`removed node (revision ${r.revision})`);
      return;
    }
    case 'preview': {
      const body: Record<string, unknown> = { limit: Number(one(p, 'limit') ?? 10) };
      if (p.positional[2]) body.node = p.positional[2];
      const r = await api.request<{ node: string; rowCount: number; columns: { name: string; type: string }[]; rows: Record<string, unknown>[] }>('POST', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}/preview`, body);
      if (one(p, 'output') === 'json') return out(r);
      console.log(`${r.node}: ${r.rowCount} rows × ${r.columns.length} columns`);
      printTable(r.columns, r.rows);
      return;
    }
    case 'analyze': {
      const r = await api.request<{ data: Record<string, unknown> }>('POST', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}/analyses/${enc(need(p, 2, 'node'))}`);
      return out(one(p, 'output') === 'json' ? r : r.data);
    }
    case 'run': {
      const name = need(p, 1, 'name');
      const destinations = p.options.get('destination');
      let run = await api.request<{ runId: string; status: string; failureReason?: string; outputs: { node: string; rows: number; objects: string[] }[] }>('POST', `/_kiln/api/flows/${enc(name)}/runs`, destinations ? { destinations } : {});
      console.log(`run ${run.runId} ${run.status}`);
      if (!p.flags.has('wait')) return;
      while (run.status === 'InProgress') {
        await new Promise((r) => setTimeout(r, 250));
        run = await api.request('GET', `/_kiln/api/flow-runs/${enc(run.runId)}`);
      }
      for (const o of run.outputs) console.log(`${o.node}: ${o.rows} rows → ${o.objects.join(', ')}`);
      console.log(`run ${run.runId} ${run.status}${run.failureReason ? `: ${run.failureReason}` : ''}`);
      if (run.status !== 'Completed') process.exitCode = 1;
      return;
    }
    case 'runs': {
      const { runs } = await api.request<{ runs: { runId: string; status: string; createdAt: string }[] }>('GET', `/_kiln/api/flows/${enc(need(p, 1, 'name'))}/runs`);
      for (const r of runs) console.log(`${r.runId}\t${r.status}\t${r.createdAt}`);
      return;
    }
    case 'run-status':
      return out(await api.request('GET', `/_kiln/api/flow-runs/${enc(need(p, 1, 'run-id'))}`));
    case 'export': {
      const name = need(p, 1, 'name');
      const format = one(p, 'format') ?? 'script';
      const r = await api.request<{ files: Record<string, string> }>('POST', `/_kiln/api/flows/${enc(name)}/export`, { format });
      const dir = one(p, 'out');
      if (!dir) return out(r);
      mkdirSync(dir, { recursive: true });
      for (const [file, text] of Object.entries(r.files)) {
        writeFileSync(path.join(dir, path.basename(file)), text);
        console.log(path.join(dir, path.basename(file)));
      }
      return;
    }
    case 'export-job': {
      const outputs = (p.options.get('output') ?? []).map((o) => {
        const [name, uri] = o.split(/=(.*)/s, 2);
        if (!name || !uri?.startsWith('s3://')) throw new UsageError(`--output wants <node>[.<output>]=s3://bucket/prefix; got '${o}'`);
        return { name, uri };
      });
      if (!outputs.length) throw new UsageError('export-job needs at least one --output <node>=s3://bucket/prefix');
      const format = one(p, 'format');
      if (format !== undefined && format !== 'csv' && format !== 'parquet') throw new UsageError(`--format is csv or parquet, not '${format}'`);
      const config = loadConfig();
      const status = await exportFlowAsJob(api, {
        flow: need(p, 1, 'name'),
        outputs,
        format,
        flowUri: one(p, 'flow-uri'),
        jobName: one(p, 'job-name'),
        instanceType: one(p, 'instance-type') ?? 'ml.m5.large',
        roleArn: one(p, 'role-arn') ?? `arn:aws:iam::${config.accountId}:role/kiln-data-wrangler`,
        region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? config.region,
        wait: p.flags.has('wait'),
        print: (line) => console.log(line),
      });
      if (p.flags.has('wait') && status !== 'Completed') process.exitCode = 1;
      return;
    }
    default:
      throw new UsageError(`unknown flow command '${sub ?? ''}'`);
  }
}

async function tableCommand(sub: string | undefined, p: Parsed): Promise<void> {
  const api = client();
  switch (sub) {
    case 'list': {
      const { tables } = await api.request<{ tables: { name: string; location: string; format: string; columns: { name: string; type: string }[] }[] }>('GET', '/_kiln/api/data-catalog/tables');
      for (const t of tables) console.log(`${t.name}\t${t.format}\t${t.location}\t${t.columns.map((c) => `${c.name}:${c.type}`).join(',')}`);
      return;
    }
    case 'register': {
      const columns = one(p, 'columns')?.split(',').map((c) => {
        const [name, type] = c.split(':');
        if (!name || !type) throw new UsageError(`--columns wants name:type,name:type; got '${c}'`);
        return { name, type };
      });
      const options: Record<string, unknown> = {};
      if (one(p, 'delimiter')) options.delimiter = one(p, 'delimiter');
      const t = await api.request<{ name: string; columns: unknown[] }>('POST', '/_kiln/api/data-catalog/tables', { name: need(p, 1, 'name'), location: one(p, 'location'), format: one(p, 'format') ?? 'csv', options, ...(columns ? { columns } : {}) });
      console.log(`registered table ${t.name} (${t.columns.length} columns)`);
      return;
    }
    case 'delete':
      await api.request('DELETE', `/_kiln/api/data-catalog/tables/${enc(need(p, 1, 'name'))}`);
      console.log('deleted');
      return;
    default:
      throw new UsageError(`unknown table command '${sub ?? ''}'`);
  }
}

/** Runs `kiln flow …` or `kiln table …`; returns the exit code. */
export async function runDataCommand(command: 'flow' | 'table', args: string[]): Promise<number> {
  try {
    const p = parse(args);
    await (command === 'flow' ? flowCommand(p.positional[0], p) : tableCommand(p.positional[0], p));
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${FLOW_USAGE}`);
      return 2;
    }
    if (e instanceof KilnApiError) {
      console.error(`error (${e.code}): ${e.message}`);
      return 1;
    }
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}
