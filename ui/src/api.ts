/** Kiln Studio's calls to the server's console API (/_kiln/console/), with the session cookie. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Identity {
  accessKeyId: string;
  arn: string;
  accountId: string;
  region: string;
}

async function json<T>(res: Response): Promise<T> {
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body.code ?? 'Error', body.message ?? res.statusText);
  return body as T;
}

const HEADERS = { 'content-type': 'application/json', 'x-kiln-console': '1' };

export const api = {
  signIn: (accessKeyId: string, secretAccessKey: string) =>
    fetch('/_kiln/console/session', { method: 'POST', headers: HEADERS, body: JSON.stringify({ accessKeyId, secretAccessKey }) }).then((r) => json<Identity>(r)),
  whoAmI: () => fetch('/_kiln/console/session', { headers: HEADERS }).then((r) => json<Identity>(r)),
  signOut: () => fetch('/_kiln/console/session', { method: 'DELETE', headers: HEADERS }).then((r) => json<unknown>(r)),

  /** Any operation of a Kiln service (sagemaker, s3, logs, sagemaker-runtime, ...). */
  call<T = any>(service: string, operation: string, input: Record<string, unknown> = {}): Promise<T> {
    return fetch(`/_kiln/console/api/${service}/${operation}`, { method: 'POST', headers: HEADERS, body: JSON.stringify(input) }).then((r) => json<T>(r));
  },

  /** The full time series of a trial component's metrics (Kiln's own route; SageMaker keeps only summaries). */
  metricSeries(trialComponent: string, metricName?: string): Promise<any> {
    const q = metricName ? `?metricName=${encodeURIComponent(metricName)}` : '';
    return fetch(`/_kiln/console/experiments/trial-components/${encodeURIComponent(trialComponent)}/metrics${q}`, { headers: HEADERS }).then((r) => json(r));
  },

  /** Kiln's data-flow API (/_kiln/api/<path>), through the console as the signed-in user. */
  flows<T = any>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return fetch(`/_kiln/console/flows-api/${path}`, { method, headers: HEADERS, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }).then((r) => (r.status === 204 ? ({} as T) : json<T>(r)));
  },

  invocations(endpoint: string): Promise<any> {
    return fetch(`/_kiln/console/endpoints/${encodeURIComponent(endpoint)}/invocations`, { headers: HEADERS }).then((r) => json(r));
  },

  objectUrl: (bucket: string, key: string) => `/_kiln/console/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`,

  upload(bucket: string, key: string, file: Blob): Promise<unknown> {
    return fetch(api.objectUrl(bucket, key), { method: 'PUT', headers: { 'x-kiln-console': '1', 'content-type': file.type || 'application/octet-stream' }, body: file }).then((r) => json(r));
  },
};
