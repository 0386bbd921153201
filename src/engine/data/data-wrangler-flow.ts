/**
 * Reads a `.flow` file written by SageMaker Data Wrangler (Studio) as a Kiln flow document. Node
 * ids stay as they are, so a Data Wrangler processing job's output names (`<node_id>.default`)
 * and inputs named after source nodes still line up. Each node's operator id selects a
 * translation, and within it the display string in `parameters.operator` selects the one
 * `*_parameters` object that counts: the Studio UI leaves the objects of unselected options in
 * place. Fitted state (`trained_parameters`) is ignored, since Kiln fits every transform at each
 * run, except the column types the type-inference step recorded. A step Kiln cannot run is
 * refused with the node and operator named; visualizations Kiln has no analysis for are left
 * out, with a note.
 */
import { FlowError } from './errors.ts';
import type { FlowNode, NodeType } from './flow.ts';
import { ident, literal } from './sql.ts';

type Params = Record<string, unknown>;

interface DwInput {
  node_id: string;
  output_name?: string;
}

interface DwNode {
  node_id: string;
  type: string;
  operator: string;
  parameters: Params;
  trained_parameters?: unknown;
  inputs: DwInput[];
  outputs?: { name?: string }[];
  name?: string;
}

export interface TranslatedFlow {
  /** A Kiln flow document, still to be validated. */
  flow: { version: 1; nodes: FlowNode[] };
  /** What was left out or read loosely, one line each. */
  notes: string[];
}

/** True for a document in Data Wrangler's format: nodes carry `node_id`, or there is a `metadata` block. */
export function isDataWranglerFlow(doc: unknown): boolean {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const d = doc as { metadata?: unknown; nodes?: unknown };
  return d.metadata !== undefined || (Array.isArray(d.nodes) && d.nodes.some((n) => !!n && typeof n === 'object' && 'node_id' in n));
}

export function fromDataWranglerFlow(doc: unknown): TranslatedFlow {
  const raw = (doc as { nodes?: unknown }).nodes;
  if (!Array.isArray(raw)) throw new FlowError('the Data Wrangler flow has no "nodes" list');
  const nodes = raw.map(readNode);
  const byId = new Map(nodes.map((n) => [n.node_id, n]));
  const notes: string[] = [];
  const out: FlowNode[] = [];
  for (const n of nodes) {
    const t = new NodeTranslation(n, byId);
    const translated = translate(t);
    if (translated) out.push({ id: n.node_id, ...translated, ...(n.name || t.label ? { name: n.name ?? t.label } : {}) });
    else notes.push(`visualization ${n.node_id} (${n.operator}) has no Kiln analysis and was left out`);
  }
  return { flow: { version: 1, nodes: out }, notes };
}

/** An operator id without its version: `sagemaker.spark.manage_columns_0.1` → `sagemaker.spark.manage_columns`. */
const unversioned = (operator: string): string => operator.replace(/_\d+(\.\d+)*$/, '');

function readNode(value: unknown, i: number): DwNode {
  const n = value as Partial<DwNode> | null;
  if (!n || typeof n !== 'object' || typeof n.node_id !== 'string' || typeof n.type !== 'string' || typeof n.operator !== 'string') {
    throw new FlowError(`Data Wrangler node ${i} needs a node_id, a type and an operator`);
  }
  const inputs = Array.isArray(n.inputs) ? n.inputs : [];
  for (const input of inputs) if (!input || typeof input.node_id !== 'string') throw new FlowError(`Data Wrangler node '${n.node_id}': every input needs a node_id`);
  return { ...n, parameters: n.parameters && typeof n.parameters === 'object' ? n.parameters : {}, inputs } as DwNode;
}

/** One node being translated: typed access to its parameters, and errors that name it. */
class NodeTranslation {
  label?: string;

  constructor(
    readonly node: DwNode,
    private readonly byId: Map<string, DwNode>,
  ) {}

  get operator(): string {
    return unversioned(this.node.operator);
  }

  /** The display string that selects the operation (`Drop column`), if the operator has one. */
  get choice(): string {
    return str(this.node.parameters.operator) ?? '';
  }

  refuse(what: string): FlowError {
    const choice = this.choice ? `, '${this.choice}'` : '';
    return new FlowError(`Data Wrangler node '${this.node.node_id}' (${this.node.operator}${choice}): ${what}`, 400, 'UnsupportedOperator');
  }

  /** The parameters object named `key` (`drop_column_parameters`), which must be there. */
  sub(key: string, from: Params = this.node.parameters): Params {
    const v = from[key];
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw this.refuse(`'${key}' is missing`);
    return v as Params;
  }

  /** A column argument, given as one name or a list. */
  columns(p: Params, key = 'input_column'): string[] {
    const v = p[key];
    const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
    if (list.length === 0 || list.some((c) => typeof c !== 'string' || c === '')) throw this.refuse(`'${key}' must name one or more columns`);
    return list as string[];
  }

  /** `table[value]`, `value` defaulting to `fallback`; a value not in the table is refused, naming `what` and the choices. */
  pick<T>(table: Record<string, T>, value: unknown, what: string, fallback?: string): T {
    const key = str(value) ?? fallback ?? '';
    const found = Object.hasOwn(table, key) ? table[key] : undefined;
    if (found === undefined) throw this.refuse(`${what} '${key}' is not one of ${Object.keys(table).join(', ')}`);
    return found;
  }

  /**
   * An option chosen by a display string, from a table of `[its *_parameters key, its value]`:
   * the value, and that parameters object (read from `from`).
   */
  option<T>(table: Record<string, [string, T]>, value: unknown, what: string, from: Params = this.node.parameters): [T, Params] {
    const [key, chosen] = this.pick(table, value, what);
    return [chosen, this.sub(key, from)];
  }

  /** Refuses an `output_column`: Kiln writes these results in place. */
  inPlace(p: Params): void {
    if (str(p.output_column)) throw this.refuse(`an output column ('${String(p.output_column)}') is not supported; Kiln replaces the input column`);
  }

  /** Kiln input references: `<id>`, or `<id>.<split>` for a split's output (`default` is its first split). */
  inputs(count?: number): string[] {
    const refs = this.node.inputs.map((input) => {
      const producer = this.byId.get(input.node_id);
      if (!producer) throw this.refuse(`its input '${input.node_id}' is not a node of this flow`);
      const output = input.output_name ?? 'default';
      if (unversioned(producer.operator) !== 'sagemaker.spark.split') return output === 'default' ? input.node_id : `${input.node_id}.${output}`;
      // A split's `default` output is its first split.
      const first = splitShares(producer)[0]?.name;
      if (output === 'default' && !first) throw this.refuse(`its input split '${input.node_id}' has no splits`);
      return `${input.node_id}.${output === 'default' ? first : output}`;
    });
    if (count !== undefined && refs.length !== count) throw this.refuse(`it has ${refs.length} input(s), not ${count}`);
    return refs;
  }
}

type Translated = Omit<FlowNode, 'id'>;

function translate(t: NodeTranslation): Translated | undefined {
  const type = t.node.type.toUpperCase();
  if (type === 'SOURCE') return source(t);
  if (type === 'DESTINATION') return destination(t);
  if (type === 'VISUALIZATION' || type === 'ANALYSIS') return visualization(t);
  if (type === 'DATASET') return passThrough(t);
  if (type !== 'TRANSFORM') throw t.refuse(`node type '${t.node.type}' is not one Kiln knows`);
  const handler = TRANSFORMS[t.operator];
  if (!handler) throw t.refuse('Kiln has no counterpart for this operator');
  return handler(t);
}

const transform = (t: NodeTranslation, operator: string, parameters: Params, inputs = t.inputs(1)): Translated => ({ type: 'transform' as NodeType, operator, inputs, parameters });

/** A node that hands its input on unchanged (Data Wrangler's dataset nodes after a split). */
const passThrough = (t: NodeTranslation): Translated => transform(t, 'manage_columns', { operator: 'cast', types: {} });

function source(t: NodeTranslation): Translated {
  const definition = t.sub('dataset_definition');
  t.label = str(definition.name);
  if (t.operator === 'sagemaker.athena_source') {
    const query = str(definition.queryString);
    if (!query) throw t.refuse(`the Athena source has no queryString`);
    return { type: 'source', operator: 'sql', parameters: { query } };
  }
  if (t.operator !== 'sagemaker.s3_source') throw t.refuse('Kiln reads S3 and Athena-style (catalog SQL) sources only');
  const s3 = t.sub('s3ExecutionContext', definition);
  const uri = str(s3.s3Uri);
  if (!uri) throw t.refuse('the S3 source has no s3Uri');
  if (s3.s3AddsFilenameColumn === true) throw t.refuse('adding a file-name column is not supported');
  if (typeof s3.s3SkipLines === 'number' && s3.s3SkipLines > 0) throw t.refuse('skipping lines is not supported');
  const format = (str(s3.s3ContentType) ?? 'csv').toLowerCase();
  if (format === 'parquet') return { type: 'source', operator: 'parquet', parameters: { uri } };
  if (format === 'jsonl') return { type: 'source', operator: 'jsonl', parameters: { uri } };
  if (format !== 'csv') throw t.refuse(`content type '${format}' is not supported; Kiln reads CSV, Parquet and JSON Lines`);
  const parameters: Params = { uri, header: s3.s3HasHeader !== false };
  const delimiter = str(s3.s3FieldDelimiter);
  if (delimiter) parameters.delimiter = delimiter;
  const encoding = str(s3.s3CsvEncodingType)?.toLowerCase().replace(/_/g, '-');
  if (encoding) parameters.encoding = encoding === 'utf8' ? 'utf-8' : encoding;
  return { type: 'source', operator: 'csv', parameters };
}

function destination(t: NodeTranslation): Translated {
  if (t.operator !== 'sagemaker.spark.s3_destination') throw t.refuse('Kiln writes S3 destinations only');
  const config = t.sub('output_config');
  const uri = str(config.output_path);
  if (!uri) throw t.refuse('the S3 destination has no output_path');
  const format = (str(config.output_content_type) ?? 'CSV').toUpperCase();
  if (format !== 'CSV' && format !== 'PARQUET') throw t.refuse(`output content type '${format}' is not supported; use CSV or PARQUET`);
  const compression = (str(config.compression) ?? 'none').toLowerCase();
  if (compression !== 'none') throw t.refuse(`compression '${compression}' is not supported`);
  const parameters: Params = { uri, format: format.toLowerCase() };
  const delimiter = str(config.delimiter);
  if (format === 'CSV' && delimiter && delimiter !== ',') parameters.delimiter = delimiter;
  const partitionBy = (config.partition_config as Params | undefined)?.partition_by;
  if (partitionBy !== undefined) parameters.partitionBy = typeof partitionBy === 'string' ? [partitionBy] : partitionBy;
  return { type: 'destination', operator: 's3', inputs: t.inputs(1), parameters };
}

function visualization(t: NodeTranslation): Translated | undefined {
  const p = t.node.parameters;
  const analysis = (operator: string, parameters: Params): Translated => ({ type: 'analysis', operator, inputs: t.inputs(1), parameters });
  t.label = str(p.name);
  switch (t.operator) {
    case 'sagemaker.visualizations.histogram':
      return analysis('histogram', { column: str(p.x_axis), ...(str(p.color_by) ? { colorBy: str(p.color_by) } : {}) });
    case 'sagemaker.visualizations.describe':
      return analysis('table_summary', {});
    case 'sagemaker.visualizations.target_leakage':
      return analysis('target_leakage', { target: str(p.target), ...(Number(p.max_features) > 0 ? { maxFeatures: Number(p.max_features) } : {}) });
    case 'sagemaker.visualizations.feature_correlation':
      return analysis('feature_correlation', { type: str(p.correlation_type) === 'non-linear' ? 'nonlinear' : 'linear' });
    case 'sagemaker.visualizations.data_insights_report': {
      const target = str((p.insights_report_parameters as Params | undefined)?.target_column);
      return analysis('quality_report', target ? { target } : {});
    }
    default:
      return undefined;
  }
}

const TRANSFORMS: Record<string, (t: NodeTranslation) => Translated> = {
  'sagemaker.spark.infer_and_cast_type': (t) => {
    // The column types Studio inferred; Kiln's own inference stands for a column without one.
    const schema = (t.node.trained_parameters as { schema?: Record<string, unknown> } | undefined)?.schema ?? {};
    const types: Record<string, string> = {};
    for (const [column, type] of Object.entries(schema)) {
      const kiln = typeof type === 'string' ? SCHEMA_TYPES[type.toLowerCase()] : undefined;
      if (kiln) types[column] = kiln;
    }
    return transform(t, 'manage_columns', { operator: 'cast', types });
  },
  'sagemaker.spark.cast_single_data_type': (t) => {
    const p = t.node.parameters;
    const column = str(p.column);
    const type = str(p.data_type);
    const kiln = type ? SCHEMA_TYPES[type.toLowerCase()] : undefined;
    if (!column || !kiln) throw t.refuse(`needs a column and a data_type Kiln knows (${Object.keys(SCHEMA_TYPES).join(', ')})`);
    const handling = str(p.non_castable_data_handling_method) ?? 'replace_null';
    if (handling !== 'replace_null') throw t.refuse(`non-castable handling '${handling}' is not supported; Kiln makes such values missing`);
    return transform(t, 'manage_columns', { operator: 'cast', types: { [column]: kiln } });
  },
  'sagemaker.spark.manage_columns': (t) => {
    switch (t.choice) {
      case 'Drop column':
        return transform(t, 'manage_columns', { operator: 'drop', columns: t.columns(t.sub('drop_column_parameters'), 'column_to_drop') });
      case 'Rename column': {
        const p = t.sub('rename_column_parameters');
        const renames: Record<string, string> = {};
        if (str(p.input_column) && str(p.new_name)) renames[str(p.input_column)!] = str(p.new_name)!;
        for (const r of Array.isArray(p.columns_to_rename) ? (p.columns_to_rename as Params[]) : []) {
          if (str(r?.input_column) && str(r?.new_name)) renames[str(r.input_column)!] = str(r.new_name)!;
        }
        if (Object.keys(renames).length === 0) throw t.refuse('names no column to rename');
        return transform(t, 'manage_columns', { operator: 'rename', renames });
      }
      case 'Move column': {
        const p = t.sub('move_column_parameters');
        const moves: Record<string, [string, string]> = {
          'Move to start': ['move_to_start_parameters', 'start'],
          'Move to end': ['move_to_end_parameters', 'end'],
          'Move to index': ['move_to_index_parameters', 'index'],
          'Move after': ['move_after_parameters', 'after'],
          'Move before': ['move_before_parameters', 'before'],
        };
        const [position, m] = t.option(moves, p.move_type, 'move type', p);
        return transform(t, 'manage_columns', {
          operator: 'move',
          columns: t.columns(m, 'column_to_move'),
          position,
          ...(position === 'index' ? { index: Number(m.index) } : {}),
          ...(position === 'after' || position === 'before' ? { target: str(m.target_column) } : {}),
        });
      }
      case 'Duplicate column': {
        const p = t.sub('duplicate_column_parameters');
        return transform(t, 'manage_columns', { operator: 'duplicate', column: str(p.input_column), newName: str(p.new_name) });
      }
      case 'Concatenate columns': {
        const p = t.sub('concat_columns_parameters');
        const [left, right] = [str(p.left_column), str(p.right_column)];
        if (!left || !right || !str(p.output_column)) throw t.refuse('needs a left_column, a right_column and an output_column');
        // Like Spark's concat_ws, DuckDB's skips missing values.
        const expression = `concat_ws(${literal(typeof p.delimiter === 'string' ? p.delimiter : '_')}, CAST(${ident(left)} AS VARCHAR), CAST(${ident(right)} AS VARCHAR))`;
        return transform(t, 'manage_columns', { operator: 'formula', expression, outputColumn: str(p.output_column) });
      }
      default:
        throw t.refuse('Kiln drops, renames, moves, duplicates and concatenates columns');
    }
  },
  'sagemaker.spark.custom_formula': (t) => {
    const p = t.node.parameters;
    const expression = str(p.formula);
    const outputColumn = str(p.output_column);
    if (!expression || !outputColumn) throw t.refuse('needs a formula and an output_column');
    return transform(t, 'manage_columns', { operator: 'formula', expression, outputColumn });
  },
  'sagemaker.spark.format_string': (t) => {
    const formats: Record<string, [string, (column: string) => string]> = {
      'Lower case': ['lower_case_parameters', (c) => `lower(${c})`],
      'Upper case': ['upper_case_parameters', (c) => `upper(${c})`],
      'Strip left and right': ['strip_left_and_right_parameters', (c) => `trim(${c})`],
      'Strip left': ['strip_left_parameters', (c) => `ltrim(${c})`],
      'Strip right': ['strip_right_parameters', (c) => `rtrim(${c})`],
    };
    const [format, p] = t.option(formats, t.choice, 'string format');
    return replaceColumns(t, t.columns(p), str(p.output_column), (c) => format(`CAST(${ident(c)} AS VARCHAR)`));
  },
  'sagemaker.spark.search_and_edit': (t) => {
    if (t.choice !== 'Find and replace substring') throw t.refuse('Kiln finds and replaces substrings');
    const p = t.sub('find_and_replace_substring_parameters');
    const pattern = typeof p.pattern === 'string' ? p.pattern : undefined;
    if (!pattern) throw t.refuse('needs a pattern');
    const replacement = typeof p.replacement === 'string' ? p.replacement : '';
    return replaceColumns(t, t.columns(p), str(p.output_column), (c) => `regexp_replace(CAST(${ident(c)} AS VARCHAR), ${literal(pattern)}, ${literal(replacement)}, 'g')`);
  },
  'sagemaker.spark.manage_rows': (t) => {
    switch (t.choice) {
      case 'Drop duplicates':
        return transform(t, 'manage_rows', { operator: 'drop_duplicates' });
      case 'Shuffle':
        return transform(t, 'manage_rows', { operator: 'shuffle' });
      case 'Sort': {
        const p = t.sub('sort_parameters');
        const conditions = Array.isArray(p.conditions) && p.conditions.length ? (p.conditions as Params[]) : [p];
        const orders = new Set(conditions.map((c) => (str(c.order) ?? 'Ascending').toLowerCase()));
        if (orders.size > 1) throw t.refuse('sorting columns in different directions is not supported');
        return transform(t, 'manage_rows', { operator: 'sort', columns: conditions.map((c) => str(c.sort_by)), order: [...orders][0] });
      }
      default:
        throw t.refuse('Kiln drops duplicates, sorts and shuffles rows (and filters them with an expression of its own)');
    }
  },
  'sagemaker.spark.handle_missing': (t) => {
    switch (t.choice) {
      case 'Impute': {
        const p = t.sub('impute_parameters');
        const numeric = str(p.column_type) !== 'Categorical';
        const q = t.sub(numeric ? 'numeric_parameters' : 'categorical_parameters', p);
        t.inPlace(q);
        const strategies: Record<string, string> = { Mean: 'mean', 'Approximate Median': 'approximate_median', Median: 'median' };
        const strategy = numeric ? t.pick(strategies, q.strategy, 'strategy', 'Approximate Median') : 'mode';
        return transform(t, 'handle_missing', { operator: 'impute', columns: t.columns(q), strategy });
      }
      case 'Fill missing': {
        const p = t.sub('fill_missing_parameters');
        t.inPlace(p);
        return transform(t, 'handle_missing', { operator: 'fill', columns: t.columns(p), value: p.fill_value });
      }
      case 'Drop missing': {
        const p = t.sub('drop_missing_parameters');
        const q = (p.drop_rows_parameters as Params | undefined) ?? p;
        return transform(t, 'handle_missing', { operator: 'drop', ...(q.input_column !== undefined ? { columns: t.columns(q) } : {}) });
      }
      case 'Add indicator for missing': {
        const p = t.sub('add_indicator_for_missing_parameters');
        const columns = t.columns(p);
        const prefix = str(p.output_column);
        if (prefix && columns.length > 1) throw t.refuse('an output column with several input columns is not supported');
        const indicators = columns.map((c) => `CAST(${ident(c)} IS NULL AS INTEGER) AS ${ident(prefix ?? `${c}_indicator`)}`);
        return transform(t, 'custom_sql', { sql: `SELECT *, ${indicators.join(', ')} FROM df` });
      }
      default:
        throw t.refuse('Kiln imputes, fills and drops missing values');
    }
  },
  'sagemaker.spark.encode_categorical': (t) => {
    const invalid: Record<string, string> = { Keep: 'keep', Skip: 'skip', Error: 'error', 'Replace with NaN': 'keep' };
    const handling = (p: Params) => t.pick(invalid, p.invalid_handling_strategy, 'invalid handling', 'Keep');
    switch (t.choice) {
      case 'One-hot encode': {
        const p = t.sub('one_hot_encode_parameters');
        const columns = t.columns(p);
        const prefix = str(p.output_column);
        if (prefix && columns.length > 1) throw t.refuse('an output column with several input columns is not supported');
        return transform(t, 'encode_categorical', {
          operator: 'one_hot',
          columns,
          invalidHandling: handling(p),
          // Data Wrangler drops the last category unless told otherwise.
          dropLast: p.drop_last !== false,
          outputStyle: str(p.output_style) === 'Vector' ? 'vector' : 'columns',
          ...(prefix ? { prefix: `${prefix}_` } : {}),
        });
      }
      case 'Ordinal encode': {
        const p = t.sub('ordinal_encode_parameters');
        t.inPlace(p);
        return transform(t, 'encode_categorical', { operator: 'ordinal', columns: t.columns(p), invalidHandling: handling(p) });
      }
      default:
        throw t.refuse('Kiln one-hot and ordinal encodes');
    }
  },
  'sagemaker.spark.handle_outliers': (t) => {
    const methods: Record<string, [string, string]> = {
      'Standard deviation numeric outliers': ['standard_deviation_numeric_outliers_parameters', 'standard_deviation'],
      'Robust standard deviation numeric outliers': ['robust_standard_deviation_numeric_outliers_parameters', 'robust_standard_deviation'],
      'Quantile numeric outliers': ['quantile_numeric_outliers_parameters', 'quantile'],
      'Min-max numeric outliers': ['min_max_numeric_outliers_parameters', 'min_max'],
    };
    const [method, p] = t.option(methods, t.choice, 'outlier method');
    t.inPlace(p);
    const fixes: Record<string, string> = { Clip: 'clip', Remove: 'remove', Invalidate: 'invalidate' };
    const fix = t.pick(fixes, p.fix_method, 'fix method', 'Clip');
    const bounds: Params =
      method === 'standard_deviation' ? { standardDeviations: Number(p.standard_deviations ?? 4) }
      : method === 'robust_standard_deviation' ? { standardDeviations: Number(p.standard_deviations ?? 4), lowerQuantile: Number(p.lower_quantile ?? 0.25), upperQuantile: Number(p.upper_quantile ?? 0.75) }
      : method === 'quantile' ? { lowerQuantile: Number(p.lower_quantile ?? 0.01), upperQuantile: Number(p.upper_quantile ?? 0.99) }
      : { lowerThreshold: p.lower_threshold, upperThreshold: p.upper_threshold };
    return transform(t, 'handle_outliers', { method, columns: t.columns(p), fix, ...bounds });
  },
  'sagemaker.spark.process_numeric': (t) => {
    if (t.choice !== 'Scale values') throw t.refuse('Kiln scales values');
    const p = t.sub('scale_values_parameters');
    const scalers: Record<string, [string, string]> = {
      'Standard scaler': ['standard_scaler_parameters', 'standard'],
      'Robust scaler': ['robust_scaler_parameters', 'robust'],
      'Min-max scaler': ['min_max_scaler_parameters', 'min_max'],
      'Max absolute scaler': ['max_absolute_scaler_parameters', 'max_absolute'],
    };
    const [scaler, q] = t.option(scalers, p.scaler, 'scaler', p);
    t.inPlace(q);
    // Data Wrangler's standard and robust scalers scale but do not center unless told to.
    const options: Params =
      scaler === 'standard' ? { center: q.center === true, scale: q.scale !== false }
      : scaler === 'robust' ? { center: q.center === true, scale: q.scale !== false, lowerQuantile: Number(q.lower_quantile ?? 0.25), upperQuantile: Number(q.upper_quantile ?? 0.75) }
      : scaler === 'min_max' ? { min: Number(q.min ?? 0), max: Number(q.max ?? 1) }
      : {};
    return transform(t, 'scale_values', { scaler, columns: t.columns(q), ...options });
  },
  'sagemaker.spark.split': (t) => {
    const splits = splitShares(t.node).map((s) => ({ name: s.name, fraction: s.fraction }));
    switch (t.choice) {
      case 'Randomized split': {
        const p = t.sub('randomized_split_parameters');
        return transform(t, 'split', { method: 'random', splits, ...(Number.isInteger(p.seed) ? { seed: p.seed } : {}) });
      }
      case 'Ordered split': {
        const p = t.sub('ordered_split_parameters');
        if (str(p.input_column)) throw t.refuse('ordering by a column is not supported; Kiln splits in the current row order');
        return transform(t, 'split', { method: 'ordered', splits });
      }
      case 'Stratified split':
        return transform(t, 'split', { method: 'stratified', splits, column: t.columns(t.sub('stratified_split_parameters'))[0] });
      case 'Split by key':
        return transform(t, 'split', { method: 'key', splits, columns: t.columns(t.sub('split_by_key_parameters'), 'key_columns') });
      default:
        throw t.refuse('Kiln splits randomly, in order, stratified or by key');
    }
  },
  'sagemaker.spark.join_tables': (t) => {
    const p = t.node.parameters;
    const types: Record<string, string> = {
      inner: 'inner', left: 'left', leftouter: 'left', left_outer: 'left', right: 'right', rightouter: 'right', right_outer: 'right',
      full: 'full', fullouter: 'full', full_outer: 'full', outer: 'full', semi: 'semi', leftsemi: 'semi', left_semi: 'semi',
      anti: 'anti', leftanti: 'anti', left_anti: 'anti',
    };
    const type = t.pick(types, (str(p.join_type) ?? 'inner').toLowerCase(), 'join type');
    // Columns both sides have come out as <name>_0 (left) and <name>_1 (right), as in Data Wrangler.
    return transform(t, 'join', { type, leftColumns: [str(p.left_column)], rightColumns: [str(p.right_column)], suffixes: ['_0', '_1'] }, t.inputs(2));
  },
  'sagemaker.spark.custom_pandas': (t) => transform(t, 'custom_python', { code: str(t.node.parameters.code) }),
  'sagemaker.spark.custom_sql': (t) => transform(t, 'custom_sql', { sql: str(t.node.parameters.code) }),
  'sagemaker.spark.custom_code': (t) => {
    const p = t.node.parameters;
    t.label = str(p.name);
    if (t.choice === 'Python (Pandas)') return transform(t, 'custom_python', { code: str(t.sub('pandas_parameters').code) });
    if (t.choice === 'SQL (PySpark SQL)') return transform(t, 'custom_sql', { sql: str(t.sub('sql_parameters').code) });
    throw t.refuse('Kiln runs custom pandas and SQL; it has no Spark');
  },
};

/**
 * A custom SQL step computing `expression` for each column: in place, or with `output` into a new
 * column (one input column only), as Studio's string steps do.
 */
function replaceColumns(t: NodeTranslation, columns: string[], output: string | undefined, expression: (column: string) => string): Translated {
  if (output && columns.length > 1) throw t.refuse('an output column with several input columns is not supported');
  const sql = output
    ? `SELECT *, ${expression(columns[0]!)} AS ${ident(output)} FROM df`
    : `SELECT * REPLACE (${columns.map((c) => `${expression(c)} AS ${ident(c)}`).join(', ')}) FROM df`;
  return transform(t, 'custom_sql', { sql });
}

/** Studio's inferred types as Kiln type names; a type not here (object, array, ...) is left as Kiln reads it. */
const SCHEMA_TYPES: Record<string, string> = { string: 'string', long: 'long', float: 'float', bool: 'bool', date: 'date', datetime: 'timestamp' };

/** Where each kind of split keeps its shares. */
const SPLIT_PARAMETERS: Record<string, string> = {
  'Randomized split': 'randomized_split_parameters',
  'Ordered split': 'ordered_split_parameters',
  'Stratified split': 'stratified_split_parameters',
  'Split by key': 'split_by_key_parameters',
};

/** A split node's shares, `[{name, percentage}]` as Data Wrangler writes them; empty when it has none. */
function splitShares(node: DwNode): { name: string; fraction: number }[] {
  const key = SPLIT_PARAMETERS[str(node.parameters.operator) ?? ''];
  const splits = key ? (node.parameters[key] as Params | undefined)?.splits : undefined;
  return Array.isArray(splits) ? splits.map((s: Params) => ({ name: String(s?.name ?? ''), fraction: Number(s?.percentage) })) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
