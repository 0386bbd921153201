/**
 * Loading SageMaker XGBoost channels and inference payloads into dense float32 matrices.
 *
 * Content types are accepted as the SageMaker XGBoost container accepts them
 * ("text/csv", "csv", "text/csv; label_size=1", "text/libsvm", "text/x-libsvm", "libsvm",
 * "application/x-parquet", "parquet"; "application/x-recordio-protobuf" is refused).
 *
 * - CSV: no header, label in the first column, instance weight in the second with csv_weights=1;
 *   an empty field is a missing value (NaN), as XGBoost's CSV reader treats it. The delimiter is
 *   detected from the first line (',' unless the line has none and has '\t', ';', '|' or ' ').
 *   Parsed straight from the file's bytes into Float32Arrays, chunk by chunk.
 * - LIBSVM: `label[:weight] [qid:n] idx:val ...`; feature index = idx as written (XGBoost reads
 *   training files 0-based as given); absent features are missing (NaN), '#' starts a comment.
 * - Parquet: read with DuckDB; the first column is the label, every other column a feature; nulls
 *   are missing values. Pandas index columns (__index_level_N__) are skipped as pyarrow does.
 *
 * Values are rounded to float32 as XGBoost stores them.
 */
import { open, stat } from 'node:fs/promises';
import type { DenseMatrix, LabeledData } from './model.ts';

export type ChannelFormat = 'csv' | 'libsvm' | 'parquet' | 'recordio-protobuf';

export interface LoadChannelOptions {
  /** csv_weights=1: the CSV's second column is the instance weight. */
  csvWeights?: boolean;
}

const CONTENT_TYPES: Record<string, ChannelFormat> = {
  csv: 'csv',
  'text/csv': 'csv',
  libsvm: 'libsvm',
  'text/libsvm': 'libsvm',
  'text/x-libsvm': 'libsvm',
  parquet: 'parquet',
  'application/x-parquet': 'parquet',
  'recordio-protobuf': 'recordio-protobuf',
  'application/x-recordio-protobuf': 'recordio-protobuf',
};

/**
 * Resolves a channel or request content type as the SageMaker XGBoost container does
 * (case-insensitive, parameters after ';'; CSV allows only label_size=1). An absent content type
 * means libsvm, the container's default.
 */
export function resolveContentType(contentType: string | undefined | null): ChannelFormat {
  if (contentType === undefined || contentType === null || contentType.trim() === '') return 'libsvm';
  const [main, ...paramParts] = contentType.toLowerCase().split(';');
  const mediaType = main!.trim();
  const format = CONTENT_TYPES[mediaType];
  if (!format) {
    throw new Error(
      `${contentType} is not an accepted ContentType: ${Object.keys(CONTENT_TYPES).join(', ')}.`,
    );
  }
  if (format === 'csv') {
    for (const part of paramParts) {
      const eq = part.indexOf('=');
      const key = (eq < 0 ? part : part.slice(0, eq)).trim();
      const value = eq < 0 ? '' : part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'label_size' && value !== '1') {
        throw new Error(`${contentType} is not an accepted csv ContentType. Optional parameter label_size must be equal to 1`);
      }
    }
  }
  return format;
}

// ---------------------------------------------------------------------------------------------
// Number scanning (bytes → float32, no string allocation on the common path)

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];

const SCAN_OK = 0;
const SCAN_EMPTY = 1;
const SCAN_INVALID = 2;
/** Result of the last scanNumber call: status and the position where scanning stopped. */
let scanStatus = SCAN_OK;
let scanEnd = 0;

const BLANK = 1;
const DIGIT = 2;

/** Byte classes: 1 = blank (space, tab), 2 = digit. */
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[0x20] = BLANK;
BYTE_CLASS[0x09] = BLANK;
for (let c = 0x30; c <= 0x39; c++) BYTE_CLASS[c] = DIGIT;

function lowerAt(buf: Uint8Array, i: number): number {
  return buf[i]! | 0x20;
}

/** Matches "nan", "inf" or "infinity" (any case) at p; returns the length matched or 0. */
function matchSpecial(buf: Uint8Array, p: number, end: number): number {
  if (p + 3 > end) return 0;
  const a = lowerAt(buf, p);
  const b = lowerAt(buf, p + 1);
  const c = lowerAt(buf, p + 2);
  if (a === 0x6e && b === 0x61 && c === 0x6e) return 3; // nan
  if (a === 0x69 && b === 0x6e && c === 0x66) {
    // inf / infinity
    if (
      p + 8 <= end &&
      lowerAt(buf, p + 3) === 0x69 &&
      lowerAt(buf, p + 4) === 0x6e &&
      lowerAt(buf, p + 5) === 0x69 &&
      lowerAt(buf, p + 6) === 0x74 &&
      lowerAt(buf, p + 7) === 0x79
    ) {
      return 8;
    }
    return 3;
  }
  return 0;
}

/**
 * Scans one numeric field starting at p. Leading and trailing blanks are skipped unless blanks
 * are terminators; the field ends at a byte marked in `stop` or at `end`. Sets scanStatus
 * (ok / empty / invalid) and scanEnd (the terminator's position, or where the garbage starts).
 */
function scanNumber(buf: Uint8Array, p: number, end: number, stop: Uint8Array): number {
  while (p < end && BYTE_CLASS[buf[p]!] === BLANK && stop[buf[p]!] === 0) p++;
  const start = p;
  let c = p < end ? buf[p]! : -1;
  if (c === -1 || stop[c] !== 0) {
    scanStatus = SCAN_EMPTY;
    scanEnd = p;
    return NaN;
  }
  let negative = false;
  if (c === 0x2d || c === 0x2b) {
    negative = c === 0x2d;
    p++;
    c = p < end ? buf[p]! : -1;
  }
  let value: number;
  let mant = 0;
  let digits = 0; // significant digits held in mant
  let zeros = 0; // zeros seen after the last nonzero digit, not yet in mant
  let exp10 = 0;
  let any = false;
  let slow = false;
  while (c >= 0x30 && c <= 0x39) {
    any = true;
    const d = c - 0x30;
    if (d === 0) {
      if (mant !== 0) zeros++;
    } else if (digits + zeros + 1 > 15) {
      slow = true;
    } else {
      mant = mant * POW10[zeros + 1]! + d;
      digits += zeros + 1;
      zeros = 0;
    }
    c = ++p < end ? buf[p]! : -1;
  }
  if (c === 0x2e /* . */) {
    c = ++p < end ? buf[p]! : -1;
    while (c >= 0x30 && c <= 0x39) {
      any = true;
      const d = c - 0x30;
      exp10--;
      if (d === 0) {
        if (mant !== 0) zeros++;
      } else if (digits + zeros + 1 > 15) {
        slow = true;
      } else {
        mant = mant * POW10[zeros + 1]! + d;
        digits += zeros + 1;
        zeros = 0;
      }
      c = ++p < end ? buf[p]! : -1;
    }
  }
  if (!any) {
    const n = matchSpecial(buf, p, end);
    if (n === 0) {
      scanStatus = SCAN_INVALID;
      scanEnd = start;
      return NaN;
    }
    p += n;
    value = buf[p - 1] === 0x6e || buf[p - 1] === 0x4e ? NaN : negative ? -Infinity : Infinity;
  } else {
    if (c === 0x65 || c === 0x45 /* e E */) {
      c = ++p < end ? buf[p]! : -1;
      let expNeg = false;
      if (c === 0x2d || c === 0x2b) {
        expNeg = c === 0x2d;
        c = ++p < end ? buf[p]! : -1;
      }
      if (!(c >= 0x30 && c <= 0x39)) {
        scanStatus = SCAN_INVALID;
        scanEnd = start;
        return NaN;
      }
      let e = 0;
      while (c >= 0x30 && c <= 0x39) {
        if (e < 100000) e = e * 10 + (c - 0x30);
        c = ++p < end ? buf[p]! : -1;
      }
      exp10 += expNeg ? -e : e;
    }
    const e = exp10 + zeros;
    if (mant === 0 && !slow) {
      value = 0;
    } else if (!slow && e >= 0 && e <= 22) {
      value = mant * POW10[e]!; // exact operands, one rounding (Clinger's fast path)
    } else if (!slow && e < 0 && e >= -22) {
      value = mant / POW10[-e]!;
    } else {
      // more than 15 significant digits or a large exponent: let the engine parse it
      value = Math.abs(Number(latin1(buf, start, p)));
    }
    if (negative) value = -value;
  }
  while (p < end && BYTE_CLASS[buf[p]!] === BLANK && stop[buf[p]!] === 0) p++;
  if (p < end && stop[buf[p]!] === 0) {
    scanStatus = SCAN_INVALID;
    scanEnd = start;
    return NaN;
  }
  scanStatus = SCAN_OK;
  scanEnd = p;
  return value;
}

type Scanner = (buf: Uint8Array, p: number, end: number, stop: Uint8Array) => number;

const F32_1E8 = 1e8;
const DMLC_MAX_SIG_POS = Math.fround(3.402823466);
const DMLC_MAX_SIG_NEG = Math.fround(1.175494351);

/** An unsigned integer (BigInt) rounded to float32, ties to even, as a C cast from uint64. */
function bigToFloat32(n: bigint): number {
  if (n < 2n ** 53n) return Math.fround(Number(n));
  const bits = n.toString(2).length;
  const shift = BigInt(bits - 24);
  let q = n >> shift;
  const rem = n - (q << shift);
  const half = 1n << (shift - 1n);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  return Math.fround(Number(q) * 2 ** Number(shift));
}

/**
 * scanNumber with the arithmetic of dmlc-core's strtof, which XGBoost's CSV and LIBSVM readers
 * use for training files: integer part as uint64 → float, fraction as (double)digits / 10^n →
 * float added in float, exponent applied with a float scale (clipped at 1e38). It is not
 * correctly rounded (e.g. "7.571429" reads as 7.5714292526), and training input has to match
 * XGBoost's reading exactly for identical histograms and splits.
 */
function scanNumberDmlc(buf: Uint8Array, p: number, end: number, stop: Uint8Array): number {
  while (p < end && BYTE_CLASS[buf[p]!] === BLANK && stop[buf[p]!] === 0) p++;
  const start = p;
  let c = p < end ? buf[p]! : -1;
  if (c === -1 || stop[c] !== 0) {
    scanStatus = SCAN_EMPTY;
    scanEnd = p;
    return NaN;
  }
  let negative = false;
  if (c === 0x2d || c === 0x2b) {
    negative = c === 0x2d;
    c = ++p < end ? buf[p]! : -1;
  }
  let value: number;
  const special = c === 0x69 || c === 0x49 || c === 0x6e || c === 0x4e ? matchSpecial(buf, p, end) : 0;
  if (special > 0) {
    p += special;
    value = special === 3 && (buf[p - 1]! | 0x20) === 0x6e ? NaN : Infinity;
  } else {
    const intStart = p;
    let predec = 0;
    while (c >= 0x30 && c <= 0x39) {
      predec = predec * 10 + (c - 0x30);
      c = ++p < end ? buf[p]! : -1;
    }
    const intDigits = p - intStart;
    value =
      intDigits <= 15
        ? Math.fround(predec)
        : bigToFloat32(BigInt.asUintN(64, BigInt(latin1(buf, intStart, p))));
    let any = intDigits > 0;
    if (c === 0x2e /* . */) {
      c = ++p < end ? buf[p]! : -1;
      const fracStart = p;
      let val2 = 0;
      while (c >= 0x30 && c <= 0x39) {
        if (p - fracStart < 19) val2 = val2 * 10 + (c - 0x30);
        c = ++p < end ? buf[p]! : -1;
      }
      const kept = Math.min(p - fracStart, 19);
      any ||= p > fracStart;
      if (kept > 15) val2 = Number(BigInt(latin1(buf, fracStart, fracStart + kept)));
      value = Math.fround(value + Math.fround(val2 / POW10[kept]!));
    }
    if (!any) {
      scanStatus = SCAN_INVALID;
      scanEnd = start;
      return NaN;
    }
    if (c === 0x65 || c === 0x45 /* e E */) {
      c = ++p < end ? buf[p]! : -1;
      let frac = false;
      if (c === 0x2d || c === 0x2b) {
        frac = c === 0x2d;
        c = ++p < end ? buf[p]! : -1;
      }
      if (!(c >= 0x30 && c <= 0x39)) {
        scanStatus = SCAN_INVALID;
        scanEnd = start;
        return NaN;
      }
      let expon = 0;
      while (c >= 0x30 && c <= 0x39) {
        if (expon < 1e6) expon = expon * 10 + (c - 0x30);
        c = ++p < end ? buf[p]! : -1;
      }
      if (expon > 38) expon = 38;
      if (expon === 38 && ((!frac && value > DMLC_MAX_SIG_POS) || (frac && value < DMLC_MAX_SIG_NEG))) {
        value = frac ? DMLC_MAX_SIG_NEG : DMLC_MAX_SIG_POS;
      }
      let scale = 1;
      while (expon >= 8) {
        scale = Math.fround(scale * F32_1E8);
        expon -= 8;
      }
      while (expon > 0) {
        scale = Math.fround(scale * 10);
        expon -= 1;
      }
      value = Math.fround(frac ? value / scale : value * scale);
    }
    if (c === 0x66 || c === 0x46 /* f F suffix */) c = ++p < end ? buf[p]! : -1;
  }
  if (negative) value = -value;
  while (p < end && BYTE_CLASS[buf[p]!] === BLANK && stop[buf[p]!] === 0) p++;
  if (p < end && stop[buf[p]!] === 0) {
    scanStatus = SCAN_INVALID;
    scanEnd = start;
    return NaN;
  }
  scanStatus = SCAN_OK;
  scanEnd = p;
  return value;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** The text of the field starting at p (up to a terminator), for error messages. */
function fieldText(buf: Uint8Array, p: number, end: number, stop: Uint8Array): string {
  let q = p;
  while (q < end && stop[buf[q]!] === 0 && buf[q] !== 0x0a && buf[q] !== 0x0d && q - p < 40) q++;
  const s = Buffer.from(buf.buffer, buf.byteOffset + p, q - p).toString('utf8');
  return q - p >= 40 ? `${s}…` : s;
}

// ---------------------------------------------------------------------------------------------
// Growable typed arrays

class F32Builder {
  data: Float32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float32Array(Math.max(capacity, 16));
  }
  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = v;
  }
  grow(min: number): void {
    const next = new Float32Array(Math.max(min, Math.ceil(this.data.length * 1.5)));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  finish(): Float32Array {
    return this.length === this.data.length ? this.data : this.data.slice(0, this.length);
  }
}

class I32Builder {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(Math.max(capacity, 16));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(Math.ceil(this.data.length * 1.5));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

function allocDense(rows: number, cols: number, what: string): Float32Array {
  const n = rows * cols;
  if (n > 2 ** 32 - 1) {
    throw new Error(`${what}: ${rows} rows × ${cols} features is too large for a dense matrix (${n} values)`);
  }
  try {
    return new Float32Array(n);
  } catch (err) {
    throw new Error(`${what}: cannot allocate ${rows} × ${cols} values: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Delimiter detection (the container sniffs the first line with Python's csv.Sniffer)

const DELIMITER_CANDIDATES = [0x2c /* , */, 0x09 /* \t */, 0x3b /* ; */, 0x7c /* | */, 0x20 /* space */];

function detectDelimiter(buf: Uint8Array, start: number, end: number): number {
  for (const d of DELIMITER_CANDIDATES) {
    for (let i = start; i < end; i++) {
      if (buf[i] === d) {
        if (d !== 0x20) return d;
        // space only counts when it separates values, not when it pads them
        let j = start;
        while (j < end && buf[j] === 0x20) j++;
        let k = end;
        while (k > j && buf[k - 1] === 0x20) k--;
        for (let m = j; m < k; m++) if (buf[m] === 0x20) return 0x20;
        break;
      }
    }
  }
  return 0x2c;
}

function makeStopTable(...bytes: number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const b of bytes) t[b] = 1;
  return t;
}

function delimiterName(d: number): string {
  return d === 0x09 ? 'tab' : d === 0x20 ? 'space' : `'${String.fromCharCode(d)}'`;
}

// ---------------------------------------------------------------------------------------------
// CSV

interface CsvLayout {
  delimiter: number;
  /** Columns per row, including label and weight columns. */
  columns: number;
  hasLabel: boolean;
  hasWeight: boolean;
}

class CsvTarget {
  readonly features: number;
  rows = 0;
  capacity: number;
  values: Float32Array;
  labels: Float32Array;
  weights: Float32Array | undefined;

  constructor(
    readonly layout: CsvLayout,
    capacity: number,
  ) {
    this.features = layout.columns - (layout.hasLabel ? 1 : 0) - (layout.hasWeight ? 1 : 0);
    this.capacity = Math.max(16, capacity);
    this.values = allocDense(this.capacity, this.features, 'CSV');
    this.labels = new Float32Array(layout.hasLabel ? this.capacity : 0);
    this.weights = layout.hasWeight ? new Float32Array(this.capacity) : undefined;
  }

  grow(capacity: number): void {
    const cap = Math.max(capacity, this.rows + 1);
    const values = allocDense(cap, this.features, 'CSV');
    values.set(this.values.subarray(0, this.rows * this.features));
    this.values = values;
    if (this.layout.hasLabel) {
      const labels = new Float32Array(cap);
      labels.set(this.labels.subarray(0, this.rows));
      this.labels = labels;
    }
    if (this.weights) {
      const weights = new Float32Array(cap);
      weights.set(this.weights.subarray(0, this.rows));
      this.weights = weights;
    }
    this.capacity = cap;
  }

  trimmed<T extends Float32Array>(a: T, n: number): T {
    if (a.length === n) return a;
    // keep the spare capacity only when it is small
    return (a.length - n > n / 20 ? a.slice(0, n) : a.subarray(0, n)) as T;
  }
}

interface ParsePosition {
  file: string;
  /** Line number of the next line to parse (1-based). */
  line: number;
}

/** Estimates the final row count from progress so far, for sizing the output arrays. */
type RowEstimator = (rowsSoFar: number) => number;

/**
 * Parses complete CSV lines in buf[start, end) into the target. Blank lines are skipped.
 * Returns the number of rows parsed.
 */
function parseCsvBlock(
  buf: Uint8Array,
  start: number,
  end: number,
  t: CsvTarget,
  pos: ParsePosition,
  estimate: RowEstimator,
  scan: Scanner,
  finiteOnly: boolean,
): void {
  const { delimiter, columns, hasLabel, hasWeight } = t.layout;
  const stop = makeStopTable(delimiter, 0x0a, 0x0d);
  const nf = t.features;
  const first = (hasLabel ? 1 : 0) + (hasWeight ? 1 : 0);
  let p = start;
  while (p < end) {
    const c = buf[p]!;
    if (c === 0x0a) {
      pos.line++;
      p++;
      continue;
    }
    if (c === 0x0d) {
      if (p + 1 >= end || buf[p + 1] !== 0x0a) pos.line++;
      p++;
      continue;
    }
    // a line of blanks only is skipped like an empty one
    let q = p;
    while (q < end && (buf[q] === 0x20 || buf[q] === 0x09) && buf[q] !== delimiter) q++;
    if (q >= end || buf[q] === 0x0a || buf[q] === 0x0d) {
      p = q;
      continue;
    }
    if (t.rows === t.capacity) t.grow(Math.max(Math.ceil(t.capacity * 1.25), estimate(t.rows)));
    const row = t.rows;
    const base = row * nf;
    const values = t.values;
    let col = 0;
    for (;;) {
      const v = scan(buf, p, end, stop);
      if (scanStatus !== SCAN_OK) {
        if (scanStatus === SCAN_INVALID) {
          const text = fieldText(buf, scanEnd, end, stop);
          const hint = pos.line === 1 ? ' (SageMaker CSV input must not have a header row)' : '';
          throw new Error(`${pos.file}:${pos.line}: column ${col + 1}: non-numeric value '${text}'${hint}`);
        }
        if (col < first) {
          const what = hasLabel && col === 0 ? 'label' : 'instance weight';
          throw new Error(`${pos.file}:${pos.line}: missing ${what} in column ${col + 1}`);
        }
      }
      if (finiteOnly && scanStatus === SCAN_OK && !Number.isFinite(v)) {
        throw new Error(
          `${pos.file}:${pos.line}: column ${col + 1}: '${fieldText(buf, p, end, stop).trim()}' is not a finite number; XGBoost refuses inf/nan in training data (leave the field empty for a missing value)`,
        );
      }
      if (col < columns) {
        if (col >= first) values[base + col - first] = v;
        else if (hasLabel && col === 0) t.labels[row] = v;
        else t.weights![row] = v;
      }
      col++;
      p = scanEnd;
      if (p < end && buf[p] === delimiter) {
        p++;
        continue;
      }
      break;
    }
    if (col !== columns) {
      throw new Error(
        `${pos.file}:${pos.line}: expected ${columns} columns separated by ${delimiterName(delimiter)} (as in the first row), found ${col}`,
      );
    }
    t.rows++;
  }
}

const CHUNK_SIZE = 16 * 1024 * 1024;

/**
 * Reads a file in chunks and hands complete lines to `parse` (buf, start, end). The last line
 * may lack a newline. A UTF-8 BOM at the start of the file is skipped.
 */
async function forEachLineBlock(
  file: string,
  parse: (buf: Uint8Array, start: number, end: number) => void,
  onRead?: (bytes: number) => void,
): Promise<void> {
  const fh = await open(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(CHUNK_SIZE);
    let carry = 0;
    let atFileStart = true;
    for (;;) {
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, carry, buf.length - carry, null);
      onRead?.(bytesRead);
      let end = carry + bytesRead;
      if (atFileStart && (end >= 3 || bytesRead === 0)) {
        atFileStart = false;
        if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
          buf.copy(buf, 0, 3, end);
          end -= 3;
        }
      }
      if (bytesRead === 0) {
        if (end > 0) parse(buf, 0, end);
        return;
      }
      let lastNl = end - 1;
      while (lastNl >= carry && buf[lastNl] !== 0x0a) lastNl--;
      if (lastNl < carry) {
        carry = end; // no complete line in the new data yet
        continue;
      }
      parse(buf, 0, lastNl + 1);
      carry = end - (lastNl + 1);
      if (carry > 0) buf.copy(buf, 0, lastNl + 1, end);
    }
  } finally {
    await fh.close();
  }
}

/** Reads up to `limit` bytes from the start of a file. */
async function readHead(file: string, limit: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(limit);
    let n = 0;
    while (n < limit) {
      const { bytesRead } = await fh.read(buf, n, limit - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/** Finds the first non-blank line in a buffer: [start, end) without the terminator, or undefined. */
function firstLine(buf: Uint8Array, complete: boolean): [number, number] | undefined {
  let p = 0;
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) p = 3;
  while (p < buf.length) {
    let e = p;
    while (e < buf.length && buf[e] !== 0x0a && buf[e] !== 0x0d) e++;
    if (e === buf.length && !complete) return undefined;
    let q = p;
    while (q < e && (buf[q] === 0x20 || buf[q] === 0x09)) q++;
    if (q < e) return [p, e];
    p = e + 1;
  }
  return undefined;
}

function countFields(buf: Uint8Array, start: number, end: number, delimiter: number): number {
  let n = 1;
  for (let i = start; i < end; i++) if (buf[i] === delimiter) n++;
  return n;
}

async function loadCsvChannel(files: string[], sizes: number[], csvWeights: boolean): Promise<LabeledData> {
  // Delimiter and column count come from the first line of the first file with data.
  let layout: CsvLayout | undefined;
  let bytesPerRow = 1;
  for (let i = 0; i < files.length && !layout; i++) {
    if (sizes[i] === 0) continue;
    let limit = 1 << 20;
    for (;;) {
      const head = await readHead(files[i]!, limit);
      const complete = head.length < limit;
      const line = firstLine(head, complete);
      if (line) {
        const delimiter = detectDelimiter(head, line[0], line[1]);
        const columns = countFields(head, line[0], line[1], delimiter);
        layout = { delimiter, columns, hasLabel: true, hasWeight: csvWeights };
        let newlines = 0;
        for (let k = 0; k < head.length; k++) if (head[k] === 0x0a) newlines++;
        bytesPerRow = newlines > 0 ? head.length / newlines : head.length;
        break;
      }
      if (complete) break;
      limit *= 4;
    }
  }
  if (!layout) throw new Error(`CSV channel has no rows (files: ${files.join(', ')})`);
  const minColumns = csvWeights ? 2 : 1;
  if (layout.columns <= minColumns) {
    throw new Error(
      `CSV channel rows have ${layout.columns} column(s): need the label${csvWeights ? ', the weight (csv_weights=1)' : ''} and at least one feature`,
    );
  }
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const target = new CsvTarget(layout, Math.ceil((totalBytes / bytesPerRow) * 1.05) + 16);
  let consumed = 0;
  const estimate: RowEstimator = (rows) =>
    consumed > 0 ? Math.ceil((rows * totalBytes) / consumed * 1.05) + 64 : rows * 2;
  for (let i = 0; i < files.length; i++) {
    if (sizes[i] === 0) continue;
    const pos: ParsePosition = { file: files[i]!, line: 1 };
    await forEachLineBlock(
      files[i]!,
      (buf, start, end) => parseCsvBlock(buf, start, end, target, pos, estimate, scanNumberDmlc, true),
      (n) => {
        consumed += n;
      },
    );
  }
  if (target.rows === 0) throw new Error(`CSV channel has no rows (files: ${files.join(', ')})`);
  const rows = target.rows;
  const data: LabeledData = {
    features: { rows, cols: target.features, values: target.trimmed(target.values, rows * target.features) },
    labels: target.trimmed(target.labels, rows),
  };
  if (target.weights) data.weights = target.trimmed(target.weights, rows);
  return data;
}

// ---------------------------------------------------------------------------------------------
// LIBSVM

class SparseRows {
  labels = new F32Builder();
  weights = new F32Builder();
  rowEnds = new I32Builder();
  indices = new I32Builder(1 << 16);
  values = new F32Builder(1 << 16);
  maxIndex = -1;
  minIndex = Number.MAX_SAFE_INTEGER;
  rowsWithWeight = 0;
  firstWeightless: ParsePosition | undefined;
  firstWeighted: ParsePosition | undefined;
  get rows(): number {
    return this.rowEnds.length;
  }
}

const LIBSVM_STOP = makeStopTable(0x20, 0x09, 0x0a, 0x0d, 0x3a /* : */, 0x23 /* # */);
const MAX_FEATURE_INDEX = 2 ** 31 - 2;

/**
 * Parses LIBSVM lines in buf[start, end). With `withLabel` false (inference payloads) tokens
 * without ':' are ignored, as the SageMaker container does.
 */
function parseLibsvmBlock(
  buf: Uint8Array,
  start: number,
  end: number,
  s: SparseRows,
  pos: ParsePosition,
  withLabel: boolean,
): void {
  let p = start;
  const isBlank = (c: number) => c === 0x20 || c === 0x09;
  // training files are read with XGBoost's (dmlc) number parser, payloads as numpy parses them
  const scan: Scanner = withLabel ? scanNumberDmlc : scanNumber;
  while (p < end) {
    // skip blanks
    while (p < end && isBlank(buf[p]!)) p++;
    if (p >= end) break;
    let c = buf[p]!;
    if (c === 0x0a) {
      pos.line++;
      p++;
      continue;
    }
    if (c === 0x0d) {
      if (p + 1 >= end || buf[p + 1] !== 0x0a) pos.line++;
      p++;
      continue;
    }
    if (c === 0x23 /* # comment line */) {
      while (p < end && buf[p] !== 0x0a && buf[p] !== 0x0d) p++;
      continue;
    }
    if (withLabel) {
      const label = scan(buf, p, end, LIBSVM_STOP);
      if (scanStatus !== SCAN_OK) {
        throw new Error(
          `${pos.file}:${pos.line}: invalid label '${fieldText(buf, scanEnd, end, LIBSVM_STOP)}' (expected <label>[:<weight>] <index>:<value> ...)`,
        );
      }
      if (!Number.isFinite(label)) nonFinite(buf, p, end, pos, 'label');
      p = scanEnd;
      s.labels.push(label);
      if (p < end && buf[p] === 0x3a) {
        const w = scan(buf, p + 1, end, LIBSVM_STOP);
        if (scanStatus !== SCAN_OK) {
          throw new Error(`${pos.file}:${pos.line}: invalid instance weight '${fieldText(buf, p + 1, end, LIBSVM_STOP)}'`);
        }
        if (!Number.isFinite(w)) nonFinite(buf, p + 1, end, pos, 'instance weight');
        p = scanEnd;
        s.weights.push(w);
        s.rowsWithWeight++;
        s.firstWeighted ??= { ...pos };
      } else {
        s.weights.push(1);
        s.firstWeightless ??= { ...pos };
      }
    }
    // features
    for (;;) {
      while (p < end && isBlank(buf[p]!)) p++;
      if (p >= end) break;
      c = buf[p]!;
      if (c === 0x0a || c === 0x0d) break;
      if (c === 0x23) {
        while (p < end && buf[p] !== 0x0a && buf[p] !== 0x0d) p++;
        break;
      }
      const tokenStart = p;
      let idx = 0;
      let digits = 0;
      while (p < end && BYTE_CLASS[buf[p]!] === DIGIT) {
        if (idx <= MAX_FEATURE_INDEX) idx = idx * 10 + (buf[p]! - 0x30);
        digits++;
        p++;
      }
      if (digits === 0 || p >= end || buf[p] !== 0x3a) {
        // qid:<n> (ranking groups) is skipped; other tokens are malformed
        if (
          digits === 0 &&
          end - p > 3 &&
          lowerAt(buf, p) === 0x71 &&
          lowerAt(buf, p + 1) === 0x69 &&
          lowerAt(buf, p + 2) === 0x64 &&
          buf[p + 3] === 0x3a
        ) {
          p += 4;
          while (p < end && !isBlank(buf[p]!) && buf[p] !== 0x0a && buf[p] !== 0x0d) p++;
          continue;
        }
        if (!withLabel) {
          // the container's payload parser only looks at tokens holding ':'
          let q = tokenStart;
          let colon = false;
          while (q < end && !isBlank(buf[q]!) && buf[q] !== 0x0a && buf[q] !== 0x0d) {
            if (buf[q] === 0x3a) colon = true;
            q++;
          }
          if (!colon) {
            p = q;
            continue;
          }
        }
        throw new Error(
          `${pos.file}:${pos.line}: invalid feature '${fieldText(buf, tokenStart, end, makeStopTable(0x20, 0x09))}' (expected <index>:<value> with a non-negative integer index)`,
        );
      }
      if (idx > MAX_FEATURE_INDEX) {
        throw new Error(`${pos.file}:${pos.line}: feature index ${latin1(buf, tokenStart, p)} is too large`);
      }
      const v = scan(buf, p + 1, end, LIBSVM_STOP);
      if (scanStatus !== SCAN_OK || (scanEnd < end && buf[scanEnd] === 0x3a)) {
        throw new Error(
          `${pos.file}:${pos.line}: invalid value in feature '${fieldText(buf, tokenStart, end, makeStopTable(0x20, 0x09))}'`,
        );
      }
      if (withLabel && !Number.isFinite(v)) nonFinite(buf, tokenStart, end, pos, 'feature');
      p = scanEnd;
      s.indices.push(idx);
      s.values.push(v);
      if (idx > s.maxIndex) s.maxIndex = idx;
      if (idx < s.minIndex) s.minIndex = idx;
    }
    s.rowEnds.push(s.indices.length);
  }
}

function nonFinite(buf: Uint8Array, p: number, end: number, pos: ParsePosition, what: string): never {
  throw new Error(
    `${pos.file}:${pos.line}: ${what} '${fieldText(buf, p, end, makeStopTable(0x20, 0x09))}' is not a finite number; XGBoost refuses inf/nan in training data (leave a feature out for a missing value)`,
  );
}

/** Scatters sparse rows into a dense NaN-filled matrix, shifting indices down by `shift`. */
function densify(s: SparseRows, cols: number, shift: number, what: string): DenseMatrix {
  const rows = s.rows;
  const values = allocDense(rows, cols, what).fill(NaN);
  const ends = s.rowEnds.data;
  const idx = s.indices.data;
  const val = s.values.data;
  let k = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * cols - shift;
    const e = ends[r]!;
    for (; k < e; k++) values[base + idx[k]!] = val[k]!;
  }
  return { rows, cols, values };
}

async function loadLibsvmChannel(files: string[], sizes: number[]): Promise<LabeledData> {
  const s = new SparseRows();
  for (let i = 0; i < files.length; i++) {
    if (sizes[i] === 0) continue;
    const pos: ParsePosition = { file: files[i]!, line: 1 };
    await forEachLineBlock(files[i]!, (buf, start, end) => parseLibsvmBlock(buf, start, end, s, pos, true));
  }
  if (s.rows === 0) throw new Error(`LIBSVM channel has no rows (files: ${files.join(', ')})`);
  if (s.rowsWithWeight > 0 && s.rowsWithWeight < s.rows) {
    const a = s.firstWeighted!;
    const b = s.firstWeightless!;
    throw new Error(
      `LIBSVM channel gives instance weights (label:weight) on some rows only: ${a.file}:${a.line} has one, ${b.file}:${b.line} does not`,
    );
  }
  const features = densify(s, s.maxIndex + 1, 0, 'LIBSVM channel');
  const data: LabeledData = { features, labels: s.labels.finish() };
  if (s.rowsWithWeight > 0) data.weights = s.weights.finish();
  return data;
}

// ---------------------------------------------------------------------------------------------
// Parquet (DuckDB)

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function sqlIdentifier(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

const NUMERIC_TYPE = /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/i;

async function loadParquetChannel(files: string[], sizes: number[]): Promise<LabeledData> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const dataFiles = files.filter((_, i) => sizes[i]! > 0);
  if (dataFiles.length === 0) throw new Error(`Parquet channel has no data (files: ${files.join(', ')})`);
  const source = `read_parquet([${dataFiles.map(sqlString).join(', ')}])`;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const what = `Parquet channel (${dataFiles.length === 1 ? dataFiles[0] : `${dataFiles.length} files`})`;
  try {
    let describe;
    try {
      describe = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    } catch (err) {
      throw new Error(`${what}: cannot read: ${(err as Error).message}`);
    }
    const columns = describe
      .getRows()
      .map((r) => ({ name: String(r[0]), type: String(r[1]) }))
      .filter((c) => !/^__index_level_\d+__$/.test(c.name));
    if (columns.length < 2) {
      throw new Error(`${what}: has ${columns.length} column(s); need the label (first column) and at least one feature`);
    }
    for (const c of columns) {
      if (!NUMERIC_TYPE.test(c.type)) {
        throw new Error(`${what}: column '${c.name}' has type ${c.type}; XGBoost needs numeric columns`);
      }
    }
    const countResult = await conn.runAndReadAll(`SELECT count(*) FROM ${source}`);
    const rows = Number(countResult.getRows()[0]![0]);
    if (rows === 0) throw new Error(`${what}: has no rows`);
    const nf = columns.length - 1;
    const labels = new Float32Array(rows);
    const values = allocDense(rows, nf, what);
    const select = columns.map((c) => `CAST(${sqlIdentifier(c.name)} AS FLOAT)`).join(', ');
    const result = await conn.stream(`SELECT ${select} FROM ${source}`);
    let row = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      if (row + n > rows) throw new Error(`${what}: row count changed while reading`);
      const labelVec = chunk.getColumnVector(0);
      for (let i = 0; i < n; i++) {
        const v = labelVec.getItem(i) as number | null;
        if (v === null) throw new Error(`${what}: row ${row + i + 1} has no label (null in column '${columns[0]!.name}')`);
        labels[row + i] = v;
      }
      for (let c = 1; c <= nf; c++) {
        const vec = chunk.getColumnVector(c);
        let o = row * nf + c - 1;
        for (let i = 0; i < n; i++, o += nf) {
          const v = vec.getItem(i) as number | null;
          values[o] = v === null ? NaN : v;
        }
      }
      row += n;
    }
    if (row !== rows) throw new Error(`${what}: read ${row} rows, expected ${rows}`);
    return { features: { rows, cols: nf, values }, labels };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Loads a training/validation channel: `files` are all files under the channel folder (empty
 * files are skipped), parsed in the given order and concatenated.
 */
export async function loadChannel(
  files: string[],
  contentType: string,
  opts: LoadChannelOptions = {},
): Promise<LabeledData> {
  const format = resolveContentType(contentType);
  if (format === 'recordio-protobuf') {
    throw new Error(
      'ContentType application/x-recordio-protobuf is not supported by Kiln\'s XGBoost; use text/csv, text/libsvm or application/x-parquet',
    );
  }
  if (files.length === 0) throw new Error('channel is empty: no data files found');
  const sizes: number[] = [];
  for (const f of files) {
    const st = await stat(f);
    if (!st.isFile()) throw new Error(`channel entry ${f} is not a file`);
    sizes.push(st.size);
  }
  if (sizes.every((s) => s === 0)) throw new Error(`channel has only empty files (${files.join(', ')})`);
  switch (format) {
    case 'csv':
      return loadCsvChannel(files, sizes, opts.csvWeights === true);
    case 'libsvm':
      return loadLibsvmChannel(files, sizes);
    default:
      return loadParquetChannel(files, sizes);
  }
}

// ---------------------------------------------------------------------------------------------
// Inference payloads

function payloadBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

function checkWidth(cols: number, numFeature: number | undefined, what: string): void {
  if (numFeature !== undefined && cols > numFeature) {
    throw new Error(`${what} has ${cols} features but the model has ${numFeature}`);
  }
}

/**
 * Parses a CSV inference payload (features only, no label; empty field = missing). The
 * delimiter is detected from the first line as the container does. With numFeature, rows
 * narrower than the model are padded with missing values and wider ones refused.
 */
export function parseCsvFeatures(text: string | Uint8Array, numFeature?: number): DenseMatrix {
  const buf = payloadBytes(text);
  const line = firstLine(buf, true);
  if (!line) return { rows: 0, cols: numFeature ?? 0, values: new Float32Array(0) };
  const delimiter = detectDelimiter(buf, line[0], line[1]);
  const columns = countFields(buf, line[0], line[1], delimiter);
  checkWidth(columns, numFeature, 'CSV payload');
  const layout: CsvLayout = { delimiter, columns, hasLabel: false, hasWeight: false };
  let rowsGuess = 1;
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x0a) rowsGuess++;
  const target = new CsvTarget(layout, rowsGuess);
  const pos: ParsePosition = { file: 'payload', line: 1 };
  const start = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  parseCsvBlock(buf, start, buf.length, target, pos, (rows) => rows * 2, scanNumber, false);
  const rows = target.rows;
  const values = target.values.subarray(0, rows * columns);
  const cols = numFeature !== undefined ? Math.max(numFeature, columns) : columns;
  if (cols === columns) return { rows, cols, values };
  const padded = new Float32Array(rows * cols).fill(NaN);
  for (let r = 0; r < rows; r++) padded.set(values.subarray(r * columns, (r + 1) * columns), r * cols);
  return { rows, cols, values: padded };
}

export interface LibsvmFeatureOptions {
  /**
   * 'auto' (default, as the SageMaker container's payload parser): when every index in the
   * payload is >= 1 the indices are taken as 1-based and shifted down by one. 'never': indices
   * are used as written, as XGBoost reads training files.
   */
  oneBased?: 'auto' | 'never';
}

/**
 * Parses a LIBSVM inference payload: one row per non-empty line, `index:value` tokens are
 * features (a leading label token is ignored); absent features are missing.
 */
export function parseLibsvmFeatures(
  text: string | Uint8Array,
  numFeature?: number,
  opts: LibsvmFeatureOptions = {},
): DenseMatrix {
  const buf = payloadBytes(text);
  const s = new SparseRows();
  const pos: ParsePosition = { file: 'payload', line: 1 };
  parseLibsvmBlock(buf, 0, buf.length, s, pos, false);
  const shift = (opts.oneBased ?? 'auto') === 'auto' && s.indices.length > 0 && s.minIndex >= 1 ? 1 : 0;
  const needed = s.maxIndex + 1 - shift;
  checkWidth(needed, numFeature, 'LIBSVM payload');
  return densify(s, numFeature ?? Math.max(needed, 0), shift, 'LIBSVM payload');
}

/**
 * Parses an inference request body by content type (text/csv or text/libsvm, as the container's
 * serving accepts; recordio-protobuf is refused).
 */
export function parseFeatures(body: string | Uint8Array, contentType: string, numFeature?: number): DenseMatrix {
  const format = resolveContentType(contentType);
  switch (format) {
    case 'csv':
      return parseCsvFeatures(body, numFeature);
    case 'libsvm':
      return parseLibsvmFeatures(body, numFeature);
    default:
      throw new Error(`Content-type ${contentType} is not supported for XGBoost inference; use text/csv or text/libsvm.`);
  }
}
