/** The `query` protocol (STS, IAM, CloudWatch): form-encoded Action requests, XML responses. */
import type { ApiModel, Shape } from '../api-model.ts';
import type { KilnRequest } from '../http-types.ts';
import type { Codec } from './codec.ts';
import { parseScalarText } from './values.ts';
import { element, escapeXml, writeXmlMembers } from './xml-writer.ts';

function formParams(req: KilnRequest): URLSearchParams {
  const params = new URLSearchParams(req.rawQuery);
  const contentType = String(req.headers['content-type'] ?? '');
  if (req.body?.length && contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v);
  }
  return params;
}

/** Reads `Name`, `Name.member.N`, `Name.entry.N.key` style parameters for one shape. */
function readParams(model: ApiModel, shape: Shape, params: URLSearchParams, prefix: string): unknown {
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [name, member] of model.members(shape)) {
        const v = readParams(model, member, params, prefix ? `${prefix}.${member.locationName ?? name}` : member.locationName ?? name);
        if (v !== undefined) out[name] = v;
      }
      return Object.keys(out).length || !prefix ? out : undefined;
    }
    case 'list': {
      const itemPrefix = shape.flattened ? prefix : `${prefix}.${model.listMember(shape).locationName ?? 'member'}`;
      const items: unknown[] = [];
      for (let i = 1; ; i++) {
        const v = readParams(model, model.listMember(shape), params, `${itemPrefix}.${i}`);
        if (v === undefined) break;
        items.push(v);
      }
      return items.length || params.has(prefix) ? items : undefined;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (let i = 1; ; i++) {
        const key = params.get(`${prefix}.entry.${i}.key`);
        if (key === null) break;
        out[key] = readParams(model, model.mapValue(shape), params, `${prefix}.entry.${i}.value`);
      }
      return Object.keys(out).length ? out : undefined;
    }
    default: {
      const text = params.get(prefix);
      return text === null ? undefined : parseScalarText(shape, text, prefix, 'iso8601');
    }
  }
}

export const queryCodec: Codec = {
  resolveOperation(model, req) {
    const action = formParams(req).get('Action');
    const operation = action ? model.operations.get(action) : undefined;
    return operation ? { operation } : undefined;
  },
  streamsInput: () => false,
  parseInput(model, { operation }, req) {
    return operation.input ? (readParams(model, operation.input, formParams(req), '') as Record<string, unknown>) : {};
  },
  serializeOutput(model, operation, output, requestId) {
    const ns = model.metadata.xmlNamespace ? ` xmlns="${model.metadata.xmlNamespace}"` : '';
    const result = operation.output ? writeXmlMembers(model, operation.output, output) : '';
    const wrapper = operation.output?.resultWrapper ?? `${operation.name}Result`;
    const body = element(
      `${operation.name}Response`,
      element(wrapper, result) + element('ResponseMetadata', element('RequestId', requestId)),
      ns,
    );
    return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
  },
  serializeError(model, error, requestId) {
    const ns = model.metadata.xmlNamespace ? ` xmlns="${model.metadata.xmlNamespace}"` : '';
    const body = element(
      'ErrorResponse',
      element('Error', element('Type', error.sender ? 'Sender' : 'Receiver') + element('Code', error.code) + element('Message', escapeXml(error.message))) +
        element('RequestId', requestId),
      ns,
    );
    return { status: error.status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...error.headers }, body };
  },
  describeRequest: (req) => formParams(req).get('Action') ?? `${req.method} ${req.rawPath}`,
};
