/**
 * AWS JSON protocols: `json` (1.0/1.1: POST / with X-Amz-Target) and `rest-json` (REST
 * bindings with a JSON body). Timestamps travel as epoch seconds and blobs as base64.
 */
import { Readable } from 'node:stream';
import type { ApiModel, Operation, Shape } from '../api-model.ts';
import { Errors, type AwsError } from '../errors.ts';
import { header, type KilnRequest, type KilnResponse } from '../http-types.ts';
import type { Codec, ResolvedOperation } from './codec.ts';
import { bodyMembers, matchRestOperation, readBoundMembers, writeBoundMembers } from './rest-binding.ts';
import { formatTimestamp, parseTimestamp } from './values.ts';

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function wrongType(shape: Shape, value: unknown, at: string): never {
  throw Errors.serialization(`Unexpected ${typeName(value)} value at '${at}': expected ${shape.type}`);
}

/** Converts parsed JSON to typed values per the model, refusing values of the wrong type. */
export function fromJson(model: ApiModel, shape: Shape, value: unknown, at: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) return wrongType(shape, value, at);
      const out: Record<string, unknown> = {};
      const record = value as Record<string, unknown>;
      for (const [name, member] of model.members(shape)) {
        const key = member.location ? undefined : (member.locationName ?? name);
        if (key !== undefined && record[key] !== undefined) {
          const v = fromJson(model, member, record[key], at ? `${at}.${name}` : name);
          if (v !== undefined) out[name] = v;
        }
      }
      return out;
    }
    case 'list':
      if (!Array.isArray(value)) return wrongType(shape, value, at);
      {
        const member = model.listMember(shape);
        return value.map((v, i) => fromJson(model, member, v, `${at}[${i}]`));
      }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return wrongType(shape, value, at);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = fromJson(model, model.mapValue(shape), v, `${at}.${k}`);
      return out;
    }
    case 'string':
      if (shape.jsonvalue) return typeof value === 'string' ? JSON.parse(value) : value;
      return typeof value === 'string' ? value : wrongType(shape, value, at);
    case 'integer':
    case 'long':
      return typeof value === 'number' && Number.isInteger(value) ? value : wrongType(shape, value, at);
    case 'float':
    case 'double':
      // The JSON protocols spell the non-finite doubles as strings.
      if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
      return typeof value === 'number' ? value : wrongType(shape, value, at);
    case 'boolean':
      return typeof value === 'boolean' ? value : wrongType(shape, value, at);
    case 'timestamp':
      return typeof value === 'number' || typeof value === 'string' ? parseTimestamp(value, at) : wrongType(shape, value, at);
    case 'blob':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : wrongType(shape, value, at);
    default:
      return value;
  }
}

export function toJson(model: ApiModel, shape: Shape, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      const record = value as Record<string, unknown>;
      for (const [name, member] of model.members(shape)) {
        if (member.location) continue;
        const v = toJson(model, member, record[name]);
        if (v !== undefined) out[member.locationName ?? name] = v;
      }
      return out;
    }
    case 'list':
      return (value as unknown[]).map((v) => toJson(model, model.listMember(shape), v));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toJson(model, model.mapValue(shape), v);
      return out;
    }
    case 'timestamp':
      return value instanceof Date ? formatTimestamp(value, shape.timestampFormat ?? 'unixTimestamp') : value;
    case 'blob':
      return Buffer.isBuffer(value) ? value.toString('base64') : value;
    case 'string':
      return shape.jsonvalue ? JSON.stringify(value) : value;
    default:
      return value;
  }
}

function parseJsonBody(body: Buffer | undefined): Record<string, unknown> {
  const text = body?.toString('utf8').trim() ?? '';
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw Errors.serialization('The request body is not a valid JSON object.');
  }
}

function errorBody(error: AwsError) {
  return JSON.stringify({ __type: error.code, message: error.message, ...error.fields });
}

/** `json` protocol (SageMaker, CloudWatch Logs, ...). */
export const awsJsonCodec: Codec = {
  resolveOperation(model, req) {
    const target = header(req.headers, 'x-amz-target') ?? '';
    const [prefix, name] = target.split('.');
    if (prefix !== model.metadata.targetPrefix || !name) return undefined;
    const operation = model.operations.get(name);
    return operation ? { operation } : undefined;
  },
  streamsInput: () => false,
  parseInput(model, { operation }, req) {
    if (!operation.input) return {};
    return fromJson(model, operation.input, parseJsonBody(req.body), '') as Record<string, unknown>;
  },
  serializeOutput(model, operation, output, requestId) {
    const body = operation.output ? toJson(model, operation.output, output) : {};
    return {
      status: 200,
      headers: { 'content-type': `application/x-amz-json-${model.metadata.jsonVersion ?? '1.0'}`, 'x-amzn-requestid': requestId },
      body: JSON.stringify(body ?? {}),
    };
  },
  serializeError(model, error, requestId) {
    return {
      status: error.status,
      headers: {
        'content-type': `application/x-amz-json-${model.metadata.jsonVersion ?? '1.0'}`,
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': error.code,
        ...error.headers,
      },
      body: errorBody(error),
    };
  },
  describeRequest: (req) => header(req.headers, 'x-amz-target') ?? `${req.method} ${req.rawPath}`,
};

/** `rest-json` protocol (SageMaker Runtime, Feature Store Runtime, SageMaker Metrics). */
export const restJsonCodec: Codec = {
  resolveOperation: (model, req) => matchRestOperation(model, req),
  streamsInput(model, operation) {
    const payload = operation.input?.payload ? model.member(operation.input, operation.input.payload) : undefined;
    return !!payload?.streaming;
  },
  parseInput(model, resolved: ResolvedOperation, req) {
    const input = resolved.operation.input;
    if (!input) return {};
    const out = readBoundMembers(model, input, req, resolved.labels ?? {});
    const payloadName = input.payload;
    const payload = payloadName ? model.member(input, payloadName) : undefined;
    if (payloadName && payload) {
      if (payload.type === 'blob' || payload.type === 'string') {
        if (payload.streaming && req.bodyStream) out[payloadName] = req.bodyStream;
        else if (req.body?.length) out[payloadName] = payload.type === 'blob' ? req.body : req.body.toString('utf8');
      } else {
        out[payloadName] = fromJson(model, payload, parseJsonBody(req.body), payloadName);
      }
    } else if (bodyMembers(model, input).length) {
      const body = parseJsonBody(req.body);
      Object.assign(out, fromJson(model, { ...input, members: Object.fromEntries(Object.entries(input.members ?? {}).filter(([n]) => !model.member(input, n)?.location)) }, body, ''));
    }
    return out;
  },
  serializeOutput(model, operation, output, requestId) {
    const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
    const shape = operation.output;
    let status = (output.$status as number | undefined) ?? operation.http.responseCode ?? 200;
    let body: KilnResponse['body'] = '';
    if (shape) {
      status = writeBoundMembers(model, shape, output, headers) ?? status;
      const payloadName = shape.payload;
      const payload = payloadName ? model.member(shape, payloadName) : undefined;
      if (payloadName && payload) {
        const value = output[payloadName];
        if (value instanceof Readable || Buffer.isBuffer(value) || typeof value === 'string') body = value;
        else if (value !== undefined) {
          body = JSON.stringify(toJson(model, payload, value));
          headers['content-type'] ??= 'application/json';
        }
      } else {
        body = JSON.stringify(toJson(model, shape, output) ?? {});
        headers['content-type'] = 'application/json';
      }
    }
    return { status, headers, body };
  },
  serializeError(_model, error, requestId) {
    return {
      status: error.status,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.code, ...error.headers },
      body: errorBody(error),
    };
  },
  describeRequest: (req) => `${req.method} ${req.rawPath}`,
};

export type { Operation };
