/**
 * GET /_kiln/experiments/trial-components/{name}/metrics[?metricName=loss]: the full time
 * series behind a trial component's metric summaries, for charts (Kiln Studio). SageMaker's
 * own API returns only summaries; this route is Kiln's, signed with SigV4 like the others
 * (service "sagemaker") and authorized as sagemaker:DescribeTrialComponent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Experiments } from '../../engine/experiments/experiments.ts';
import { authorize } from '../../iam/authorize.ts';
import type { CredentialStore } from '../../iam/credentials.ts';
import type { Principal } from '../../iam/principal.ts';
import { AwsError, isAwsError } from '../../server/errors.ts';
import { verifySignature, EMPTY_SHA256 } from '../../server/sigv4.ts';

const ROUTE = /^\/_kiln\/experiments\/trial-components\/([^/]+)\/metrics$/;

/** The series behind a trial component's metric summaries (timestamps in epoch seconds), for a principal allowed to describe it. */
export async function metricSeriesFor(experiments: Experiments, principal: Principal, name: string, metricName?: string): Promise<Record<string, unknown>> {
  const { doc } = await experiments.describeTrialComponent(name);
  authorize(principal, 'sagemaker:DescribeTrialComponent', doc.TrialComponentArn);
  const series = await experiments.metrics.series(doc.TrialComponentName, metricName);
  return {
    TrialComponentName: doc.TrialComponentName,
    Metrics: series.map((s) => ({ ...s, Points: s.Points.map((p) => ({ ...p, Timestamp: p.Timestamp.getTime() / 1000 })) })),
  };
}

export function metricSeriesRoute(experiments: Experiments, credentials: CredentialStore) {
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const match = ROUTE.exec(url.pathname);
    if (!match || req.method !== 'GET') return false;
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    try {
      const raw = req.url ?? '/';
      const q = raw.indexOf('?');
      const verified = verifySignature(
        { method: 'GET', rawPath: q < 0 ? raw : raw.slice(0, q), rawQuery: q < 0 ? '' : raw.slice(q + 1), headers: req.headersDistinct },
        (id) => credentials.secretFor(id),
        new Date(),
        { bodySha256Hex: EMPTY_SHA256, service: 'sagemaker' },
      );
      const principal = credentials.principalFor(verified.accessKeyId);
      if (!principal) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      send(200, await metricSeriesFor(experiments, principal, decodeURIComponent(match[1]!), url.searchParams.get('metricName') ?? undefined));
    } catch (e) {
      const error = isAwsError(e) ? e : new AwsError('InternalFailure', 'An internal error occurred.', 500);
      send(error.status, { __type: error.code, message: error.message });
    }
    return true;
  };
}
