/**
 * What Kiln works out about a CSV file before DuckDB reads it: its encoding and delimiter, and,
 * when DuckDB refuses the file, the first line that breaks the CSV structure (DuckDB's own errors
 * do not always say where).
 */
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';

export type CsvEncoding = 'utf-8' | 'utf-16' | 'latin-1';

const SNIFF_BYTES = 1 << 20;

async function head(file: string, bytes = SNIFF_BYTES): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** UTF-16 by its byte-order mark; UTF-8 when the first megabyte decodes as UTF-8; else Latin-1. */
export async function detectEncoding(file: string): Promise<CsvEncoding> {
  const buf = await head(file);
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) return 'utf-16';
  // A cut in the middle of a multi-byte character at the end of the sample is not an error.
  let end = buf.length;
  if (end === SNIFF_BYTES) while (end > 0 && (buf[end - 1]! & 0xc0) === 0x80) end--;
  if (end === SNIFF_BYTES && end > 0 && buf[end - 1]! >= 0xc0) end--;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, end));
    return 'utf-8';
  } catch {
    return 'latin-1';
  }
}

/** The delimiter among , ; tab | that splits the header line into the most fields. */
export async function detectDelimiter(file: string): Promise<string> {
  const text = (await head(file, 64 * 1024)).toString('latin1');
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t', '|']) {
    const count = firstLine.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

export interface CsvProblem {
  line: number;
  message: string;
}

/**
 * Scans a CSV file with RFC 4180 quoting and reports the first record whose field count differs
 * from the first record's, or an unterminated quoted field. Line numbers are 1-based physical lines.
 */
export async function findMalformedLine(file: string, delimiter: string, quote = '"'): Promise<CsvProblem | undefined> {
  const d = delimiter.charCodeAt(0);
  const q = quote.charCodeAt(0);
  let line = 1;
  let recordStartLine = 1;
  let fields = 1;
  let expected = -1;
  let inQuotes = false;
  let quoteStartLine = 0;
  let fieldStart = true;
  let afterQuote = false;
  let recordHasContent = false;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (inQuotes) {
        if (c === q) {
          inQuotes = false;
          afterQuote = true;
        } else if (c === 0x0a) line++;
        continue;
      }
      if (c === q) {
        if (fieldStart) {
          inQuotes = true;
          quoteStartLine = line;
          fieldStart = false;
          recordHasContent = true;
          continue;
        }
        if (afterQuote) {
          // A doubled quote inside a quoted field.
          inQuotes = true;
          afterQuote = false;
          continue;
        }
        return { line, message: `a quote appears inside an unquoted field` };
      }
      if (c === d) {
        fields++;
        fieldStart = true;
        afterQuote = false;
        recordHasContent = true;
        continue;
      }
      if (c === 0x0a) {
        if (recordHasContent || fields > 1) {
          if (expected < 0) expected = fields;
          else if (fields !== expected) {
            return { line: recordStartLine, message: `expected ${expected} fields (as in the header), found ${fields}` };
          }
        }
        line++;
        recordStartLine = line;
        fields = 1;
        fieldStart = true;
        afterQuote = false;
        recordHasContent = false;
        continue;
      }
      if (c === 0x0d) continue;
      if (afterQuote) return { line, message: `characters follow a closing quote` };
      fieldStart = false;
      recordHasContent = true;
    }
  }
  if (inQuotes) return { line: quoteStartLine, message: 'a quoted field is never closed' };
  if ((recordHasContent || fields > 1) && expected >= 0 && fields !== expected) {
    return { line: recordStartLine, message: `expected ${expected} fields (as in the header), found ${fields}` };
  }
  return undefined;
}
