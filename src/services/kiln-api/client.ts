/**
 * A small SigV4-signing client for Kiln's REST API (used by the `kiln` CLI and tests), which can
 * also make the few AWS calls the CLI needs (an S3 upload, a SageMaker JSON operation).
 */
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

export interface SignedRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: Buffer;
  headers?: Record<string, string>;
  /** The service in the credential scope: `kiln`, `s3`, `sagemaker`, … */
  service: string;
}

/** Signs a request with SigV4 (headers, payload hash) and sends it; any AWS-style service Kiln answers. */
export async function signedFetch(endpoint: string, credentials: KilnApiCredentials, region: string, request: SignedRequest): Promise<Response> {
  const url = new URL(request.path, endpoint);
  for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
  const payload = request.body ?? Buffer.alloc(0);
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': sha256(payload),
    ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
  };
  const signed = Object.keys(headers).sort();
  const canonicalQuery = [...url.searchParams].map(([k, v]) => [encode(k), encode(v)]).sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x! < y! ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalPath = url.pathname.split('/').map((seg) => encode(decodeURIComponent(seg))).join('/');
  const canonical = [request.method, canonicalPath, canonicalQuery, signed.map((h) => `${h}:${headers[h]!.trim()}\n`).join(''), signed.join(';'), headers['x-amz-content-sha256']].join('\n');
  const scope = `${date}/${region}/${request.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), request.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  const { host: _host, ...sent } = headers;
  return fetch(url, { method: request.method, headers: sent, body: request.body === undefined ? undefined : new Uint8Array(payload) });
}

/** An error answer as a KilnApiError: Kiln's `{code, message}`, or the AWS JSON protocols' `{__type, message}`. */
export async function answerOf<T>(res: Response): Promise<T> {
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const parsed = type.includes('json') && text ? JSON.parse(text) : text;
  if (!res.ok) {
    const err = (parsed && typeof parsed === 'object' ? parsed : {}) as { code?: string; __type?: string; message?: string; Message?: string };
    const code = err.code ?? err.__type?.split('#').at(-1) ?? res.headers.get('x-amzn-errortype')?.split(':')[0] ?? 'Error';
    throw new KilnApiError(res.status, code, err.message ?? err.Message ?? (text || res.statusText));
  }
  return parsed as T;
}

export class KilnApiClient {
  constructor(
    private readonly endpoint: string,
    private readonly credentials: KilnApiCredentials,
    private readonly region = 'us-east-1',
  ) {}

  /** Signs and sends a request; returns the parsed JSON answer (or text for non-JSON answers). */
  async request<T = unknown>(method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<T> {
    const res = await signedFetch(this.endpoint, this.credentials, this.region, {
      method,
      path,
      query,
      service: KILN_SIGNING_SERVICE,
      ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json' } }),
    });
    return answerOf<T>(res);
  }

  /** Calls an operation of an AWS JSON 1.1 service Kiln speaks (SageMaker's `CreateProcessingJob`, …). */
  async awsJson<T = unknown>(service: string, target: string, input: unknown): Promise<T> {
    const res = await signedFetch(this.endpoint, this.credentials, this.region, {
      method: 'POST',
      path: '/',
      service,
      body: Buffer.from(JSON.stringify(input)),
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    });
    return answerOf<T>(res);
  }

  /** Puts an object into Kiln's S3 (path-style). */
  async putObject(bucket: string, key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<void> {
    const path = `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const res = await signedFetch(this.endpoint, this.credentials, this.region, { method: 'PUT', path, service: 's3', body, headers: { 'content-type': contentType } });
    if (!res.ok) {
      const text = await res.text();
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? 'Error';
      throw new KilnApiError(res.status, code, /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? (text || res.statusText));
    }
  }
}
