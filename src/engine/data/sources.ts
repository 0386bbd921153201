/** Source nodes: CSV, Parquet and JSON Lines from the object store, and SQL over catalog tables. */
import { FlowError } from './errors.ts';
import type { CatalogTable } from './catalog.ts';
import type { DuckSession } from './duck.ts';
import { detectDelimiter, detectEncoding, findMalformedLine } from './csv-inspect.ts';
import type { Params } from './operator.ts';
import { ident, literal, sqlType, stringList } from './sql.ts';

/** Values read as missing unless a source lists its own (pandas' usual ones). */
export const DEFAULT_NULL_VALUES = ['', 'NULL', 'null', 'NA', 'N/A', 'NaN', 'nan', '#N/A'];

export interface SourceContext {
  params: Params;
  duck: DuckSession;
  /** Local copies of the objects at an s3:// URI. */
  files(uri: string): Promise<string[]>;
  /**
   * The SQL expression naming those files. In a running flow it lists the local copies; in an
   * exported script it reads a variable the runner sets.
   */
  fileList(uri: string, files: string[]): string;
  catalog(name: string): Promise<CatalogTable | undefined>;
  catalogNames(): Promise<string[]>;
}

export interface CompiledSource {
  select: string;
  /** Statements to run first (views over catalog tables). */
  prepare?: string[];
  /** Turns a DuckDB failure into a message that says where the input is malformed. */
  diagnose?(error: Error): Promise<FlowError | undefined>;
}

export interface SourceOperator {
  compile(ctx: SourceContext): Promise<CompiledSource>;
}

interface ReadOptions {
  delimiter?: string;
  header?: boolean;
  encoding?: string;
  nullValues?: string[];
  types?: Record<string, string>;
  columns?: { name: string; type: string }[];
  quote?: string;
  sampleRows?: number;
}

async function csvReader(duck: DuckSession, files: string[], fileList: string, o: ReadOptions, where: string): Promise<{ sql: string; delimiter: string }> {
  const first = files[0]!;
  const delimiter = !o.delimiter || o.delimiter === 'auto' ? await detectDelimiter(first) : o.delimiter === '\\t' ? '\t' : o.delimiter;
  const encoding = !o.encoding || o.encoding === 'auto' ? await detectEncoding(first) : o.encoding;
  if (!['utf-8', 'utf-16', 'latin-1'].includes(encoding)) throw new FlowError(`${where}: encoding must be auto, utf-8, utf-16 or latin-1`);
  const dialect = [
    `header = ${o.header === false ? 'false' : 'true'}`,
    `delim = ${literal(delimiter)}`,
    `quote = ${literal(o.quote ?? '"')}`,
    `escape = ${literal(o.quote ?? '"')}`,
    `encoding = ${literal(encoding)}`,
    `nullstr = ${stringList(o.nullValues ?? DEFAULT_NULL_VALUES)}`,
    `strict_mode = true`,
  ];
  if (o.columns) return { sql: `read_csv(${fileList}, ${[...dialect, fixedSchema(o.columns.map((c) => ({ name: c.name, type: sqlType(c.type) })))].join(', ')})`, delimiter };
  // DuckDB would also read yes/no as BOOLEAN; like pandas, Kiln keeps such text as text.
  const detection = [...dialect, `auto_type_candidates = ['BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP', 'VARCHAR']`];
  if (o.sampleRows) detection.push(`sample_size = ${Math.trunc(o.sampleRows)}`);
  if (o.types && Object.keys(o.types).length) detection.push(`types = {${Object.entries(o.types).map(([n, t]) => `${literal(n)}: ${literal(sqlType(t))}`).join(', ')}}`);
  const sniffed = await sniffSchema(duck, first, detection);
  return { sql: `read_csv(${fileList}, ${sniffed ? [...dialect, sniffed].join(', ') : detection.join(', ')})`, delimiter };
}

/** read_csv options for a known schema; types are DuckDB type names. */
function fixedSchema(columns: { name: string; type: string }[], dateFormat?: string | null, timestampFormat?: string | null, skip = 0): string {
  const parts = [`columns = {${columns.map((c) => `${literal(c.name)}: ${literal(c.type)}`).join(', ')}}`, 'auto_detect = false'];
  if (dateFormat) parts.push(`dateformat = ${literal(dateFormat)}`);
  if (timestampFormat) parts.push(`timestampformat = ${literal(timestampFormat)}`);
  if (skip > 0) parts.push(`skip = ${skip}`);
  return parts.join(', ');
}

/**
 * The schema DuckDB's sniffer finds in the first file, as fixed read_csv options. A reader with
 * auto-detection sniffs again every time a statement binds it (the source's view, its column
 * list, each consumer); one sniff up front makes those binds free. Undefined when the sniffer
 * fails: the auto-detecting reader then reports the problem, with its line, where it is read.
 */
async function sniffSchema(duck: DuckSession, file: string, options: string[]): Promise<string | undefined> {
  try {
    const [found] = await duck.query(`SELECT Columns, DateFormat, TimestampFormat, SkipRows FROM sniff_csv(${literal(file)}, ${options.join(', ')})`);
    const columns = found?.Columns as { name: string; type: string }[] | undefined;
    if (!columns?.length) return undefined;
    return fixedSchema(columns, found!.DateFormat as string | null, found!.TimestampFormat as string | null, Number(found!.SkipRows ?? 0));
  } catch {
    return undefined;
  }
}

function readOptions(p: Params): ReadOptions {
  const types = p.raw('types');
  if (types !== undefined && (typeof types !== 'object' || types === null || Array.isArray(types))) throw p.fail(`parameter 'types' must map column names to types`);
  return {
    delimiter: p.optionalString('delimiter'),
    header: p.boolean('header', true),
    encoding: p.optionalString('encoding'),
    nullValues: p.has('nullValues') ? p.stringArray('nullValues') : undefined,
    types: types as Record<string, string> | undefined,
    quote: p.optionalString('quote'),
    sampleRows: p.has('sampleRows') ? p.number('sampleRows') : undefined,
  };
}

async function diagnoseCsv(error: Error, files: string[], uris: string[], delimiter: string, quote: string, where: string): Promise<FlowError | undefined> {
  // A statement that fails before reading (an unknown column in a formula) is not the file's fault.
  if (/^(Binder|Parser|Catalog) Error/.test(error.message)) return undefined;
  for (const [i, file] of files.entries()) {
    const problem = await findMalformedLine(file, delimiter, quote);
    if (problem) return new FlowError(`${where}: malformed CSV in ${uris[i] ?? file} at line ${problem.line}: ${problem.message}`, 400, 'MalformedCsv');
  }
  const line = /Line: (\d+)/i.exec(error.message)?.[1];
  const first = error.message.split('\n').find((l) => l.trim()) ?? error.message;
  return new FlowError(`${where}: cannot read the CSV${line ? ` (line ${line})` : ''}: ${first}`, 400, 'MalformedCsv');
}

const objectFileSource = (format: 'csv' | 'parquet' | 'jsonl'): SourceOperator => ({
  async compile(ctx) {
    const p = ctx.params;
    const uri = p.string('uri');
    const files = await ctx.files(uri);
    const list = ctx.fileList(uri, files);
    if (format === 'parquet') return { select: `SELECT * FROM read_parquet(${list}, union_by_name = true)` };
    if (format === 'jsonl') return { select: `SELECT * FROM read_json(${list}, format = 'newline_delimited')` };
    const o = readOptions(p);
    const { sql, delimiter } = await csvReader(ctx.duck, files, list, o, p.where);
    return {
      select: `SELECT * FROM ${sql}`,
      diagnose: (e) => diagnoseCsv(e, files, files.map(() => uri), delimiter, o.quote ?? '"', p.where),
    };
  },
});

/** A view per catalog table the query names, in the schema `catalog` (on the search path). */
async function catalogViews(ctx: SourceContext, query: string): Promise<string[]> {
  const statements = ['CREATE SCHEMA IF NOT EXISTS catalog'];
  const mentioned = (await ctx.catalogNames()).filter((n) => new RegExp(`(^|[^A-Za-z0-9_"])"?${n}"?($|[^A-Za-z0-9_])`, 'i').test(query));
  for (const name of mentioned) {
    const t = (await ctx.catalog(name))!;
    const files = await ctx.files(t.location);
    const list = ctx.fileList(t.location, files);
    let reader: string;
    if (t.format === 'parquet') reader = `read_parquet(${list}, union_by_name = true)`;
    else if (t.format === 'jsonl') reader = `read_json(${list}, format = 'newline_delimited')`;
    else {
      const o = t.options as ReadOptions;
      reader = (await csvReader(ctx.duck, files, list, { ...o, columns: t.schemaSource === 'declared' ? t.columns : undefined }, `table '${name}'`)).sql;
    }
    statements.push(`CREATE OR REPLACE VIEW catalog.${ident(name)} AS SELECT * FROM ${reader}`);
  }
  statements.push(`SET search_path = 'main,catalog'`);
  return statements;
}

export const sqlSource: SourceOperator = {
  async compile(ctx) {
    const query = ctx.params.string('query').trim().replace(/;\s*$/, '');
    if (query.includes(';') || !/^(select|with|from)\b/i.test(query)) throw ctx.params.fail('query must be one SELECT over catalog tables');
    return { prepare: await catalogViews(ctx, query), select: query };
  },
};

export const SOURCES: Record<string, SourceOperator> = {
  csv: objectFileSource('csv'),
  parquet: objectFileSource('parquet'),
  jsonl: objectFileSource('jsonl'),
  sql: sqlSource,
};

/** Columns a table's files have, read the way a source reads them (used when a catalog table is registered). */
export async function inferColumns(duck: DuckSession, table: CatalogTable, files: string[]): Promise<{ name: string; type: string }[]> {
  const list = stringList(files);
  let reader: string;
  if (table.format === 'parquet') reader = `read_parquet(${list}, union_by_name = true)`;
  else if (table.format === 'jsonl') reader = `read_json(${list}, format = 'newline_delimited')`;
  else reader = (await csvReader(duck, files, list, table.options as ReadOptions, `table '${table.name}'`)).sql;
  try {
    return await duck.columnsOf(`SELECT * FROM ${reader}`);
  } catch (e) {
    throw new FlowError(`table '${table.name}': cannot infer a schema from ${table.location}: ${(e as Error).message.split('\n')[0]}`);
  }
}
