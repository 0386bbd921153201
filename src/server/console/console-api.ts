/**
 * The HTTP API Kiln Studio (the web app in ui/) talks to, under /_kiln/console/:
 *
 *   POST   session                       sign in with {accessKeyId, secretAccessKey}; sets the session cookie
 *   GET    session                       who is signed in
 *   DELETE session                       sign out
 *   POST   api/<service>/<Operation>     any operation of a Kiln service, JSON in and out
 *   GET    objects/<bucket>/<key>        download an object
 *   PUT    objects/<bucket>/<key>        upload an object (the request body)
 *   GET    experiments/trial-components/<name>/metrics[?metricName=]   a run's full metric series
 *   GET    endpoints/<name>/invocations   invocation and error counts per variant since the server started
 *   *      flows-api/<path>              Kiln's data-flow API (/_kiln/api/<path>) as the signed-in principal
 *
 * Operations run through the same providers, validation and authorization as signed AWS
 * requests, as the signed-in principal. Calls other than sign-in need the session cookie
 * and the `x-kiln-console` header, which a cross-site form cannot send.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { authorize } from '../../iam/authorize.ts';
import type { CredentialStore } from '../../iam/credentials.ts';
import type { Principal } from '../../iam/principal.ts';
import type { Experiments } from '../../engine/experiments/experiments.ts';
import type { Endpoints } from '../../engine/hosting/endpoints.ts';
import { checkInput, operationHandler, type ServiceDefinition } from '../../services/registry.ts';
import { metricSeriesFor } from '../../services/sagemaker-metrics/series-route.ts';
import type { RequestContext } from '../../services/types.ts';
import { AwsError, Errors, isAwsError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { readBody } from '../request-body.ts';
import { cookieValue, sameSecret, SESSION_COOKIE, sessionCookie, SessionStore } from './sessions.ts';

export interface ConsoleDeps {
  services: ServiceDefinition[];
  credentials: CredentialStore;
  region: string;
  accountId: string;
  log: Logger;
  experiments: Experiments;
  endpoints: Endpoints;
  /** The data-flow API's handler, called with the session's principal in place of a signature. */
  flowsApi(req: IncomingMessage, res: ServerResponse, url: URL, signedIn: Principal): Promise<boolean>;
}

const PREFIX = '/_kiln/console/';
const MAX_JSON_BYTES = 8 * 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, e: unknown, log: Logger): void {
  const error = isAwsError(e) ? e : Errors.internal();
  if (!isAwsError(e)) log.error('console request failed', { error: String((e as Error)?.stack ?? e) });
  sendJson(res, error.status, { code: error.code, message: error.message });
}

/** An object key from the path, each segment percent-decoded. */
function objectPath(rest: string): { bucket: string; key: string } | undefined {
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  try {
    return { bucket: decodeURIComponent(rest.slice(0, slash)), key: rest.slice(slash + 1).split('/').map(decodeURIComponent).join('/') };
  } catch {
    return undefined;
  }
}

export class ConsoleApi {
  private readonly sessions = new SessionStore();

  constructor(private readonly deps: ConsoleDeps) {}

  /** Handles a request under /_kiln/console/; false when the path is not one of its routes. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith(PREFIX)) return false;
    const route = url.pathname.slice(PREFIX.length);
    try {
      if (route === 'session') await this.session(req, res);
      else if (route.startsWith('api/') && req.method === 'POST') await this.call(req, res, route.slice(4));
      else if (route.startsWith('objects/')) await this.object(req, res, route.slice(8));
      else if (/^endpoints\/[^/]+\/invocations$/.test(route) && req.method === 'GET') await this.invocations(req, res, route);
      else if (route.startsWith('flows-api/')) await this.flows(req, res, route.slice('flows-api/'.length), url);
      else if (route.startsWith('experiments/trial-components/') && route.endsWith('/metrics') && req.method === 'GET') await this.metricSeries(req, res, route, url);
      else return false;
    } catch (e) {
      if (!res.headersSent) sendError(res, e, this.deps.log);
      else res.destroy();
    }
    return true;
  }

  private async session(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST') {
      let body: { accessKeyId?: unknown; secretAccessKey?: unknown };
      try {
        body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
      } catch {
        throw new AwsError('ValidationException', 'Send {"accessKeyId": ..., "secretAccessKey": ...} as JSON.', 400);
      }
      const id = typeof body.accessKeyId === 'string' ? body.accessKeyId.trim() : '';
      const secret = typeof body.secretAccessKey === 'string' ? body.secretAccessKey.trim() : '';
      const known = id ? this.deps.credentials.secretFor(id) : undefined;
      const principal = known !== undefined && sameSecret(known, secret) ? this.deps.credentials.principalFor(id) : undefined;
      if (!principal) throw new AwsError('UnrecognizedClientException', 'The access key ID or secret access key is not valid.', 401);
      const { token, session } = this.sessions.create(id);
      this.deps.log.info('console sign-in', { principal: principal.arn });
      sendJson(res, 200, { accessKeyId: id, arn: principal.arn, accountId: principal.accountId, region: this.deps.region }, {
        'set-cookie': sessionCookie(token, Math.floor((session.expiresAt - Date.now()) / 1000)),
      });
      return;
    }
    if (req.method === 'DELETE') {
      this.sessions.delete(cookieValue(req.headers, SESSION_COOKIE));
      sendJson(res, 200, {}, { 'set-cookie': sessionCookie('', 0) });
      return;
    }
    if (req.method === 'GET') {
      const principal = this.principal(req, false);
      sendJson(res, 200, { accessKeyId: principal.accessKeyId, arn: principal.arn, accountId: principal.accountId, region: this.deps.region });
      return;
    }
    throw new AwsError('MethodNotAllowed', `${req.method} is not allowed on the session.`, 405);
  }

  /** The signed-in principal; API calls must also carry the console header. */
  private principal(req: IncomingMessage, requireHeader = true): Principal {
    const session = this.sessions.get(cookieValue(req.headers, SESSION_COOKIE));
    const principal = session ? this.deps.credentials.principalFor(session.accessKeyId) : undefined;
    if (!principal) throw new AwsError('UnrecognizedClientException', 'Sign in to Kiln Studio first.', 401);
    if (requireHeader && req.headers['x-kiln-console'] !== '1') throw new AwsError('AccessDeniedException', 'Console calls must carry the x-kiln-console header.', 403);
    return principal;
  }

  private context(principal: Principal, req: IncomingMessage): RequestContext {
    const requestId = randomUUID();
    return {
      requestId,
      principal,
      region: this.deps.region,
      accountId: this.deps.accountId,
      sourceIp: req.socket.remoteAddress ?? '',
      log: this.deps.log.child({ requestId, via: 'console' }),
      trailingChecksumAlgorithms: [],
      verifyPayload() {},
    };
  }

  private async run(principal: Principal, req: IncomingMessage, serviceId: string, operation: string, input: Record<string, any>) {
    const service = this.deps.services.find((s) => s.id === serviceId);
    const op = service?.model.operations.get(operation);
    if (!service || !op) throw new AwsError('UnknownOperationException', `Unknown operation ${serviceId}:${operation}.`, 400);
    const ctx = this.context(principal, req);
    checkInput(service, operation, input, ctx.requestId);
    authorize(principal, `${service.iamPrefix}:${operation}`, service.resourceArn(op, input, { region: this.deps.region, accountId: this.deps.accountId }));
    return operationHandler(service, operation)(input, ctx);
  }

  private async call(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const principal = this.principal(req);
    const [serviceId, operation, extra] = route.split('/');
    if (!serviceId || !operation || extra !== undefined) throw new AwsError('UnknownOperationException', `Unknown console route api/${route}.`, 400);
    let input: Record<string, any>;
    try {
      const text = (await readBody(req, MAX_JSON_BYTES)).toString('utf8');
      input = text.trim() ? JSON.parse(text) : {};
    } catch (e) {
      if (isAwsError(e)) throw e;
      throw new AwsError('SerializationException', 'The request body is not valid JSON.', 400);
    }
    const output = (await this.run(principal, req, serviceId, operation, input)) as Record<string, unknown>;
    if (output && typeof output.Body === 'object' && output.Body && 'pipe' in output.Body) {
      throw new AwsError('ValidationException', `Use /_kiln/console/objects/ for ${operation}.`, 400);
    }
    // Payloads (InvokeEndpoint's answer) go to the browser as text.
    sendJson(res, 200, Buffer.isBuffer(output?.Body) ? { ...output, Body: output.Body.toString('utf8') } : output);
  }

  private async invocations(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const principal = this.principal(req);
    const name = decodeURIComponent(route.split('/')[1]!);
    const described = await this.run(principal, req, 'sagemaker', 'DescribeEndpoint', { EndpointName: name });
    sendJson(res, 200, { EndpointName: name, EndpointStatus: (described as Record<string, unknown>).EndpointStatus, Variants: this.deps.endpoints.invocationCounts(name) });
  }

  private async flows(req: IncomingMessage, res: ServerResponse, rest: string, url: URL): Promise<void> {
    const principal = this.principal(req, req.method !== 'GET');
    const target = new URL(`/_kiln/api/${rest}${url.search}`, url);
    if (!(await this.deps.flowsApi(req, res, target, principal))) throw new AwsError('NotFound', `No data-flow API at ${rest}.`, 404);
  }

  /** What SageMaker's API cannot give (it keeps only summaries): every point of a run's metrics, for charts. */
  private async metricSeries(req: IncomingMessage, res: ServerResponse, route: string, url: URL): Promise<void> {
    const principal = this.principal(req);
    let name: string;
    try {
      name = decodeURIComponent(route.slice('experiments/trial-components/'.length, -'/metrics'.length));
    } catch {
      throw new AwsError('ValidationException', 'The trial component name in the path is not valid.', 400);
    }
    sendJson(res, 200, await metricSeriesFor(this.deps.experiments, principal, name, url.searchParams.get('metricName') ?? undefined));
  }

  private async object(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const principal = this.principal(req, req.method !== 'GET');
    const location = objectPath(route);
    if (!location) throw new AwsError('InvalidRequest', 'Name an object as objects/<bucket>/<key>.', 400);
    if (req.method === 'GET') {
      const out = (await this.run(principal, req, 's3', 'GetObject', { Bucket: location.bucket, Key: location.key })) as { Body: NodeJS.ReadableStream; ContentType?: string; ContentLength?: number };
      const name = location.key.split('/').pop()!.replace(/["\\\r\n]/g, '_');
      res.writeHead(200, {
        'content-type': out.ContentType ?? 'application/octet-stream',
        ...(out.ContentLength !== undefined ? { 'content-length': String(out.ContentLength) } : {}),
        'content-disposition': `attachment; filename="${name}"`,
        'x-content-type-options': 'nosniff',
      });
      out.Body.pipe(res);
      return;
    }
    if (req.method === 'PUT') {
      const out = await this.run(principal, req, 's3', 'PutObject', {
        Bucket: location.bucket,
        Key: location.key,
        Body: req,
        ContentType: req.headers['content-type'] ?? 'application/octet-stream',
      });
      sendJson(res, 200, out);
      return;
    }
    throw new AwsError('MethodNotAllowed', `${req.method} is not allowed on objects; use GET or PUT (DeleteObject through api/s3/DeleteObject).`, 405);
  }
}
