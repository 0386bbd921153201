/** HTTP semantics S3 layers on GetObject/HeadObject: byte ranges and conditional requests. */
import { AwsError } from '../../server/errors.ts';
import type { ByteRange, ObjectMeta } from '../../store/objects/types.ts';

/** Parses a single `bytes=` range; unsupported forms are ignored (whole object), as S3 does. */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw invalidRange(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw invalidRange(size);
  return { start, end };
}

const invalidRange = (size: number) =>
  new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, {
    fields: { ActualObjectSize: size },
    headers: { 'content-range': `bytes */${size}` },
  });

const unquote = (etag: string) => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

export interface Conditions {
  IfMatch?: string;
  IfNoneMatch?: string;
  IfModifiedSince?: Date;
  IfUnmodifiedSince?: Date;
}

/** Applies If-Match / If-None-Match / If-(Un)Modified-Since in RFC 7232's order. */
export function checkConditions(meta: ObjectMeta, c: Conditions): void {
  const etag = unquote(meta.etag);
  const matches = (list: string) => list.split(',').some((t) => t.trim() === '*' || unquote(t) === etag);
  const failed = () => new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { fields: { Condition: 'If-Match' } });
  const notModified = () => new AwsError('NotModified', 'Not Modified', 304, { headers: { etag: meta.etag, 'last-modified': meta.lastModified.toUTCString() } });
  if (c.IfMatch !== undefined) {
    if (!matches(c.IfMatch)) throw failed();
  } else if (c.IfUnmodifiedSince && seconds(meta.lastModified) > seconds(c.IfUnmodifiedSince)) {
    throw failed();
  }
  if (c.IfNoneMatch !== undefined) {
    if (matches(c.IfNoneMatch)) throw notModified();
  } else if (c.IfModifiedSince && seconds(meta.lastModified) <= seconds(c.IfModifiedSince)) {
    throw notModified();
  }
}
