/** What every transform, source and analysis module sees when it compiles a node. */
import type { Column, DuckSession, Row } from './duck.ts';
import { FlowError, unknownColumn } from './errors.ts';
import type { FlowNode } from './flow.ts';

/** A materialised node output: a DuckDB table and its columns. */
export interface Relation {
  table: string;
  columns: Column[];
  /** A view has no rowid; the session only makes views of nodes whose consumers need none. */
  kind?: 'table' | 'view';
  /** For a source read lazily through a view: explains a read failure (a malformed CSV line). */
  diagnose?(error: Error): Promise<Error | undefined>;
}

export interface CompileContext {
  node: FlowNode;
  /** The node's inputs in order; `input` is the first. */
  inputs: Relation[];
  input: Relation;
  params: Params;
  duck: DuckSession;
  query(sql: string): Promise<Row[]>;
  seed: number;
  /** A folder of this session for temporary files (custom transforms, downloads). */
  scratchDir: string;
}

export interface CompiledTransform {
  /** A SELECT producing the node's table. */
  select: string;
  /** Named outputs (a split): SELECTs over the node's own table, written with `{self}` for its name. */
  outputs?: Record<string, string>;
  /** Statements that must run before `select`: a fit's statistics, rows to keep, a custom transform's result. */
  prepare?: string[];
}

export interface TransformOperator {
  compile(ctx: CompileContext): Promise<CompiledTransform>;
  /** Named outputs this node will have, known before it runs (a split's names). */
  outputs?(parameters: Record<string, unknown>): string[];
  arity?: number | 'many';
  /**
   * True when the node's SELECT maps rows to rows (or filters them) without using `rowid` and
   * without reordering: such a node may be a view fused into the next statement.
   */
  fusable?(parameters: Record<string, unknown>): boolean;
  /**
   * True when the node's own table may be a view although the node is not fusable: its SELECT
   * reads its input's `rowid` (so the input stays a table) but is cheap to recompute and keeps
   * row order (a positional join with a narrow table its prepare statements built).
   */
  viewOutput?(parameters: Record<string, unknown>): boolean;
  /**
   * True when the node reads its input as well from a view as from a table: it does not need the
   * input's `rowid`, or counts positions itself. Its input may then stay a view.
   */
  viewInput?(parameters: Record<string, unknown>): boolean;
}

export interface AnalysisResult {
  /** The analysis's numbers, tables and findings. */
  data: Record<string, unknown>;
  /** A Vega-Lite spec the UI draws; its data values are inlined or named 'table'. */
  chart?: Record<string, unknown>;
}

export interface AnalysisOperator {
  analyze(ctx: CompileContext): Promise<AnalysisResult>;
}

/** Typed access to a node's parameters, with errors that name the node and parameter. */
export class Params {
  constructor(
    private readonly node: FlowNode,
    private readonly columns: Column[],
  ) {}

  get where(): string {
    return `node '${this.node.id}' (${this.node.operator})`;
  }

  raw(name: string): unknown {
    return this.node.parameters?.[name];
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined && this.raw(name) !== null;
  }

  fail(message: string): FlowError {
    return new FlowError(`${this.where}: ${message}`);
  }

  string(name: string, fallback?: string): string {
    const v = this.raw(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.fail(`parameter '${name}' is required`);
    }
    if (typeof v !== 'string') throw this.fail(`parameter '${name}' must be a string`);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const v = this.string(name, fallback);
    const match = allowed.find((a) => a.toLowerCase() === v.toLowerCase().replace(/[\s-]+/g, '_'));
    if (!match) throw this.fail(`parameter '${name}' must be one of ${allowed.join(', ')}; got '${v}'`);
    return match;
  }

  number(name: string, fallback?: number): number {
    const v = this.raw(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.fail(`parameter '${name}' is required`);
    }
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw this.fail(`parameter '${name}' must be a number`);
    return n;
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw this.fail(`parameter '${name}' must be true or false`);
    return v;
  }

  stringArray(name: string, fallback?: string[]): string[] {
    const v = this.raw(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.fail(`parameter '${name}' is required`);
    }
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw this.fail(`parameter '${name}' must be a string or a list of strings`);
    return list as string[];
  }

  /** A column of the (first) input, checked to exist. */
  column(name: string, columns: Column[] = this.columns): Column {
    return this.findColumn(this.string(name), columns);
  }

  optionalColumn(name: string, columns: Column[] = this.columns): Column | undefined {
    return this.has(name) ? this.column(name, columns) : undefined;
  }

  /** One or more columns of the (first) input, checked to exist; `fallback` when absent. */
  columnList(name: string, fallback?: Column[], columns: Column[] = this.columns): Column[] {
    if (!this.has(name) && fallback) return fallback;
    const names = this.stringArray(name);
    if (names.length === 0) throw this.fail(`parameter '${name}' lists no columns`);
    return names.map((n) => this.findColumn(n, columns));
  }

  findColumn(name: string, columns: Column[] = this.columns): Column {
    const c = columns.find((x) => x.name === name);
    if (!c) throw unknownColumn(name, this.where, columns.map((x) => x.name));
    return c;
  }
}
