/**
 * The table catalog, Kiln's counterpart of Athena over the Glue catalog: a table is an s3://
 * location (one object or a prefix) in CSV, Parquet or JSON Lines with a schema, declared or
 * inferred when the table is registered, and SQL sources query tables by name.
 */
import type { MetadataDb } from '../../store/metadata/database.ts';
import type { Column } from './duck.ts';
import { FlowError } from './errors.ts';
import { sqlType } from './sql.ts';

export type TableFormat = 'csv' | 'parquet' | 'jsonl';

export interface CatalogTable {
  name: string;
  location: string;
  format: TableFormat;
  /** CSV reading options: delimiter, header, encoding, nullValues. */
  options: Record<string, unknown>;
  /** Declared columns, or those inferred at registration. */
  columns: Column[];
  schemaSource: 'declared' | 'inferred';
  createdAt: string;
}

export const TABLE_NAME = /^[a-z_][a-z0-9_]{0,127}$/;

export function checkTableDefinition(body: unknown): Omit<CatalogTable, 'columns' | 'schemaSource' | 'createdAt'> & { columns?: Column[] } {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.name !== 'string' || !TABLE_NAME.test(b.name)) throw new FlowError(`table name must match ${TABLE_NAME} (lower case, digits, _)`);
  if (typeof b.location !== 'string' || !b.location.startsWith('s3://')) throw new FlowError(`table '${b.name}': location must be an s3:// URI`);
  const format = (b.format ?? 'csv') as TableFormat;
  if (!['csv', 'parquet', 'jsonl'].includes(format)) throw new FlowError(`table '${b.name}': format must be csv, parquet or jsonl`);
  let columns: Column[] | undefined;
  if (b.columns !== undefined) {
    if (!Array.isArray(b.columns) || b.columns.length === 0) throw new FlowError(`table '${b.name}': columns must be a non-empty list of {name, type}`);
    columns = b.columns.map((c: { name?: unknown; type?: unknown }) => {
      if (typeof c?.name !== 'string' || typeof c?.type !== 'string') throw new FlowError(`table '${b.name}': every column needs a name and a type`);
      try {
        return { name: c.name, type: sqlType(c.type) };
      } catch (e) {
        throw new FlowError(`table '${b.name}', column '${c.name}': ${(e as Error).message}`);
      }
    });
  }
  const options = b.options && typeof b.options === 'object' && !Array.isArray(b.options) ? (b.options as Record<string, unknown>) : {};
  return { name: b.name, location: b.location, format, options, columns };
}

export class Catalog {
  constructor(private readonly db: MetadataDb) {}

  async list(): Promise<CatalogTable[]> {
    const rows = await this.db.selectFrom('data_catalog_tables').selectAll().orderBy('name').execute();
    return rows.map((r) => JSON.parse(r.doc) as CatalogTable);
  }

  async get(name: string): Promise<CatalogTable | undefined> {
    const row = await this.db.selectFrom('data_catalog_tables').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? (JSON.parse(row.doc) as CatalogTable) : undefined;
  }

  async put(table: CatalogTable): Promise<void> {
    const doc = JSON.stringify(table);
    await this.db
      .insertInto('data_catalog_tables')
      .values({ name: table.name, doc, created_at: Date.now() })
      .onConflict((oc) => oc.column('name').doUpdateSet({ doc }))
      .execute();
  }

  async delete(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('data_catalog_tables').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
