/**
 * What SageMaker's XGBoost serving container does with one invocation: decode the payload
 * by Content-Type (text/csv, text/libsvm, application/json, application/jsonlines), predict,
 * and encode the predictions by Accept (text/csv, application/json, application/jsonlines).
 *
 * Numbers are written as Python writes the container's floats (repr of the float32 value
 * widened to double: `0.8520283102989197`, `3.2e-05`), so clients parse the same values.
 * Failures are ServingError with the HTTP status the container answers.
 */
import { parseFeatures } from '../../algorithms/xgboost/data.ts';
import type { BoosterModel, DenseMatrix } from '../../algorithms/xgboost/model.ts';
import { predict } from '../../algorithms/xgboost/predict.ts';

export class ServingError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ServingResult {
  contentType: string;
  body: Buffer;
}

/** Python's repr() of a float. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const e = x.toExponential(); // shortest round-trip digits, e.g. "3.2e-5"
  const [mant, expText] = e.split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

const MEDIA_JSON = 'application/json';
const MEDIA_JSONLINES = 'application/jsonlines';
const MEDIA_CSV = 'text/csv';
const ACCEPTED_OUTPUT = [MEDIA_CSV, MEDIA_JSON, MEDIA_JSONLINES, 'application/x-jsonlines'];

function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The response type for an Accept header (the first supported one; text/csv by default). */
export function chooseAccept(accept: string | undefined, fallback = MEDIA_CSV): string {
  if (!accept) return fallback;
  for (const part of accept.split(',')) {
    const m = mediaType(part);
    if (m === '*/*' || m === '') return fallback;
    if (ACCEPTED_OUTPUT.includes(m)) return m === 'application/x-jsonlines' ? MEDIA_JSONLINES : m;
  }
  throw new ServingError(406, `Accept type ${accept} is not supported. Supported types: ${[MEDIA_CSV, MEDIA_JSON, MEDIA_JSONLINES].join(', ')}`);
}

function rowsFromJsonValues(rows: unknown[], numFeature: number): DenseMatrix {
  const features: number[][] = rows.map((r, i) => {
    let v: unknown = r;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, any>;
      if (Array.isArray(o.features)) v = o.features;
      else if (o.data?.features?.values) {
        const f = o.data.features;
        if (Array.isArray(f.keys)) {
          const width = Array.isArray(f.shape) ? Number(f.shape[0]) : numFeature;
          const dense = new Array<number>(width).fill(NaN);
          f.keys.forEach((k: number, j: number) => (dense[k] = Number(f.values[j])));
          v = dense;
        } else v = f.values;
      }
    }
    if (!Array.isArray(v)) throw new ServingError(415, `Instance ${i} has no "features" array.`);
    return v.map((x) => (x === null ? NaN : Number(x)));
  });
  const cols = Math.max(numFeature, ...features.map((f) => f.length), 0);
  const values = new Float32Array(features.length * cols).fill(NaN);
  features.forEach((f, r) => {
    if (f.length > numFeature && numFeature > 0) {
      throw new ServingError(400, `Feature shape mismatch, expected: ${numFeature}, got ${f.length}`);
    }
    for (let c = 0; c < f.length; c++) values[r * cols + c] = f[c]!;
  });
  return { rows: features.length, cols, values };
}

/** Decodes a request payload into a feature matrix, as the container's input handlers do. */
export function decodePayload(body: Buffer, contentType: string | undefined, numFeature: number): DenseMatrix {
  const media = mediaType(contentType);
  if (media === MEDIA_JSON) {
    let parsed: any;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new ServingError(415, `Loading json data failed with Exception, please ensure data is in json format: ${(e as Error).message}`);
    }
    if (Array.isArray(parsed?.instances)) return rowsFromJsonValues(parsed.instances, numFeature);
    if (Array.isArray(parsed?.features)) return rowsFromJsonValues([parsed], numFeature);
    if (Array.isArray(parsed)) return rowsFromJsonValues(Array.isArray(parsed[0]) ? parsed : [parsed], numFeature);
    throw new ServingError(415, 'The JSON payload must be {"instances": [{"features": [...]}, ...]} or {"features": [...]}.');
  }
  if (media === MEDIA_JSONLINES || media === 'application/x-jsonlines') {
    const lines = body.toString('utf8').split('\n').filter((l) => l.trim());
    let rows: unknown[];
    try {
      rows = lines.map((l) => JSON.parse(l));
    } catch (e) {
      throw new ServingError(415, `Loading jsonlines data failed with Exception, please ensure data is in jsonlines format: ${(e as Error).message}`);
    }
    return rowsFromJsonValues(rows, numFeature);
  }
  const format = media === 'text/csv' || media === 'csv' ? 'csv' : 'libsvm';
  let x: DenseMatrix;
  try {
    x = parseFeatures(body, contentType ?? 'text/libsvm', numFeature || undefined);
  } catch (e) {
    const message = (e as Error).message;
    if (/not an accepted ContentType|not supported for XGBoost inference/.test(message)) {
      throw new ServingError(415, `Content type ${contentType} is not supported by this algorithm.`);
    }
    if (/features but the model has/.test(message)) {
      throw new ServingError(400, `Feature shape mismatch: ${message}`);
    }
    throw new ServingError(415, `Loading ${format} data failed with Exception, please ensure data is in ${format} format: ${message}`);
  }
  if (x.rows === 0) throw new ServingError(400, 'Invalid payload: the request body has no data rows.');
  return x;
}

/**
 * Encodes predictions (rows × groups) as the container does for an Accept type. In a batch
 * transform (the container sees SAGEMAKER_BATCH) CSV predictions go one per line.
 */
export function encodePredictions(values: Float32Array, rows: number, accept: string, batch = false): Buffer {
  const groups = rows ? values.length / rows : 1;
  const multi = groups > 1;
  const score = (r: number): string => {
    if (!multi) return pyFloat(values[r]!);
    const parts: string[] = [];
    for (let k = 0; k < groups; k++) parts.push(pyFloat(values[r * groups + k]!));
    return `[${parts.join(', ')}]`;
  };
  if (accept === MEDIA_CSV) {
    if (!multi) {
      if (batch) {
        const parts = new Array<string>(rows);
        for (let r = 0; r < rows; r++) parts[r] = pyFloat(values[r]!);
        return Buffer.from(`${parts.join('\n')}\n`);
      }
      if (rows === 1) return Buffer.from(pyFloat(values[0]!));
      const parts = new Array<string>(rows);
      for (let r = 0; r < rows; r++) parts[r] = pyFloat(values[r]!);
      return Buffer.from(parts.join(','));
    }
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) {
      const parts: string[] = [];
      for (let k = 0; k < groups; k++) parts.push(pyFloat(values[r * groups + k]!));
      lines.push(parts.join(','));
    }
    return Buffer.from(batch ? `${lines.join('\n')}\n` : lines.join('\n'));
  }
  if (accept === MEDIA_JSON) {
    const items: string[] = [];
    for (let r = 0; r < rows; r++) items.push(`{"score": ${score(r)}}`);
    return Buffer.from(`{"predictions": [${items.join(', ')}]}`);
  }
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) lines.push(`{"score": ${score(r)}}`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** One invocation of the container: payload in, predictions out (or a ServingError). */
export function serveXgboost(model: BoosterModel, body: Buffer, contentType: string | undefined, accept: string | undefined, batch = false): ServingResult {
  const out = chooseAccept(accept);
  if (!body.length) throw new ServingError(400, 'Invalid payload: the request body is empty.');
  const x = decodePayload(body, contentType, model.numFeature);
  let values: Float32Array;
  try {
    values = predict(model, x);
  } catch (e) {
    throw new ServingError(400, (e as Error).message);
  }
  return { contentType: out, body: encodePredictions(values, x.rows, out, batch) };
}
