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

export class DuckSession {
  private closed = false;

  private constructor(
    private readonly conn: DuckDBConnection,
    private readonly database: string,
  ) {}

  static async open(opts: DuckOptions = {}): Promise<DuckSession> {
    const conn = await (await sharedInstance(opts)).connect();
    const database = `session_${process.pid}_${++sessionCount}`;
    try {
      await conn.run(`ATTACH ':memory:' AS ${ident(database)}`);
      await conn.run(`USE ${ident(database)}`);
    } catch (e) {
      conn.closeSync();
      throw e;
    }
    return new DuckSession(conn, database);
  }

  async run(sql: string): Promise<void> {
    await this.conn.run(sql);
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

  /** Makes the running statement, if any, fail with an INTERRUPT error. */
  interrupt(): void {
    this.conn.interrupt();
  }

  /** Drops the session's database (its memory returns to the instance) and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
