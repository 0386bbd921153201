/**
 * BatchPutMetrics from JavaScript. The workspace has no @aws-sdk/client-sagemaker-metrics, so
 * this signs the rest-json request the way that client does (SigV4, service "sagemaker",
 * hashes from node:crypto as in the SDK's Node build) and sends it over keep-alive HTTP.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface MetricDatum {
  MetricName: string;
  Timestamp: Date;
  Step?: number;
  Value: number;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData) => (typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d));

/** The Checksum the signer asks for, on node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {}
}

export class MetricsClient {
  private readonly signer: SignatureV4;
  private readonly url: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(opts: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }) {
    this.url = new URL(opts.endpoint);
    this.signer = new SignatureV4({ service: 'sagemaker', region: opts.region, credentials: opts.credentials, sha256: NodeSha256 });
  }

  async batchPutMetrics(trialComponentName: string, data: MetricDatum[]): Promise<{ status: number; body: any }> {
    const body = JSON.stringify({
      TrialComponentName: trialComponentName,
      MetricData: data.map((d) => ({ ...d, Timestamp: d.Timestamp.getTime() / 1000, Value: Number.isFinite(d.Value) ? d.Value : String(d.Value) })),
    });
    return this.send('PUT', '/BatchPutMetrics', {}, body);
  }

  /** Kiln's time-series route for charts. */
  async series(trialComponentName: string, metricName?: string): Promise<{ status: number; body: any }> {
    return this.send('GET', `/_kiln/experiments/trial-components/${encodeURIComponent(trialComponentName)}/metrics`, metricName ? { metricName } : {});
  }

  close(): void {
    this.agent.destroy();
  }

  private async send(method: string, path: string, query: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
    const signed = await this.signer.sign({
      method,
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path,
      query,
      headers: { host: this.url.host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    const search = new URLSearchParams(query).toString();
    return new Promise((resolve, reject) => {
      const req = request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, method, path: search ? `${path}?${search}` : path, headers: signed.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
