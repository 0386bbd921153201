/**
 * S3 virtual-hosted-style addressing: `<bucket>.localhost:9555/<key>` or
 * `<bucket>.s3.<anything>/<key>` is rewritten to path style `/<bucket>/<key>`.
 */
import { isIP } from 'node:net';

export function bucketFromHost(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const hostname = hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  if (!hostname || isIP(hostname) || hostname === 'localhost') return undefined;
  if (hostname.endsWith('.localhost')) {
    const label = hostname.slice(0, -'.localhost'.length).replace(/\.s3$/, '');
    return label && label !== 's3' ? label : undefined;
  }
  const at = hostname.lastIndexOf('.s3.');
  if (at > 0) return hostname.slice(0, at);
  const dashed = /^(.+)\.s3-[a-z0-9-]+\./.exec(hostname);
  return dashed?.[1];
}
