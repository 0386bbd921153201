/** One in-memory DuckDB database per flow session, with results as plain JSON-able values. */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
export type Row = Record<string, Value>;

export interface Column {
  name: string;
  type: string;
}

export class DuckSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  static async open(opts: { threads?: number; memoryLimit?: string } = {}): Promise<DuckSession> {
    const config: Record<string, string> = {};
    if (opts.threads) config.threads = String(opts.threads);
    if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
    const instance = await DuckDBInstance.create(':memory:', config);
    const conn = await instance.connect();
    return new DuckSession(instance, conn);
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

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
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
