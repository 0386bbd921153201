/**
 * S3 ListObjects over the index: walks keys in byte order from a lower bound and, when a key
 * rolls up into a common prefix, seeks past every key under that prefix instead of reading them.
 */
import { bytesToKey, maxBuffer, prefixUpperBound, successor } from './names.ts';
import type { ObjectRow } from './index-db.ts';

export interface KeyRange {
  /** Inclusive. */
  lower: Buffer;
  /** Exclusive. */
  upper: Buffer;
}

export interface ListSource {
  /** Rows with lower <= key < upper in key order, read lazily: the caller stops early. */
  rowsInRange(range: KeyRange): Iterable<ObjectRow>;
  anyInRange(range: KeyRange): boolean;
}

export interface ListRequest {
  prefix: string;
  delimiter: string;
  after: string | undefined;
  maxKeys: number;
}

export interface ListPage {
  rows: ObjectRow[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextAfter: string | undefined;
}

export function listPage(source: ListSource, request: ListRequest): ListPage {
  const page: ListPage = { rows: [], commonPrefixes: [], isTruncated: false, nextAfter: undefined };
  if (request.maxKeys <= 0) return page;
  const prefixBytes = Buffer.from(request.prefix, 'utf8');
  const range: KeyRange = { lower: startBound(request, prefixBytes), upper: prefixUpperBound(prefixBytes) };
  let count = 0;
  let exhausted = false;

  while (!exhausted && count < request.maxKeys) {
    exhausted = true;
    for (const row of source.rowsInRange(range)) {
      count++;
      const key = bytesToKey(row.key);
      const commonPrefix = commonPrefixOf(key, request);
      if (commonPrefix !== undefined) {
        page.commonPrefixes.push(commonPrefix);
        page.nextAfter = commonPrefix;
        // Seek past every key under the common prefix instead of reading them.
        range.lower = prefixUpperBound(Buffer.from(commonPrefix, 'utf8'));
        exhausted = false;
        break;
      }
      page.rows.push(row);
      page.nextAfter = key;
      range.lower = successor(row.key);
      if (count === request.maxKeys) {
        exhausted = false;
        break;
      }
    }
  }
  page.isTruncated = !exhausted && source.anyInRange(range);
  if (!page.isTruncated) page.nextAfter = undefined;
  return page;
}

/** The common prefix `key` rolls up into, or undefined when it is listed as itself. */
function commonPrefixOf(key: string, request: ListRequest): string | undefined {
  if (request.delimiter === '') return undefined;
  const at = key.indexOf(request.delimiter, request.prefix.length);
  return at < 0 ? undefined : key.slice(0, at + request.delimiter.length);
}

/**
 * Where listing starts: at the prefix, or just past `after`. When `after` is itself a common
 * prefix (a previous page ended on it), everything under it was already reported.
 */
function startBound(request: ListRequest, prefixBytes: Buffer): Buffer {
  if (request.after === undefined || request.after === '') return prefixBytes;
  const afterBytes = Buffer.from(request.after, 'utf8');
  const skipsSubtree = request.after.startsWith(request.prefix) && commonPrefixOf(request.after, request) === request.after;
  return maxBuffer(prefixBytes, skipsSubtree ? prefixUpperBound(afterBytes) : successor(afterBytes));
}
