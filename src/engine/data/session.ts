/**
 * A flow session: one DuckDB database in which a flow's nodes are materialised on demand, each
 * node as a table `n_<id>` built by one SELECT over its inputs' tables. Previews, analyses and
 * destinations read those tables; the statements run are kept for the exported script.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ObjectStore } from '../../store/objects/types.ts';
import type { CatalogTable } from './catalog.ts';
import { writeDestination, destinationSpec, copyStatement, type DestinationSpec, type WrittenTable } from './destinations.ts';
import { DuckSession, type Row } from './duck.ts';
import { FlowError, isFlowError } from './errors.ts';
import { ancestorsOf, parseInputRef, type FlowDocument, type FlowNode } from './flow.ts';
import { ObjectFiles } from './object-files.ts';
import { Params, type AnalysisResult, type CompileContext, type Relation } from './operator.ts';
import { operatorCatalog } from './operators.ts';
import { ANALYSES } from './analyses/index.ts';
import { SOURCES } from './sources.ts';
import { TRANSFORMS } from './transforms/index.ts';
import { ident, stringList } from './sql.ts';

export interface SessionDeps {
  objects: ObjectStore;
  /** Folder for this session's downloads and temporary files; removed on close. */
  scratchDir: string;
  catalog?: { get(name: string): Promise<CatalogTable | undefined>; list(): Promise<CatalogTable[]> };
  threads?: number;
  log?: (line: string) => void;
}

/** One statement of a flow as the exported script runs it. */
export interface ScriptStep {
  node: string;
  sql: string[];
}

export interface Preview {
  node: string;
  columns: { name: string; type: string }[];
  rows: Row[];
  rowCount: number;
}

/**
 * DuckDB's threads per session: KILN_DUCKDB_THREADS, else DuckDB's default (one per core). On a
 * machine whose cores are busy with other work, 1 is often faster.
 */
function duckdbThreads(): number | undefined {
  const n = Number(process.env.KILN_DUCKDB_THREADS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Transforms whose work happens outside DuckDB. */
const NOT_SQL = new Set(['custom_javascript', 'custom_python']);

export const tableOf = (ref: string): string => {
  const { node, output } = parseInputRef(ref);
  return output ? `n_${node}__${output}` : `n_${node}`;
};

export class FlowSession {
  private readonly relations = new Map<string, Relation>();
  /** Nodes previewed directly: kept as tables so the preview can read them in row order. */
  private readonly pinned = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly files: ObjectFiles;
  /** Per node, the statements with script placeholders instead of local file paths. */
  readonly script: ScriptStep[] = [];
  readonly inputsUsed = new Map<string, string>();
  private constructor(
    readonly flow: FlowDocument,
    private readonly duck: DuckSession,
    private readonly deps: SessionDeps,
  ) {
    this.files = new ObjectFiles(deps.objects, path.join(deps.scratchDir, 'inputs'));
  }

  static async open(flow: FlowDocument, deps: SessionDeps): Promise<FlowSession> {
    mkdirSync(deps.scratchDir, { recursive: true });
    const duck = await DuckSession.open({ threads: deps.threads ?? duckdbThreads() });
    return new FlowSession(flow, duck, deps);
  }

  node(id: string): FlowNode {
    const n = this.flow.nodes.find((x) => x.id === id);
    if (!n) throw new FlowError(`no node '${id}' in this flow`, 404, 'NoSuchNode');
    return n;
  }

  /** Materialises `ref` (a node id, or `<id>.<output>`) and everything it depends on. */
  async relation(ref: string): Promise<Relation> {
    const { node } = parseInputRef(ref);
    for (const n of ancestorsOf(this.flow.nodes, node)) await this.materialize(n);
    const r = this.relations.get(ref);
    if (!r) {
      const n = this.node(node);
      if (n.type === 'analysis' || n.type === 'destination') throw new FlowError(`node '${node}' is ${n.type === 'analysis' ? 'an analysis' : 'a destination'}; it has no table to preview`, 400);
      const outputs = operatorCatalog.outputsOf(n);
      throw new FlowError(outputs ? `node '${node}' has named outputs; use one of ${outputs.map((o) => `${node}.${o}`).join(', ')}` : `node '${ref}' has no output`, 400);
    }
    return r;
  }

  async preview(ref: string, limit = 50): Promise<Preview> {
    this.pinned.add(parseInputRef(ref).node);
    const r = await this.relation(ref);
    const n = Math.max(0, Math.min(10_000, Math.trunc(limit)));
    const rows = await this.duck.query(`SELECT * FROM ${ident(r.table)}${r.kind === 'view' ? '' : ' ORDER BY rowid'} LIMIT ${n}`);
    const count = await this.duck.query(`SELECT count(*) AS n FROM ${ident(r.table)}`);
    return { node: ref, columns: r.columns, rows, rowCount: Number(count[0]!.n) };
  }

  async rowCount(ref: string): Promise<number> {
    const r = await this.relation(ref);
    return Number((await this.duck.query(`SELECT count(*) AS n FROM ${ident(r.table)}`))[0]!.n);
  }

  async analyze(id: string): Promise<AnalysisResult> {
    const node = this.node(id);
    if (node.type !== 'analysis') throw new FlowError(`node '${id}' is a ${node.type}, not an analysis`, 400);
    const inputs = await Promise.all((node.inputs ?? []).map((ref) => this.relation(ref)));
    const ctx = this.context(node, inputs);
    try {
      return await ANALYSES[node.operator]!.analyze(ctx);
    } catch (e) {
      throw this.nodeError(node, e);
    }
  }

  /**
   * Writes the table of `ref` (a node, or `<id>.<output>`) to the object store as `spec` says;
   * returns the objects and the number of rows written. Errors name `forNode` (the destination
   * that asked, by default the node itself).
   */
  async writeTable(ref: string, spec: DestinationSpec, forNode = parseInputRef(ref).node): Promise<WrittenTable> {
    return this.writeOn(this.duck, (await this.relation(ref)).table, spec, forNode);
  }

  /**
   * Writes several tables: each is built first, on the session's own connection; then the writes
   * run on connections of their own, `concurrency` at a time, so a flow's outputs share the cores.
   * (A table under DuckDB's row-group size, 122,880 rows, is scanned by one thread.) Returns what
   * each request wrote, in order.
   */
  async writeTables(requests: { ref: string; spec: DestinationSpec; forNode?: string }[], concurrency = 3): Promise<WrittenTable[]> {
    const inputs: Relation[] = [];
    for (const r of requests) inputs.push(await this.relation(r.ref));
    if (requests.length === 1) return [await this.writeTable(requests[0]!.ref, requests[0]!.spec, requests[0]!.forNode)];
    const written: WrittenTable[] = new Array(requests.length);
    let next = 0;
    let failure: unknown;
    // After a failure no worker starts another write; every worker ends before this returns.
    const worker = async () => {
      const duck = await this.duck.fork();
      try {
        for (let i = next++; i < requests.length && failure === undefined; i = next++) {
          const { ref, spec, forNode = parseInputRef(ref).node } = requests[i]!;
          try {
            written[i] = await this.writeOn(duck, inputs[i]!.table, spec, forNode);
          } catch (e) {
            failure ??= e;
          }
        }
      } finally {
        await duck.close();
      }
    };
    const ended = await Promise.allSettled(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
    const crashed = ended.find((r) => r.status === 'rejected');
    if (failure !== undefined) throw failure;
    if (crashed) throw (crashed as PromiseRejectedResult).reason;
    return written;
  }

  /** Writes `table` through `duck` (the session's connection or a fork); errors name `forNode`. */
  private async writeOn(duck: DuckSession, table: string, spec: DestinationSpec, forNode: string): Promise<WrittenTable> {
    try {
      return await writeDestination(duck, this.deps.objects, table, spec, this.deps.scratchDir);
    } catch (e) {
      throw this.nodeError(this.node(forNode), e);
    }
  }

  /** Interrupts the statement DuckDB is running (it fails with an INTERRUPT error); for stopping a job. */
  interrupt(): void {
    this.duck.interrupt();
  }

  /**
   * The statements that reproduce the flow's destinations (or every table node when it has
   * none), with placeholders for inputs and outputs. Custom JavaScript and Python transforms run
   * outside DuckDB, so a flow with one cannot be exported as SQL.
   */
  async scriptSteps(): Promise<ScriptStep[]> {
    const dests = this.destinations();
    const targets = dests.length ? dests.map((d) => d.id) : this.flow.nodes.filter((n) => n.type === 'source' || n.type === 'transform').map((n) => n.id);
    const needed = new Set<string>();
    for (const t of targets) for (const n of ancestorsOf(this.flow.nodes, t)) needed.add(n.id);
    const outside = this.flow.nodes.filter((n) => needed.has(n.id) && NOT_SQL.has(n.operator));
    if (outside.length) throw new FlowError(`node(s) ${outside.map((n) => `'${n.id}' (${n.operator})`).join(', ')} run outside DuckDB and cannot be exported as a SQL script`, 400, 'NotExportable');
    for (const n of this.flow.nodes) if (needed.has(n.id)) await this.materialize(n);
    const steps = this.script.filter((s) => needed.has(s.node));
    for (const d of dests) {
      const input = await this.relation(d.inputs![0]!);
      if (d.operator !== 's3') throw new FlowError(`destination '${d.id}' (${d.operator}) cannot be exported as a SQL script`, 400, 'NotExportable');
      const spec = destinationSpec(new Params(d, input.columns), input.columns.map((c) => c.name));
      const target = `{{output:${d.id}:${spec.format}:${spec.partitionBy.length ? 'folder' : 'file'}}}`;
      steps.push({ node: d.id, sql: [copyStatement(input.table, target, spec)] });
    }
    return steps;
  }

  destinations(): FlowNode[] {
    return this.flow.nodes.filter((n) => n.type === 'destination');
  }

  async close(): Promise<void> {
    try {
      await this.duck.close();
    } finally {
      rmSync(this.deps.scratchDir, { recursive: true, force: true });
    }
  }

  private context(node: FlowNode, inputs: Relation[]): CompileContext {
    return {
      node,
      inputs,
      input: inputs[0] ?? { table: '', columns: [] },
      params: new Params(node, inputs[0]?.columns ?? []),
      duck: this.duck,
      query: (sql) => this.duck.query(sql),
      seed: this.flow.seed ?? 42,
      scratchDir: this.deps.scratchDir,
    };
  }

  private materialize(node: FlowNode): Promise<void> {
    if (node.type === 'analysis' || node.type === 'destination') return Promise.resolve();
    let p = this.pending.get(node.id);
    if (!p) {
      p = this.build(node);
      this.pending.set(node.id, p);
      p.catch(() => this.pending.delete(node.id));
    }
    return p;
  }

  private async build(node: FlowNode): Promise<void> {
    const started = Date.now();
    const table = tableOf(node.id);
    try {
      if (node.type === 'source') await this.buildSource(node, table);
      else await this.buildTransform(node, table);
    } catch (e) {
      await this.duck.run(`DROP TABLE IF EXISTS ${ident(table)}`).catch(() => undefined);
      await this.duck.run(`DROP VIEW IF EXISTS ${ident(table)}`).catch(() => undefined);
      throw this.nodeError(node, e);
    }
    this.deps.log?.(`node ${node.id} (${node.operator}) ready in ${Date.now() - started} ms`);
  }

  private async buildSource(node: FlowNode, table: string): Promise<void> {
    const source = SOURCES[node.operator]!;
    const scriptLists = new Map<string, string>();
    const compiled = await source.compile({
      params: new Params(node, []),
      duck: this.duck,
      files: (uri) => this.files.files(uri),
      fileList: (uri, files) => {
        const variable = `input_${node.id}_${scriptLists.size}`.replace(/[^A-Za-z0-9_]/g, '_');
        scriptLists.set(stringList(files), `getvariable('${variable}')`);
        this.inputsUsed.set(variable, uri);
        return stringList(files);
      },
      catalog: async (name) => this.deps.catalog?.get(name),
      catalogNames: async () => (await this.deps.catalog?.list())?.map((t) => t.name) ?? [],
    });
    // A source read by one table-building transform stays a view: the file is parsed once, by that
    // transform's statement, and only the columns it keeps are converted.
    const consumers = this.consumersOf(node.id);
    const lazy = !this.pinned.has(node.id) && consumers.length === 1 && consumers[0]!.type === 'transform' && this.isFusableKind(consumers[0]!) && !this.fusable(consumers[0]!);
    const statements = [...(compiled.prepare ?? []), `CREATE OR REPLACE ${lazy ? 'VIEW' : 'TABLE'} ${ident(table)} AS ${compiled.select}`];
    try {
      for (const s of statements) await this.duck.run(s);
    } catch (e) {
      const better = await compiled.diagnose?.(e as Error);
      throw better ?? e;
    }
    this.script.push({ node: node.id, sql: statements.map((s) => [...scriptLists].reduce((acc, [local, v]) => acc.split(local).join(v), s)) });
    this.relations.set(node.id, { table, columns: await this.duck.columnsOf(ident(table)), kind: lazy ? 'view' : 'table', diagnose: compiled.diagnose });
  }

  private async buildTransform(node: FlowNode, table: string): Promise<void> {
    const inputs = (node.inputs ?? []).map((ref) => this.relations.get(ref)!);
    const compiled = await TRANSFORMS[node.operator]!.compile(this.context(node, inputs));
    const kind = !compiled.outputs && (this.fusable(node) || this.viewOutput(node)) ? 'view' : 'table';
    const statements = [...(compiled.prepare ?? []), `CREATE OR REPLACE ${kind === 'view' ? 'VIEW' : 'TABLE'} ${ident(table)} AS ${compiled.select}`];
    const outputKinds = new Map<string, 'table' | 'view'>();
    for (const [name, select] of Object.entries(compiled.outputs ?? {})) {
      // An output only written out (or read by fusable transforms) is a view over the node's tables.
      const outputKind = this.readOnlyByFusable(node, `${node.id}.${name}`) ? 'view' : 'table';
      outputKinds.set(name, outputKind);
      statements.push(`CREATE OR REPLACE ${outputKind === 'view' ? 'VIEW' : 'TABLE'} ${ident(tableOf(`${node.id}.${name}`))} AS ${select.replaceAll('{self}', ident(table))}`);
    }
    try {
      for (const s of statements) await this.duck.run(s);
    } catch (e) {
      for (const input of inputs) {
        const better = input.kind === 'view' ? await input.diagnose?.(e as Error) : undefined;
        if (better) throw better;
      }
      throw e;
    }
    this.script.push({ node: node.id, sql: statements });
    if (compiled.outputs) {
      for (const name of Object.keys(compiled.outputs)) {
        const t = tableOf(`${node.id}.${name}`);
        this.relations.set(`${node.id}.${name}`, { table: t, columns: await this.duck.columnsOf(ident(t)), kind: outputKinds.get(name) });
      }
    } else {
      this.relations.set(node.id, { table, columns: await this.duck.columnsOf(ident(table)), kind });
    }
  }

  /**
   * A transform becomes a view (computed inside its consumer's statement instead of copied into a
   * table) when it and all its consumers are fusable transforms or destinations, and no one asked
   * for its table directly.
   */
  private fusable(node: FlowNode): boolean {
    return this.isFusableKind(node) && this.readOnlyByFusable(node);
  }

  /** A node whose SELECT may be a view though it reads its input's rowid, read only by fusable transforms or destinations. */
  private viewOutput(node: FlowNode): boolean {
    return !!TRANSFORMS[node.operator]?.viewOutput?.(node.parameters ?? {}) && this.readOnlyByFusable(node);
  }

  /**
   * Whether `ref` (the node, or with a name one of its outputs) is read, and only by fusable
   * transforms, transforms that take a view, or destinations, and no one asked for the node's
   * table directly: it may be a view.
   */
  private readOnlyByFusable(node: FlowNode, output?: string): boolean {
    if (this.pinned.has(node.id)) return false;
    const readers = output ? this.consumersOf(output, true) : this.consumersOf(node.id);
    return readers.length > 0 && readers.every((c) => c.type === 'destination' || this.isFusableKind(c) || this.takesView(c));
  }

  private takesView(n: FlowNode): boolean {
    return n.type === 'transform' && !!TRANSFORMS[n.operator]?.viewInput?.(n.parameters ?? {});
  }

  private isFusableKind(n: FlowNode): boolean {
    return n.type === 'transform' && !!TRANSFORMS[n.operator]?.fusable?.(n.parameters ?? {});
  }

  /** Nodes reading `ref`: with `exact`, only those naming that output, else any output of the node. */
  private consumersOf(ref: string, exact = false): FlowNode[] {
    return this.flow.nodes.filter((n) => n.inputs?.some((r) => (exact ? r === ref : parseInputRef(r).node === ref)));
  }

  private nodeError(node: FlowNode, e: unknown): FlowError {
    if (isFlowError(e)) return e;
    const message = (e as Error)?.message ?? String(e);
    const first = message.split('\n').filter((l) => l.trim() && !/^LINE \d+:/.test(l) && !/^\s*\^/.test(l))[0] ?? message;
    const column = /Referenced column "([^"]+)" not found/.exec(message)?.[1];
    if (column) return new FlowError(`node '${node.id}' (${node.operator}): unknown column '${column}'`, 400, 'UnknownColumn');
    return new FlowError(`node '${node.id}' (${node.operator}): ${first}`, 400, 'NodeFailed');
  }
}
