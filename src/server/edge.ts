/**
 * The edge: one HTTP handler for every service. Its stages, in order:
 *   route (which service) → authenticate (SigV4) → read body → resolve operation →
 *   parse + validate → authorize → provider → serialize → audit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import type { KilnConfig } from '../config.ts';
import { authorize } from '../iam/authorize.ts';
import type { AuditLog } from '../iam/audit.ts';
import type { CredentialStore } from '../iam/credentials.ts';
import type { Principal } from '../iam/principal.ts';
import { checkInput, operationHandler, type ServiceDefinition } from '../services/registry.ts';
import type { RequestContext } from '../services/types.ts';
import type { Checksums } from '../store/objects/types.ts';
import { decodeAwsChunked } from './aws-chunked.ts';
import type { ResolvedOperation } from './codecs/codec.ts';
import { AwsError, Errors, isAwsError } from './errors.ts';
import { header, type KilnRequest, type KilnResponse } from './http-types.ts';
import type { Logger } from './logger.ts';
import { readBody } from './request-body.ts';
import { parseAuthService, payloadMismatchError, verifySignature, type VerifiedSignature } from './sigv4.ts';
import { bucketFromHost } from './virtual-host.ts';

export interface EdgeDeps {
  config: KilnConfig;
  services: ServiceDefinition[];
  credentials: CredentialStore;
  audit: AuditLog;
  log: Logger;
  /** Kiln's own endpoints under /_kiln/ (health, Kiln Studio's API). */
  internal(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** Unsigned GETs a browser makes (Kiln Studio's pages); true when answered. */
  browser?(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
}

export function createEdge(deps: EdgeDeps) {
  const { config, services, log } = deps;
  const byTarget = new Map(services.filter((s) => s.model.metadata.targetPrefix).map((s) => [s.model.metadata.targetPrefix!, s]));
  const s3 = services.find((s) => s.id === 's3');

  function routeService(req: KilnRequest, scopeService: string | undefined): ServiceDefinition | undefined {
    const target = header(req.headers, 'x-amz-target');
    if (target) return byTarget.get(target.split('.')[0]!);
    if (!scopeService) return s3;
    const candidates = services.filter((s) => s.signingName === scopeService && !s.model.metadata.targetPrefix);
    if (candidates.length <= 1) return candidates[0];
    return candidates.find((s) => s.codec.resolveOperation(s.model, req)) ?? candidates[0];
  }

  return async function handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const url = new URL(raw.url ?? '/', 'http://kiln.local');
    if (url.pathname.startsWith('/_kiln/') && (await deps.internal(raw, res, url))) return;
    if ((raw.method === 'GET' || raw.method === 'HEAD') && !raw.headers.authorization && !url.searchParams.has('X-Amz-Signature') && deps.browser?.(raw, res, url)) return;

    const queryIndex = (raw.url ?? '').indexOf('?');
    const rawPathOnWire = queryIndex < 0 ? (raw.url ?? '/') : raw.url!.slice(0, queryIndex);
    const rawQuery = queryIndex < 0 ? '' : raw.url!.slice(queryIndex + 1);
    const req: KilnRequest = {
      id: requestId,
      method: raw.method ?? 'GET',
      rawPath: rawPathOnWire,
      rawQuery,
      query: new URLSearchParams(rawQuery),
      headers: raw.headers,
    };
    const sourceIp = raw.socket.remoteAddress ?? '';
    const signedParts = { method: req.method, rawPath: rawPathOnWire, rawQuery, headers: raw.headersDistinct };
    const scope = parseAuthService(signedParts);
    const service = routeService(req, scope?.service);
    if (service?.id === 's3') {
      const bucket = bucketFromHost(header(raw.headers, 'host'));
      if (bucket) req.rawPath = `/${encodeURIComponent(bucket)}${rawPathOnWire === '/' ? '' : rawPathOnWire}`;
    }

    let principal: Principal | undefined;
    let resolved: ResolvedOperation | undefined;
    let resourceArn = '*';
    let response: KilnResponse;
    try {
      if (!service) {
        throw new AwsError('UnknownServiceException', `Kiln does not serve the service '${scope?.service ?? header(raw.headers, 'x-amz-target')}'.`, 400);
      }
      resolved = service.codec.resolveOperation(service.model, req);
      const streaming = !!resolved && service.codec.streamsInput(service.model, resolved.operation);

      let verified: VerifiedSignature;
      if (service.id === 's3' || streaming) {
        verified = verifySignature(signedParts, (id) => deps.credentials.secretFor(id), new Date(), { service: service.signingName });
        if (streaming) {
          req.bodyStream = isChunked(raw, verified) ? decodeAwsChunked(raw, verified, raw.headers) : raw;
        } else {
          req.body = await readBody(isChunked(raw, verified) ? decodeAwsChunked(raw, verified, raw.headers) : raw, config.maxBodyBytes);
          if (verified.payload.kind === 'sha256') {
            const actual = sha256Hex(req.body);
            if (actual !== verified.payload.hex) throw payloadMismatchError(verified, verified.payload.hex, actual);
          }
        }
      } else {
        req.body = await readBody(raw, config.maxBodyBytes);
        verified = verifySignature(signedParts, (id) => deps.credentials.secretFor(id), new Date(), { bodySha256Hex: sha256Hex(req.body), service: service.signingName });
      }
      // The query protocol names its operation in the body, which is only read now.
      resolved ??= service.codec.resolveOperation(service.model, req);
      principal = deps.credentials.principalFor(verified.accessKeyId);
      if (!principal) throw Errors.internal('no principal for a verified key');

      if (!resolved) {
        if (service.id === 's3') throw new AwsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, { fields: { Method: req.method, ResourceType: 'OBJECT' } });
        throw Errors.unknownOperation(service.codec.describeRequest(req));
      }
      const operation = resolved.operation;
      const input = service.codec.parseInput(service.model, resolved, req);
      checkInput(service, operation.name, input, requestId);
      resourceArn = service.resourceArn(operation, input, { region: config.region, accountId: config.accountId });
      authorize(principal, `${service.iamPrefix}:${operation.name}`, resourceArn);

      const handler = operationHandler(service, operation.name);
      const ctx = requestContext(requestId, principal, sourceIp, verified, req, log.child({ requestId }));
      const output = await handler(input, ctx);
      response = service.codec.serializeOutput(service.model, operation, output, requestId);
    } catch (e) {
      const error = toAwsError(e, service?.id === 's3');
      if (error.status >= 500 && error.status !== 501) log.error('request failed', { requestId, error: String((e as Error)?.stack ?? e) });
      response = service
        ? service.codec.serializeError(service.model, error, requestId, req)
        : { status: error.status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: JSON.stringify({ __type: error.code, message: error.message }) };
      if (req.bodyStream && !req.bodyStream.readableEnded) req.bodyStream.resume();
    }

    if (service && resolved && principal && service.isMutating(resolved.operation)) {
      deps.audit.record({
        time: new Date().toISOString(),
        principal: principal.arn,
        action: `${service.iamPrefix}:${resolved.operation.name}`,
        resource: resourceArn,
        result: response.status < 400 ? 'success' : 'failure',
        errorCode: response.status < 400 ? undefined : response.headers['x-amzn-errortype'],
        requestId,
        sourceIp,
      });
    }
    await send(raw, res, response);
    log.info('request', {
      requestId,
      service: service?.id,
      operation: resolved?.operation.name,
      status: response.status,
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      principal: principal?.arn,
    });
  };

  function requestContext(requestId: string, principal: Principal, sourceIp: string, verified: VerifiedSignature, req: KilnRequest, childLog: Logger): RequestContext {
    const trailer = header(req.headers, 'x-amz-trailer') ?? '';
    const trailingChecksumAlgorithms = trailer
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t.startsWith('x-amz-checksum-'))
      .map((t) => t.slice('x-amz-checksum-'.length).toUpperCase());
    return {
      requestId,
      principal,
      region: config.region,
      accountId: config.accountId,
      sourceIp,
      log: childLog,
      trailingChecksumAlgorithms,
      verifyPayload(digest) {
        if (verified.payload.kind === 'sha256' && digest.sha256Hex !== verified.payload.hex) {
          throw payloadMismatchError(verified, verified.payload.hex, digest.sha256Hex);
        }
        const stream = req.bodyStream as (Readable & { trailers?: Record<string, string> }) | undefined;
        for (const [name, value] of Object.entries(stream?.trailers ?? {})) {
          if (!name.startsWith('x-amz-checksum-')) continue;
          const algorithm = name.slice('x-amz-checksum-'.length).toUpperCase() as keyof Checksums;
          const computed = digest.checksums[algorithm];
          if (computed !== undefined && computed !== value) {
            throw new AwsError('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`, 400);
          }
        }
      },
    };
  }
}

function isChunked(raw: IncomingMessage, verified: VerifiedSignature): boolean {
  return verified.payload.kind === 'streaming-signed' || verified.payload.kind === 'streaming-unsigned-trailer'
    || String(raw.headers['content-encoding'] ?? '').split(',').some((e) => e.trim() === 'aws-chunked');
}

const sha256Hex = (body: Buffer) => createHash('sha256').update(body).digest('hex');

function toAwsError(e: unknown, s3: boolean): AwsError {
  if (isAwsError(e)) return e;
  if (s3) return new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500);
  return Errors.internal();
}

async function send(raw: IncomingMessage, res: ServerResponse, response: KilnResponse): Promise<void> {
  const headers = { ...response.headers };
  const body = response.body;
  const noBody = raw.method === 'HEAD' || response.status === 204 || response.status === 304;
  if (!(body instanceof Readable)) {
    const bytes = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    if (!noBody || headers['content-length'] === undefined) headers['content-length'] = String(noBody ? 0 : bytes.length);
    if (response.status === 204 || response.status === 304) delete headers['content-length'];
    res.writeHead(response.status, headers);
    res.end(noBody ? undefined : bytes);
    return;
  }
  res.writeHead(response.status, headers);
  if (noBody) {
    body.destroy();
    res.end();
    return;
  }
  await new Promise<void>((resolve) => pipeline(body, res, () => resolve()));
}
