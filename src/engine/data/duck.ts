/**
 * DuckDB for flow sessions. Every session has its own connection and its own in-memory database
 * (attached under a name of its own and made the connection's default), so sessions never see
 * each other's tables, temp objects or variables. The sessions share one DuckDB instance per
 * configuration for the life of the process: its worker threads and the memory it has already
 * touched are reused, which makes opening a session and its first large statements cheaper
 * (touching fresh memory is costly in a virtual machine: about 3 ms per MB on the 2-core VM the
 * benchmarks run on). Results come back as plain JSON-able values.
 */
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ident } from './sql.ts';

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
export type Row = Record<string, Value>;

export interface Column {
  name: string;
  type: string;
}

export interface DuckOptions {
  threads?: number;
  memoryLimit?: string;
}

const instances = new Map<string, Promise<DuckDBInstance>>();
let sessionCount = 0;

/**
 * The process's instance for these options. Spills go to one folder of this process (the
 * setting is the instance's, not a session's), removed when the process exits.
 */
function sharedInstance(opts: DuckOptions): Promise<DuckDBInstance> {
  const key = `${opts.threads ?? ''}/${opts.memoryLimit ?? ''}`;
  let instance = instances.get(key);
  if (!instance) {
    const spill = path.join(os.tmpdir(), `kiln-duckdb-${process.pid}-${instances.size}`);
    const config: Record<string, string> = { temp_directory: spill };
    if (opts.threads) config.threads = String(opts.threads);
    if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
    mkdirSync(spill, { recursive: true });
    process.once('exit', () => rmSync(spill, { recursive: true, force: true }));
    instance = DuckDBInstance.create(':memory:', config);
    instances.set(key, instance);
    instance.catch(() => instances.delete(key));
  }
  return instance;
}

/** Statements that set state of the connection rather than of the database: a fork repeats them. */
const CONNECTION_STATE = /^\s*SET\s+(VARIABLE\b|search_path\b)/i;

export class DuckSession {
  private closed = false;
  /** The session's SET VARIABLE and search_path statements, in order, for its forks. */
  private readonly connectionState: string[] = [];
  private readonly forks = new Set<DuckSession>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly database: string,
    /** A fork shares its parent's database and does not drop it on close. */
    private readonly parent?: DuckSession,
  ) {}

  static async open(opts: DuckOptions = {}): Promise<DuckSession> {
    const instance = await sharedInstance(opts);
    const conn = await instance.connect();
    const database = `session_${process.pid}_${++sessionCount}`;
    try {
      await conn.run(`ATTACH ':memory:' AS ${ident(database)}`);
      await conn.run(`USE ${ident(database)}`);
    } catch (e) {
      conn.closeSync();
      throw e;
    }
    return new DuckSession(instance, conn, database);
  }

  /**
   * Another connection to this session's database, for running a statement beside the session's
   * own (DuckDB runs one statement per connection at a time). It sees the session's tables and
   * views, and repeats its variables and search path as they are now; temp objects it does not see.
   */
  async fork(): Promise<DuckSession> {
    const conn = await this.instance.connect();
    const fork = new DuckSession(this.instance, conn, this.database, this);
    try {
      await conn.run(`USE ${ident(this.database)}`);
      for (const sql of this.connectionState) await conn.run(sql);
    } catch (e) {
      conn.closeSync();
      throw e;
    }
    this.forks.add(fork);
    return fork;
  }

  async run(sql: string): Promise<void> {
    await this.conn.run(sql);
    if (!this.parent && CONNECTION_STATE.test(sql)) this.connectionState.push(sql);
  }

  async query(sql: string): Promise<Row[]> {
    const result = await this.conn.runAndReadAll(sql);
    return (result.getRowObjectsJS() as Record<string, unknown>[]).map((r) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(r)) out[k] = toValue(v);
      return out;
    });
  }

  async columnsOf(relation: string): Promise<Column[]> {
    const result = await this.conn.runAndReadAll(`DESCRIBE ${relation}`);
    return result.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
  }

  /** Makes the running statement, if any (and its forks'), fail with an INTERRUPT error. */
  interrupt(): void {
    this.conn.interrupt();
    for (const fork of this.forks) fork.interrupt();
  }

  /** Drops the session's database (its memory returns to the instance) and closes the connection; a fork only closes its own. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.parent) {
      this.parent.forks.delete(this);
      this.conn.closeSync();
      return;
    }
    for (const fork of [...this.forks]) await fork.close();
    try {
      await this.conn.run('USE memory');
      await this.conn.run(`DETACH ${ident(this.database)}`);
    } finally {
      this.conn.closeSync();
    }
  }
}

export function toValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString().replace(/T00:00:00\.000Z$/, '');
  if (Array.isArray(v)) return v.map(toValue);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'object') {
    const o: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toValue(x);
    return o;
  }
  return String(v);
}

export const num = (v: Value | undefined): number | null => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v));
