/**
 * Running a flow as a job: a processing-job-shaped record (status, timings, log lines, outputs)
 * whose work is writing every destination of the flow to the object store. Runs execute in the
 * server process (DuckDB works on its own threads), at most `concurrency` at a time.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { MetadataDb } from '../../store/metadata/database.ts';
import type { ObjectStore } from '../../store/objects/types.ts';
import type { Catalog } from './catalog.ts';
import { FlowError } from './errors.ts';
import type { FlowDocument } from './flow.ts';
import { writeOutputs } from './flow-outputs.ts';
import { FlowSession } from './session.ts';

export type RunStatus = 'InProgress' | 'Completed' | 'Failed';

export interface FlowRun {
  runId: string;
  flowName: string;
  flowRevision: number;
  status: RunStatus;
  createdAt: string;
  endedAt?: string;
  failureReason?: string;
  /** Destinations written: node, target URI, objects and rows. */
  outputs: { node: string; uri: string; objects: string[]; rows: number }[];
  logs: { time: string; message: string }[];
}

export interface FlowRunsDeps {
  db: MetadataDb;
  objects: ObjectStore;
  catalog: Catalog;
  scratchRoot: string;
  concurrency?: number;
}

export class FlowRuns {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly deps: FlowRunsDeps) {}

  /** Runs left InProgress by a server that stopped are failed, so nothing waits forever. */
  async reconcile(): Promise<number> {
    const rows = await this.deps.db.selectFrom('data_flow_runs').selectAll().where('status', '=', 'InProgress').execute();
    for (const r of rows) {
      const run = JSON.parse(r.doc) as FlowRun;
      run.status = 'Failed';
      run.failureReason = 'Kiln stopped while the run was in progress';
      run.endedAt = new Date().toISOString();
      await this.save(run);
    }
    return rows.length;
  }

  async start(flowName: string, revision: number, flow: FlowDocument, destinations?: string[]): Promise<FlowRun> {
    const all = flow.nodes.filter((n) => n.type === 'destination').map((n) => n.id);
    const chosen = destinations ?? all;
    if (chosen.length === 0) throw new FlowError(`flow '${flowName}' has no destination to run`, 400);
    for (const d of chosen) if (!all.includes(d)) throw new FlowError(`flow '${flowName}' has no destination node '${d}'`, 400);
    const run: FlowRun = { runId: `${flowName}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`, flowName, flowRevision: revision, status: 'InProgress', createdAt: new Date().toISOString(), outputs: [], logs: [] };
    await this.deps.db.insertInto('data_flow_runs').values({ id: run.runId, flow_name: flowName, status: run.status, created_at: Date.now(), doc: JSON.stringify(run) }).execute();
    const work = this.whenSlotFree().then(() => this.execute(run, flow, chosen)).finally(() => {
      this.running--;
      this.queue.shift()?.();
    });
    this.active.add(work);
    work.finally(() => this.active.delete(work)).catch(() => undefined);
    return run;
  }

  async get(runId: string): Promise<FlowRun> {
    const row = await this.deps.db.selectFrom('data_flow_runs').selectAll().where('id', '=', runId).executeTakeFirst();
    if (!row) throw new FlowError(`no flow run '${runId}'`, 404, 'NoSuchRun');
    return JSON.parse(row.doc) as FlowRun;
  }

  async list(flowName?: string): Promise<FlowRun[]> {
    let q = this.deps.db.selectFrom('data_flow_runs').selectAll().orderBy('created_at', 'desc').limit(100);
    if (flowName) q = q.where('flow_name', '=', flowName);
    return (await q.execute()).map((r) => JSON.parse(r.doc) as FlowRun);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.active]);
  }

  private whenSlotFree(): Promise<void> {
    if (this.running < (this.deps.concurrency ?? 2)) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(() => {
      this.running++;
      resolve();
    }));
  }

  private async execute(run: FlowRun, flow: FlowDocument, destinations: string[]): Promise<void> {
    const log = (message: string) => run.logs.push({ time: new Date().toISOString(), message });
    let session: FlowSession | undefined;
    try {
      log(`run ${run.runId} of flow ${run.flowName} (revision ${run.flowRevision}) started`);
      session = await FlowSession.open(flow, { objects: this.deps.objects, catalog: this.deps.catalog, scratchDir: path.join(this.deps.scratchRoot, run.runId), log });
      for (const { node, uri, objects, rows } of await writeOutputs(session, destinations.map((node) => ({ node })))) {
        run.outputs.push({ node, uri, objects, rows });
        log(`destination ${node}: ${rows} rows written to ${objects.length} object(s) under ${uri}`);
      }
      run.status = 'Completed';
      log('run completed');
    } catch (e) {
      run.status = 'Failed';
      run.failureReason = (e as Error).message;
      log(`run failed: ${run.failureReason}`);
    } finally {
      await session?.close().catch(() => undefined);
      run.endedAt = new Date().toISOString();
      await this.save(run);
    }
  }

  private async save(run: FlowRun): Promise<void> {
    await this.deps.db.updateTable('data_flow_runs').set({ status: run.status, doc: JSON.stringify(run) }).where('id', '=', run.runId).execute();
  }
}
