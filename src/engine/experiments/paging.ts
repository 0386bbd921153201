/** Offset paging for lists assembled in memory (List* and Search). */
import { AwsError } from '../../server/errors.ts';

export function pageOf<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined, defaultMax = 10): { page: T[]; nextToken?: string } {
  let start = 0;
  if (nextToken) {
    const text = Buffer.from(nextToken, 'base64url').toString('utf8');
    start = Number(text.slice('offset:'.length));
    if (!text.startsWith('offset:') || !Number.isInteger(start) || start < 0) throw new AwsError('ValidationException', 'The NextToken provided is invalid.');
  }
  const max = maxResults ?? defaultMax;
  const page = items.slice(start, start + max);
  return { page, ...(start + max < items.length ? { nextToken: Buffer.from(`offset:${start + max}`).toString('base64url') } : {}) };
}
