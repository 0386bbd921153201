/**
 * BatchPutMetrics from JavaScript. The workspace has no @aws-sdk/client-sagemaker-metrics, so
 * this signs the rest-json request the way that client does (SigV4, service "sagemaker").
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface MetricDatum {
  MetricName: string;
  Timestamp: Date;
  Step?: number;
  Value: number;
}

export class MetricsClient {
  private readonly signer: SignatureV4;
  private readonly url: URL;

  constructor(opts: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }) {
    this.url = new URL(opts.endpoint);
    this.signer = new SignatureV4({ service: 'sagemaker', region: opts.region, credentials: opts.credentials, sha256: Sha256 });
  }

  async batchPutMetrics(trialComponentName: string, data: MetricDatum[]): Promise<{ status: number; body: any }> {
    const body = JSON.stringify({
      TrialComponentName: trialComponentName,
      MetricData: data.map((d) => ({ ...d, Timestamp: d.Timestamp.getTime() / 1000, Value: Number.isFinite(d.Value) ? d.Value : String(d.Value) })),
    });
    const request = await this.signer.sign({
      method: 'PUT',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path: '/BatchPutMetrics',
      headers: { host: this.url.host, 'content-type': 'application/json' },
      body,
    });
    const res = await fetch(new URL('/BatchPutMetrics', this.url), { method: 'PUT', headers: request.headers as Record<string, string>, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }

  /** Kiln's time-series route for charts. */
  async series(trialComponentName: string, metricName?: string): Promise<{ status: number; body: any }> {
    const path = `/_kiln/experiments/trial-components/${encodeURIComponent(trialComponentName)}/metrics`;
    const request = await this.signer.sign({
      method: 'GET',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path,
      query: metricName ? { metricName } : {},
      headers: { host: this.url.host },
    });
    const target = new URL(path, this.url);
    if (metricName) target.searchParams.set('metricName', metricName);
    const res = await fetch(target, { headers: request.headers as Record<string, string> });
    return { status: res.status, body: await res.json() };
  }
}
