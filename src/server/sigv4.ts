/**
 * Server-side verification of AWS Signature Version 4: the Authorization header form and
 * presigned URLs (query-string form), plus S3's legacy version 2 presigned URLs, which
 * boto3 and the AWS CLI still generate by default. Built from the AWS documentation:
 * canonical request -> string to sign -> HMAC chain signing key. The body is not read here;
 * `VerifiedSignature.payload` says what the caller must check it against (a SHA-256, the
 * aws-chunked signature chain in ./aws-chunked.ts, or nothing).
 *
 * Errors come in three flavours, chosen by the service in the credential scope: S3 (XML
 * codes such as SignatureDoesNotMatch), JSON services (InvalidSignatureException, ...)
 * and the query-protocol services (STS, IAM, CloudWatch: SignatureDoesNotMatch,
 * InvalidClientTokenId, ...), each worded as that family of AWS services words them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AwsError } from './errors.ts';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_PRESIGN_EXPIRES = 604800;
const DEFAULT_MAX_SKEW_SECONDS = 900;

export interface SignedRequestParts {
  method: string;
  /** The raw request path exactly as received on the wire (still percent-encoded), without the query. */
  rawPath: string;
  /** The raw query string as received (without '?'), may be ''. */
  rawQuery: string;
  /**
   * Lower-cased header names. Pass Node's `req.headersDistinct` to keep repeated headers
   * apart (joined with ','); `req.headers` also works but Node joins repeats with ', '.
   */
  headers: Record<string, string | string[] | undefined>;
}

export type PayloadCheck =
  | { kind: 'sha256'; hex: string }
  | { kind: 'unsigned' }
  | { kind: 'streaming-signed'; trailer: boolean; seedSignature: string; signingKey: Buffer; scope: string; amzDate: string }
  | { kind: 'streaming-unsigned-trailer' };

export interface VerifiedSignature {
  /** 2 only for S3 presigned URLs in the legacy query form (AWSAccessKeyId/Signature/Expires) boto3 and the CLI still produce. */
  signatureVersion: 4 | 2;
  accessKeyId: string;
  /** From the credential scope ('' for signature version 2, which has none). */
  region: string;
  service: string;
  /** yyyymmdd of the credential scope. */
  date: string;
  requestTime: Date;
  presigned: boolean;
  /** X-Amz-Security-Token (header or query), for the caller to check against temporary credentials. */
  sessionToken?: string;
  signedHeaders: string[];
  /** What the body must be checked against. */
  payload: PayloadCheck;
}

export interface VerifyOptions {
  maxSkewSeconds?: number;
  /**
   * SHA-256 (hex) of the body the caller has already buffered. Needed for non-S3 header
   * auth without x-amz-content-sha256 (boto3 sends none for JSON/query services); when
   * both are present a mismatch is refused here. For non-S3 presigned URLs it is tried
   * next to UNSIGNED-PAYLOAD (absent: the empty-body hash).
   */
  bodySha256Hex?: string;
  /** Signing name of the service the request was routed to; picks the error flavour when the request carries no credential scope. */
  service?: string;
}

// ---------------------------------------------------------------------------------------
// Error flavours

export type AuthFlavour = 's3' | 'json' | 'query';

const QUERY_SERVICES = new Set(['sts', 'iam', 'monitoring', 'autoscaling', 'sns', 'ec2', 'rds', 'cloudformation', 'elasticloadbalancing', 'ses']);

export function authFlavour(service: string | undefined): AuthFlavour {
  if (service === 's3') return 's3';
  return service && QUERY_SERVICES.has(service) ? 'query' : 'json';
}

const S3_BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const SERVICE_BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** ISO 8601 basic (20260101T000000Z), as in X-Amz-Date. */
export const amzDate = (d: Date): string => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function missingAuthenticationError(service: string | undefined): AwsError {
  switch (authFlavour(service)) {
    case 's3': return new AwsError('AccessDenied', 'Access Denied', 403);
    case 'query': return new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    default: return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  }
}

function unknownKeyError(service: string, accessKeyId: string): AwsError {
  switch (authFlavour(service)) {
    case 's3':
      return new AwsError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403, {
        fields: { AWSAccessKeyId: accessKeyId },
      });
    case 'query': return new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    default: return new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403);
  }
}

function badSignatureError(
  service: string,
  detail: { accessKeyId: string; stringToSign: string; canonicalRequest: string; signature: string },
): AwsError {
  switch (authFlavour(service)) {
    case 's3':
      return new AwsError('SignatureDoesNotMatch', S3_BAD_SIGNATURE, 403, {
        fields: {
          AWSAccessKeyId: detail.accessKeyId,
          StringToSign: detail.stringToSign,
          SignatureProvided: detail.signature,
          CanonicalRequest: detail.canonicalRequest,
        },
      });
    case 'query': return new AwsError('SignatureDoesNotMatch', SERVICE_BAD_SIGNATURE, 403);
    default: return new AwsError('InvalidSignatureException', SERVICE_BAD_SIGNATURE, 403);
  }
}

function skewError(service: string, rawTime: string, requestTime: Date, now: Date, maxSkewSeconds: number): AwsError {
  const flavour = authFlavour(service);
  if (flavour === 's3') {
    return new AwsError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', 403, {
      fields: { RequestTime: rawTime, ServerTime: isoSeconds(now), MaxAllowedSkewMilliseconds: maxSkewSeconds * 1000 },
    });
  }
  const minutes = `${Math.round(maxSkewSeconds / 60)} min.`;
  const message = requestTime < now
    ? `Signature expired: ${amzDate(requestTime)} is now earlier than ${amzDate(new Date(now.getTime() - maxSkewSeconds * 1000))} (${amzDate(now)} - ${minutes})`
    : `Signature not yet current: ${amzDate(requestTime)} is still later than ${amzDate(new Date(now.getTime() + maxSkewSeconds * 1000))} (${amzDate(now)} + ${minutes})`;
  return new AwsError(flavour === 'query' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException', message, 403);
}

function presignExpiredError(service: string, expiresParam: string, expiresAt: Date, now: Date): AwsError {
  const flavour = authFlavour(service);
  if (flavour === 's3') {
    return new AwsError('AccessDenied', 'Request has expired', 403, {
      fields: { 'X-Amz-Expires': expiresParam, Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(now) },
    });
  }
  return new AwsError(
    flavour === 'query' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException',
    `Signature expired: ${amzDate(expiresAt)} is now earlier than ${amzDate(now)}`,
    403,
  );
}

function malformedError(service: string | undefined, presigned: boolean, message: string): AwsError {
  switch (authFlavour(service)) {
    case 's3':
      return presigned
        ? new AwsError('AuthorizationQueryParametersError', message, 400)
        : new AwsError('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`, 400);
    case 'query': return new AwsError('IncompleteSignature', message, 400);
    default: return new AwsError('IncompleteSignatureException', message, 400);
  }
}

/** The error for a body whose SHA-256 differs from the one the request was signed with. */
export function payloadMismatchError(signed: { service: string }, clientHex: string, computedHex: string): AwsError {
  switch (authFlavour(signed.service)) {
    case 's3':
      return new AwsError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400, {
        fields: { ClientComputedContentSHA256: clientHex, S3ComputedContentSHA256: computedHex },
      });
    case 'query': return new AwsError('SignatureDoesNotMatch', SERVICE_BAD_SIGNATURE, 403);
    default: return new AwsError('InvalidSignatureException', SERVICE_BAD_SIGNATURE, 403);
  }
}

/** Throws unless the body's SHA-256 is what `verified.payload` requires (no-op for unsigned/streaming payloads). */
export function assertPayloadHash(verified: VerifiedSignature, computedHex: string): void {
  if (verified.payload.kind === 'sha256' && verified.payload.hex !== computedHex.toLowerCase()) {
    throw payloadMismatchError(verified, verified.payload.hex, computedHex.toLowerCase());
  }
}

// ---------------------------------------------------------------------------------------
// Encoding helpers

const HEX = '0123456789ABCDEF';

const isUnreserved = (b: number): boolean =>
  (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;

/** RFC 3986 percent-encoding of every byte outside the unreserved set, upper-case hex (as SigV4 wants). */
export function uriEncode(bytes: Uint8Array | string): string {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  let out = '';
  for (const b of buf) out += isUnreserved(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

const hexValue = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;

/** Percent-decodes to bytes; a '%' not followed by two hex digits stays literal. '+' stays '+'. */
export function uriDecode(s: string): Buffer {
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const hi = src[i] === 0x25 && i + 2 < src.length ? hexValue(src[i + 1]!) : -1;
    const lo = hi >= 0 ? hexValue(src[i + 2]!) : -1;
    if (lo >= 0) {
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else {
      out[n++] = src[i]!;
    }
  }
  return out.subarray(0, n);
}

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Uint8Array | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

const signingKeys = new Map<string, Buffer>();

/** The SigV4 signing key; derived once per secret, day, region and service (as SDKs cache it). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
    if (signingKeys.size >= 1024) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

function safeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

// ---------------------------------------------------------------------------------------
// Parsing

interface QueryParam { name: string; value: string; encName: string; encValue: string }

function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (!rawQuery) return params;
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const nameBytes = uriDecode(rawName);
    const valueBytes = uriDecode(rawValue);
    params.push({
      name: nameBytes.toString('utf8'),
      value: valueBytes.toString('utf8'),
      encName: uriEncode(nameBytes),
      encValue: uriEncode(valueBytes),
    });
  }
  return params;
}

function canonicalQuery(params: QueryParam[], skipSignature: boolean): string {
  return params
    .filter((p) => !(skipSignature && p.name === 'X-Amz-Signature'))
    .map((p) => [p.encName, p.encValue] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}

const headerValue = (headers: SignedRequestParts['headers'], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

const canonicalHeaderValue = (v: string | string[] | undefined): string =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => x.trim().replace(/\s+/g, ' ')).join(',');

/**
 * The canonical URI candidates for a wire path: as received; re-encoded once per segment
 * (covers clients that send e.g. '!' raw but sign '%21'); and, outside S3, the
 * normalized, once-more-encoded form that non-S3 signers produce.
 */
function canonicalPaths(rawPath: string, s3: boolean): string[] {
  const path = rawPath || '/';
  const reencoded = path.split('/').map((seg) => uriEncode(uriDecode(seg))).join('/');
  const candidates = [path, reencoded];
  if (!s3) {
    const segments: string[] = [];
    for (const seg of path.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') segments.pop();
      else segments.push(seg);
    }
    const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length && path.endsWith('/') ? '/' : ''}`;
    candidates.push(normalized.split('/').map((seg) => uriEncode(seg)).join('/'));
  }
  return [...new Set(candidates)];
}

interface Credential { accessKeyId: string; date: string; region: string; service: string; terminator: string }

function parseCredential(value: string): Credential | undefined {
  const parts = value.split('/');
  if (parts.length < 5) return undefined;
  const [date, region, service, terminator] = parts.slice(-4) as [string, string, string, string];
  const accessKeyId = parts.slice(0, -4).join('/');
  if (!accessKeyId) return undefined;
  return { accessKeyId, date, region, service, terminator };
}

interface AuthHeader { algorithm: string; fields: Map<string, string> }

function parseAuthorization(value: string): AuthHeader {
  const trimmed = value.trim();
  const sp = trimmed.indexOf(' ');
  const algorithm = sp < 0 ? trimmed : trimmed.slice(0, sp);
  const fields = new Map<string, string>();
  for (const item of (sp < 0 ? '' : trimmed.slice(sp + 1)).split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) fields.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
  return { algorithm, fields };
}

const queryParam = (params: QueryParam[], name: string): string | undefined => params.find((p) => p.name === name)?.value;

/** Cheap look at the credential scope, for routing; undefined when the request carries none or it is unreadable. */
export function parseAuthService(
  parts: Pick<SignedRequestParts, 'rawQuery' | 'headers'>,
): { service: string; region: string; accessKeyId: string } | undefined {
  const auth = headerValue(parts.headers, 'authorization');
  const fromHeader = auth ? parseAuthorization(auth).fields.get('Credential') : undefined;
  const fromQuery = parts.rawQuery.includes('X-Amz-Credential=') ? queryParam(parseQuery(parts.rawQuery), 'X-Amz-Credential') : undefined;
  const c = (fromHeader && parseCredential(fromHeader)) || (fromQuery && parseCredential(fromQuery)) || undefined;
  return c ? { service: c.service, region: c.region, accessKeyId: c.accessKeyId } : undefined;
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) || amzDate(d) !== s ? undefined : d;
}

function classifyPayload(value: string): PayloadCheck | 'streaming-signed' | 'streaming-signed-trailer' | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { kind: 'sha256', hex: value.toLowerCase() };
  switch (value) {
    case UNSIGNED_PAYLOAD: return { kind: 'unsigned' };
    case STREAMING_UNSIGNED_TRAILER: return { kind: 'streaming-unsigned-trailer' };
    case STREAMING_SIGNED: return 'streaming-signed';
    case STREAMING_SIGNED_TRAILER: return 'streaming-signed-trailer';
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Verification

/**
 * Verifies the SigV4 signature of a request (Authorization header or presigned URL) and
 * returns who signed it and how its body must be checked. Throws `AwsError` otherwise.
 */
export function verifySignature(
  parts: SignedRequestParts,
  lookupSecret: (accessKeyId: string) => string | undefined,
  now: Date,
  opts: VerifyOptions = {},
): VerifiedSignature {
  const maxSkew = opts.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const authHeader = headerValue(parts.headers, 'authorization');
  const params = parseQuery(parts.rawQuery);
  const presigned = params.some((p) => p.name === 'X-Amz-Algorithm');
  const scopeService = parseAuthService(parts)?.service ?? opts.service;
  const fail = (message: string) => malformedError(scopeService, presigned, message);

  if (authHeader === undefined && !presigned) {
    if (params.some((p) => p.name === 'AWSAccessKeyId') && params.some((p) => p.name === 'Signature')) {
      return verifyPresignedV2(parts, params, lookupSecret, now);
    }
    throw missingAuthenticationError(scopeService);
  }
  if (authHeader !== undefined && presigned) {
    throw authFlavour(scopeService) === 's3'
      ? new AwsError(
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        400,
        { fields: { ArgumentName: 'Authorization', ArgumentValue: authHeader } },
      )
      : fail('Found both an Authorization header and an X-Amz-Algorithm query parameter; use only one.');
  }

  // --- Gather the signature inputs from whichever form the request uses.
  let algorithm: string;
  let credentialText: string | undefined;
  let signedHeadersText: string | undefined;
  let signature: string | undefined;
  let rawTime: string | undefined;
  let expiresText: string | undefined;
  let timeHeader: string | undefined;
  if (presigned) {
    algorithm = queryParam(params, 'X-Amz-Algorithm') ?? '';
    credentialText = queryParam(params, 'X-Amz-Credential');
    signedHeadersText = queryParam(params, 'X-Amz-SignedHeaders');
    signature = queryParam(params, 'X-Amz-Signature');
    rawTime = queryParam(params, 'X-Amz-Date');
    expiresText = queryParam(params, 'X-Amz-Expires');
    if (algorithm !== ALGORITHM) throw fail(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
    if (!credentialText || !signedHeadersText || !signature || !rawTime || expiresText === undefined) {
      throw fail(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
  } else {
    const parsed = parseAuthorization(authHeader!);
    algorithm = parsed.algorithm;
    if (algorithm !== ALGORITHM) {
      if (authFlavour(scopeService) === 's3') {
        throw algorithm === 'AWS'
          ? new AwsError('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.', 400)
          : new AwsError('InvalidArgument', 'Unsupported Authorization Type', 400, {
            fields: { ArgumentName: 'Authorization', ArgumentValue: authHeader! },
          });
      }
      throw fail(`Unsupported AWS 'algorithm': '${algorithm}'.`);
    }
    credentialText = parsed.fields.get('Credential');
    signedHeadersText = parsed.fields.get('SignedHeaders');
    signature = parsed.fields.get('Signature');
    if (!credentialText || !signedHeadersText || !signature) {
      throw fail('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
    }
    rawTime = headerValue(parts.headers, 'x-amz-date');
    timeHeader = 'x-amz-date';
    if (rawTime === undefined) {
      const date = headerValue(parts.headers, 'date');
      const parsedDate = date === undefined ? NaN : Date.parse(date);
      if (Number.isNaN(parsedDate)) {
        throw authFlavour(scopeService) === 's3'
          ? new AwsError('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header', 403)
          : fail("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
      }
      rawTime = amzDate(new Date(parsedDate));
      timeHeader = 'date';
    }
  }

  const credential = parseCredential(credentialText);
  if (!credential || !/^\d{8}$/.test(credential.date) || !credential.region || !credential.service || credential.terminator !== 'aws4_request') {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const service = credential.service;
  const s3 = authFlavour(service) === 's3';
  const requestTime = parseAmzDate(rawTime);
  if (!requestTime) {
    throw presigned
      ? fail(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
      : fail(`Invalid ${timeHeader === 'date' ? 'Date' : 'X-Amz-Date'} header: '${rawTime}'.`);
  }
  const amzTime = amzDate(requestTime);
  if (amzTime.slice(0, 8) !== credential.date) {
    throw s3
      ? fail('Invalid credential date. Date is not the same as X-Amz-Date.')
      : new AwsError(
        authFlavour(service) === 'query' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${credential.date}' != '${amzTime.slice(0, 8)}', from '${amzTime}'.`,
        403,
      );
  }

  const signedHeaders = signedHeadersText.split(';');
  if (signedHeaders.some((h) => !h || h !== h.toLowerCase())) throw fail(`SignedHeaders must be lower-case names separated by ';': '${signedHeadersText}'.`);
  if (!signedHeaders.includes('host')) throw fail("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  if (timeHeader && !signedHeaders.includes(timeHeader)) throw fail(`'${timeHeader}' must be a 'SignedHeader' in the AWS Authorization.`);
  if (s3) {
    const unsigned = Object.keys(parts.headers).filter((h) => h.startsWith('x-amz-') && parts.headers[h] !== undefined && !signedHeaders.includes(h));
    if (unsigned.length) {
      throw new AwsError('AccessDenied', 'There were headers present in the request which were not signed', 403, {
        fields: { HeadersNotSigned: unsigned.join(', ') },
      });
    }
  }

  // --- Time: skew for header auth, validity window for presigned URLs.
  if (presigned) {
    if (!/^-?\d+$/.test(expiresText!)) throw fail('X-Amz-Expires should be a number');
    const expires = Number(expiresText);
    if (expires < 0) throw fail('X-Amz-Expires must be non-negative');
    if (expires > MAX_PRESIGN_EXPIRES) throw fail(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_EXPIRES}`);
    if (requestTime.getTime() - now.getTime() > maxSkew * 1000) {
      throw s3 ? new AwsError('AccessDenied', 'Request is not valid yet', 403) : skewError(service, rawTime, requestTime, now, maxSkew);
    }
    const expiresAt = new Date(requestTime.getTime() + expires * 1000);
    if (now > expiresAt) throw presignExpiredError(service, expiresText!, expiresAt, now);
  } else if (Math.abs(now.getTime() - requestTime.getTime()) > maxSkew * 1000) {
    throw skewError(service, rawTime, requestTime, now, maxSkew);
  }

  const secret = lookupSecret(credential.accessKeyId);
  if (secret === undefined) throw unknownKeyError(service, credential.accessKeyId);

  // --- Payload hash candidates, and how the body must be checked for each.
  const headerSha = headerValue(parts.headers, 'x-amz-content-sha256');
  const bodyHex = opts.bodySha256Hex?.toLowerCase();
  let payloadCandidates: string[];
  if (presigned) {
    const declared = params.find((p) => p.name.toLowerCase() === 'x-amz-content-sha256')?.value ?? (signedHeaders.includes('x-amz-content-sha256') ? headerSha : undefined);
    payloadCandidates = declared !== undefined ? [declared] : s3 ? [UNSIGNED_PAYLOAD] : [bodyHex ?? EMPTY_SHA256, UNSIGNED_PAYLOAD];
  } else if (headerSha !== undefined) {
    payloadCandidates = [headerSha];
  } else if (s3) {
    throw new AwsError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400);
  } else if (bodyHex !== undefined) {
    payloadCandidates = [bodyHex];
  } else {
    throw new AwsError('InternalFailure', 'SigV4 verification needs the body hash (bodySha256Hex) when x-amz-content-sha256 is absent.', 500);
  }
  for (const candidate of payloadCandidates) {
    if (classifyPayload(candidate) === undefined) {
      throw s3
        ? new AwsError(
          'InvalidArgument',
          'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
          400,
          { fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: candidate } },
        )
        : fail(`Unsupported x-amz-content-sha256 value: '${candidate}'.`);
    }
  }

  // --- Canonical request(s) and signature.
  const scope = `${credential.date}/${credential.region}/${service}/aws4_request`;
  const key = signingKey(secret, credential.date, credential.region, service);
  const headerBlock = signedHeaders.map((h) => `${h}:${canonicalHeaderValue(parts.headers[h])}\n`).join('');
  const query = canonicalQuery(params, presigned);
  const method = parts.method.toUpperCase();
  let firstAttempt: { canonicalRequest: string; stringToSign: string } | undefined;
  let matchedPayload: string | undefined;
  outer: for (const payloadHash of payloadCandidates) {
    for (const path of canonicalPaths(parts.rawPath, s3)) {
      const canonicalRequest = `${method}\n${path}\n${query}\n${headerBlock}\n${signedHeadersText}\n${payloadHash}`;
      const stringToSign = `${ALGORITHM}\n${amzTime}\n${scope}\n${sha256Hex(canonicalRequest)}`;
      firstAttempt ??= { canonicalRequest, stringToSign };
      if (safeEqualText(createHmac('sha256', key).update(stringToSign).digest('hex'), signature)) {
        matchedPayload = payloadHash;
        break outer;
      }
    }
  }
  if (matchedPayload === undefined) {
    throw badSignatureError(service, { accessKeyId: credential.accessKeyId, signature, ...firstAttempt! });
  }

  const kind = classifyPayload(matchedPayload)!;
  let payload: PayloadCheck;
  if (kind === 'streaming-signed' || kind === 'streaming-signed-trailer') {
    payload = { kind: 'streaming-signed', trailer: kind === 'streaming-signed-trailer', seedSignature: signature, signingKey: key, scope, amzDate: amzTime };
  } else {
    payload = kind;
  }
  if (payload.kind === 'sha256' && bodyHex !== undefined && bodyHex !== payload.hex) {
    throw payloadMismatchError({ service }, payload.hex, bodyHex);
  }

  const sessionToken = presigned ? queryParam(params, 'X-Amz-Security-Token') : headerValue(parts.headers, 'x-amz-security-token');
  return {
    signatureVersion: 4,
    accessKeyId: credential.accessKeyId,
    region: credential.region,
    service,
    date: credential.date,
    requestTime,
    presigned,
    ...(sessionToken !== undefined ? { sessionToken } : {}),
    signedHeaders,
    payload,
  };
}

// ---------------------------------------------------------------------------------------
// S3's legacy query-string authentication (signature version 2), which boto3's and the
// AWS CLI's generate_presigned_url/`aws s3 presign` still produce by default.

/** Sub-resources and response overrides that belong to the version 2 canonical resource. */
const V2_SUBRESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'delete', 'inventory', 'lifecycle', 'location', 'logging', 'metrics',
  'notification', 'object-lock', 'partNumber', 'policy', 'replication', 'requestPayment', 'restore', 'select',
  'select-type', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires',
]);

function verifyPresignedV2(
  parts: SignedRequestParts,
  params: QueryParam[],
  lookupSecret: (accessKeyId: string) => string | undefined,
  now: Date,
): VerifiedSignature {
  const accessKeyId = queryParam(params, 'AWSAccessKeyId')!;
  const signature = queryParam(params, 'Signature')!;
  const expires = queryParam(params, 'Expires');
  if (expires === undefined || !/^\d{1,12}$/.test(expires)) {
    throw new AwsError('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters', 403);
  }
  const expiresAt = new Date(Number(expires) * 1000);
  if (now > expiresAt) {
    throw new AwsError('AccessDenied', 'Request has expired', 403, { fields: { Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(now) } });
  }
  const secret = lookupSecret(accessKeyId);
  if (secret === undefined) throw unknownKeyError('s3', accessKeyId);

  // Signers move the signed x-amz-*, Content-Type and Content-MD5 headers into the query.
  const amz = new Map<string, string[]>();
  const add = (name: string, value: string) => amz.set(name, [...(amz.get(name) ?? []), value.trim().replace(/\s+/g, ' ')]);
  for (const [name, value] of Object.entries(parts.headers)) {
    if (name.startsWith('x-amz-') && value !== undefined) for (const v of Array.isArray(value) ? value : [value]) add(name, v);
  }
  for (const p of params) if (p.name.toLowerCase().startsWith('x-amz-')) add(p.name.toLowerCase(), p.value);
  const fromQuery = (name: string) => params.find((p) => p.name.toLowerCase() === name)?.value;
  const contentMd5 = headerValue(parts.headers, 'content-md5') ?? fromQuery('content-md5') ?? '';
  const contentType = headerValue(parts.headers, 'content-type') ?? fromQuery('content-type') ?? '';
  const amzLines = [...amz.keys()].sort().map((n) => `${n}:${amz.get(n)!.join(',')}\n`).join('');
  // Sub-resource values are signed decoded; a bare name (no '=') stays bare.
  const subresources = (parts.rawQuery ? parts.rawQuery.split('&') : [])
    .map((item) => {
      const eq = item.indexOf('=');
      const name = eq < 0 ? item : item.slice(0, eq);
      return { name, text: eq < 0 ? name : `${name}=${uriDecode(item.slice(eq + 1)).toString('utf8')}` };
    })
    .filter((q) => V2_SUBRESOURCES.has(q.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((q) => q.text);
  const resource = `${parts.rawPath || '/'}${subresources.length ? `?${subresources.join('&')}` : ''}`;
  const stringToSign = `${parts.method.toUpperCase()}\n${contentMd5}\n${contentType}\n${expires}\n${amzLines}${resource}`;
  const expected = createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
  if (!safeEqualText(expected, signature)) {
    throw new AwsError('SignatureDoesNotMatch', S3_BAD_SIGNATURE, 403, {
      fields: { AWSAccessKeyId: accessKeyId, StringToSign: stringToSign, SignatureProvided: signature },
    });
  }
  const sessionToken = fromQuery('x-amz-security-token') ?? headerValue(parts.headers, 'x-amz-security-token');
  return {
    signatureVersion: 2,
    accessKeyId,
    region: '',
    service: 's3',
    date: amzDate(now).slice(0, 8),
    requestTime: now,
    presigned: true,
    ...(sessionToken !== undefined ? { sessionToken } : {}),
    signedHeaders: [],
    payload: { kind: 'unsigned' },
  };
}
