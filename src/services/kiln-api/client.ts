/** A small SigV4-signing client for Kiln's REST API (used by the `kiln` CLI and tests). */
import { createHash, createHmac } from 'node:crypto';
import { KILN_SIGNING_SERVICE } from './auth.ts';

export interface KilnApiCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export class KilnApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export class KilnApiClient {
  constructor(
    private readonly endpoint: string,
    private readonly credentials: KilnApiCredentials,
    private readonly region = 'us-east-1',
  ) {}

  /** Signs and sends a request; returns the parsed JSON answer (or text for non-JSON answers). */
  async request<T = unknown>(method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<T> {
    const url = new URL(path, this.endpoint);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    const now = new Date();
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
      host: url.host,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': sha256(payload),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(this.credentials.sessionToken ? { 'x-amz-security-token': this.credentials.sessionToken } : {}),
    };
    const signed = Object.keys(headers).sort();
    const canonicalQuery = [...url.searchParams].map(([k, v]) => [encode(k), encode(v)]).sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x! < y! ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&');
    const canonicalPath = url.pathname.split('/').map((seg) => encode(decodeURIComponent(seg))).join('/');
    const canonical = [method, canonicalPath, canonicalQuery, signed.map((h) => `${h}:${headers[h]!.trim()}\n`).join(''), signed.join(';'), headers['x-amz-content-sha256']].join('\n');
    const scope = `${date}/${this.region}/${KILN_SIGNING_SERVICE}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${this.credentials.secretAccessKey}`, date), this.region), KILN_SIGNING_SERVICE), 'aws4_request');
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
    const { host: _host, ...sent } = headers;
    const res = await fetch(url, { method, headers: sent, body: body === undefined ? undefined : payload });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const parsed = type.includes('json') && text ? JSON.parse(text) : text;
    if (!res.ok) {
      const err = (parsed ?? {}) as { code?: string; __type?: string; message?: string };
      throw new KilnApiError(res.status, err.code ?? err.__type ?? 'Error', err.message ?? (text || res.statusText));
    }
    return parsed as T;
  }
}
