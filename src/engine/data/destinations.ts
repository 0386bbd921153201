/** Destination nodes: write a node's table to the object store as CSV or Parquet, optionally partitioned. */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '../../store/objects/types.ts';
import type { DuckSession } from './duck.ts';
import { parseS3Uri } from './object-files.ts';
import type { Params } from './operator.ts';
import { ident, literal } from './sql.ts';

export interface DestinationSpec {
  uri: string;
  format: 'csv' | 'parquet';
  partitionBy: string[];
  header: boolean;
  /** CSV field delimiter; a comma when absent. */
  delimiter?: string;
}

export function destinationSpec(p: Params, columns: string[]): DestinationSpec {
  const uri = p.string('uri');
  parseS3Uri(uri);
  const partitionBy = p.stringArray('partitionBy', []);
  for (const c of partitionBy) if (!columns.includes(c)) p.findColumn(c, columns.map((name) => ({ name, type: '' })));
  const delimiter = p.optionalString('delimiter');
  if (delimiter !== undefined && delimiter.length !== 1) throw p.fail(`the CSV delimiter must be one character, not '${delimiter}'`);
  return { uri, format: p.oneOf('format', ['csv', 'parquet'] as const, 'csv'), partitionBy, header: p.boolean('header', true), ...(delimiter ? { delimiter } : {}) };
}

/** The COPY statement writing `table` to `target` (a file, or a folder when partitioned). */
export function copyStatement(table: string, target: string, spec: DestinationSpec): string {
  const options = spec.format === 'parquet' ? ['FORMAT parquet', 'COMPRESSION zstd'] : ['FORMAT csv', `HEADER ${spec.header ? 'true' : 'false'}`];
  if (spec.format === 'csv' && spec.delimiter !== undefined) options.push(`DELIMITER ${literal(spec.delimiter)}`);
  if (spec.partitionBy.length) options.push(`PARTITION_BY (${spec.partitionBy.map(ident).join(', ')})`, 'OVERWRITE_OR_IGNORE true');
  return `COPY (SELECT * FROM ${ident(table)}) TO ${literal(target)} (${options.join(', ')})`;
}

export interface WrittenTable {
  /** The object URIs written. */
  objects: string[];
  rows: number;
}

/** Writes the table under the destination prefix; returns the objects written and the rows COPY wrote. */
export async function writeDestination(duck: DuckSession, objects: ObjectStore, table: string, spec: DestinationSpec, scratch: string): Promise<WrittenTable> {
  const { bucket, key } = parseS3Uri(spec.uri);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const local = path.join(scratch, `out-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await mkdir(local, { recursive: true });
  try {
    const ext = spec.format === 'parquet' ? 'parquet' : 'csv';
    const target = spec.partitionBy.length ? local : path.join(local, `part-00000.${ext}`);
    const [copied] = await duck.query(copyStatement(table, target, spec));
    const rows = Number(copied?.Count ?? 0);
    const files = (await readdir(local, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
    const written: string[] = [];
    for (const f of files.sort((a, b) => path.join(a.parentPath, a.name).localeCompare(path.join(b.parentPath, b.name)))) {
      const full = path.join(f.parentPath, f.name);
      const rel = path.relative(local, full).split(path.sep).join('/');
      await objects.putObject({ bucket, key: prefix + rel, body: createReadStream(full), contentType: spec.format === 'parquet' ? 'application/x-parquet' : 'text/csv' });
      written.push(`s3://${bucket}/${prefix}${rel}`);
    }
    return { objects: written, rows };
  } finally {
    await rm(local, { recursive: true, force: true });
  }
}
