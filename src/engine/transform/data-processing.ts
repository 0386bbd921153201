/**
 * Batch transform's DataProcessing: InputFilter picks what of each record the model sees,
 * JoinSource Input joins each original record with its prediction, and OutputFilter picks
 * what of the joined record is written. CSV records are treated as JSON arrays of their
 * fields; JSON records as parsed; a joined JSON record carries the prediction under
 * SageMakerOutput (and a non-object input under SageMakerInput), as SageMaker writes them.
 */
import { JobFailure } from '../jobs/failure.ts';
import { JsonPathError, parseJsonPath, type JsonPath } from './json-path.ts';

export type RecordKind = 'csv' | 'json' | 'jsonlines';

export function recordKind(contentType: string | undefined): RecordKind | undefined {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === 'text/csv') return 'csv';
  if (media === 'application/json') return 'json';
  if (media === 'application/jsonlines' || media === 'application/x-jsonlines') return 'jsonlines';
  return undefined;
}

/** The fields of one CSV line; quoted fields lose their quotes, as a CSV reader returns them. */
export function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function csvField(value: unknown): string {
  const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(value: unknown): string {
  return Array.isArray(value) ? value.map(csvField).join(',') : csvField(value);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JobFailure(`ClientError: ${what} is not valid JSON: ${(e as Error).message}`);
  }
}

function compile(expression: string | undefined, name: string): JsonPath | undefined {
  if (!expression || expression.trim() === '$') return undefined;
  try {
    return parseJsonPath(expression);
  } catch (e) {
    throw new JobFailure(`ClientError: DataProcessing.${name} '${expression}' is not a supported JSONPath expression: ${(e as Error).message}`);
  }
}

function select(path: JsonPath, value: unknown, name: string): unknown {
  try {
    return path.select(value);
  } catch (e) {
    if (e instanceof JsonPathError) throw new JobFailure(`ClientError: DataProcessing.${name} '${path.text}' could not be applied to a record: ${e.message}`);
    throw e;
  }
}

/** The InputFilter as a function on one record's text, or undefined when it is `$` (or absent). */
export function inputFilter(expression: string | undefined, kind: RecordKind | undefined): ((record: string) => string) | undefined {
  const path = compile(expression, 'InputFilter');
  if (!path) return undefined;
  if (!kind) throw new JobFailure('ClientError: DataProcessing.InputFilter needs TransformInput.ContentType text/csv, application/json or application/jsonlines.');
  if (kind === 'csv') return (record) => toCsv(select(path, splitCsv(record), 'InputFilter'));
  return (record) => JSON.stringify(select(path, parseJson(record, 'An input record'), 'InputFilter'));
}

/** A prediction as a value to join: JSON parsed, CSV as its number or its fields. */
function outputValue(text: string, kind: RecordKind | undefined): unknown {
  if (kind === 'json' || kind === 'jsonlines') return parseJson(text, 'A prediction');
  const fields = splitCsv(text);
  const typed = fields.map((f) => (f.trim() !== '' && Number.isFinite(Number(f)) ? Number(f) : f));
  return typed.length === 1 ? typed[0] : typed;
}

/** Applied to each prediction, which must then be matched with its own input record. */
export interface OutputStage {
  /** One output record from an input record (when joining) and its prediction's text. */
  apply(input: string | undefined, output: string): string;
}

export function outputStage(dataProcessing: { JoinSource?: string; OutputFilter?: string } | undefined, inputKind: RecordKind | undefined, outputKind: RecordKind | undefined): OutputStage | undefined {
  const join = dataProcessing?.JoinSource === 'Input';
  const filter = compile(dataProcessing?.OutputFilter, 'OutputFilter');
  if (!join && !filter) return undefined;
  if (join && !inputKind) throw new JobFailure('ClientError: DataProcessing.JoinSource Input needs TransformInput.ContentType text/csv, application/json or application/jsonlines.');
  return {
    apply(input, output) {
      let joined: unknown;
      let kind: RecordKind | undefined;
      if (join && inputKind === 'csv') {
        const prediction = outputKind === 'csv' || !outputKind ? splitCsv(output) : [outputValue(output, outputKind)];
        joined = [...splitCsv(input!), ...prediction];
        kind = 'csv';
      } else if (join) {
        const record = parseJson(input!, 'An input record');
        const prediction = outputValue(output, outputKind);
        joined = record && typeof record === 'object' && !Array.isArray(record) ? { ...record, SageMakerOutput: prediction } : { SageMakerInput: record, SageMakerOutput: prediction };
        kind = 'json';
      } else {
        kind = outputKind ?? 'csv';
        joined = kind === 'csv' ? splitCsv(output) : parseJson(output, 'A prediction');
      }
      const result = filter ? select(filter, joined, 'OutputFilter') : joined;
      return kind === 'csv' ? toCsv(result) : JSON.stringify(result);
    },
  };
}

/**
 * The container's answer to a mini-batch as one prediction per record: lines for CSV and
 * JSON Lines, the elements of `predictions` (or of a top-level array) for JSON.
 */
export function splitPredictions(body: Buffer, kind: RecordKind | undefined): string[] {
  const text = body.toString('utf8');
  if (kind === 'json') {
    const parsed = parseJson(text, 'The model output');
    const items = Array.isArray(parsed) ? parsed : Array.isArray((parsed as { predictions?: unknown })?.predictions) ? (parsed as { predictions: unknown[] }).predictions : [parsed];
    return items.map((v) => JSON.stringify(v));
  }
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
}
