/** The `rest-xml` protocol (S3): REST bindings with XML bodies and S3's `<Error>` documents. */
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { ApiModel } from '../api-model.ts';
import { AwsError } from '../errors.ts';
import type { KilnResponse } from '../http-types.ts';
import type { Codec } from './codec.ts';
import { matchRestOperation, readBoundMembers, writeBoundMembers } from './rest-binding.ts';
import { parseXmlDocument, readXml } from './xml-reader.ts';
import { element, escapeXml, writeXml, writeXmlMembers } from './xml-writer.ts';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** S3's document element names where the model does not carry them. */
const ROOT_NAMES: Record<string, string> = {
  ListBuckets: 'ListAllMyBucketsResult',
  ListObjects: 'ListBucketResult',
  ListObjectsV2: 'ListBucketResult',
  CreateMultipartUpload: 'InitiateMultipartUploadResult',
  CompleteMultipartUpload: 'CompleteMultipartUploadResult',
  DeleteObjects: 'DeleteResult',
  ListParts: 'ListPartsResult',
  ListMultipartUploads: 'ListMultipartUploadsResult',
  GetBucketLocation: 'LocationConstraint',
};

const namespaceAttr = (model: ApiModel) =>
  model.metadata.xmlNamespace ? ` xmlns="${model.metadata.xmlNamespace}"` : ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

/** A host id in S3's style, so clients that log it have something to log. */
const hostId = () => randomBytes(24).toString('base64');

export const restXmlCodec: Codec = {
  resolveOperation: (model, req) => matchRestOperation(model, req),
  streamsInput(model, operation) {
    const payload = operation.input?.payload ? model.member(operation.input, operation.input.payload) : undefined;
    return !!payload?.streaming;
  },
  parseInput(model, resolved, req) {
    const input = resolved.operation.input;
    if (!input) return {};
    const out = readBoundMembers(model, input, req, resolved.labels ?? {});
    const payloadName = input.payload;
    const payload = payloadName ? model.member(input, payloadName) : undefined;
    if (payloadName && payload) {
      if (payload.type === 'blob' || payload.type === 'string') {
        if (payload.streaming && req.bodyStream) out[payloadName] = req.bodyStream;
        else if (req.body) out[payloadName] = req.body;
      } else if (req.body?.length) {
        const doc = parseXmlDocument(req.body);
        const rootName = payload.locationName ?? payloadName;
        if (!(rootName in doc)) {
          throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', 400);
        }
        out[payloadName] = readXml(model, payload, doc[rootName] ?? {}, payloadName);
      }
    }
    return out;
  },
  serializeOutput(model, operation, output, requestId) {
    const headers: Record<string, string> = { 'x-amz-request-id': requestId, 'x-amz-id-2': hostId() };
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
          body = XML_DECL + writeXml(model, payload, payload.locationName ?? payloadName, value, namespaceAttr(model));
          headers['content-type'] = 'application/xml';
        }
      } else if (operation.name === 'GetBucketLocation') {
        const region = output.LocationConstraint as string | undefined;
        body = XML_DECL + element('LocationConstraint', region ? escapeXml(region) : '', namespaceAttr(model));
        headers['content-type'] = 'application/xml';
      } else {
        const inner = writeXmlMembers(model, shape, output);
        if (inner || ROOT_NAMES[operation.name]) {
          body = XML_DECL + element(shape.locationName ?? ROOT_NAMES[operation.name] ?? `${operation.name}Result`, inner, namespaceAttr(model));
          headers['content-type'] = 'application/xml';
        }
      }
    }
    return { status, headers, body };
  },
  serializeError(_model, error, requestId, req) {
    const headers: Record<string, string> = { 'x-amz-request-id': requestId, 'x-amz-id-2': hostId(), ...error.headers };
    if (req?.method === 'HEAD' || error.status === 304) return { status: error.status, headers };
    const fields = Object.entries(error.fields).map(([k, v]) => element(k, escapeXml(String(v)))).join('');
    const body =
      XML_DECL +
      element('Error', element('Code', error.code) + element('Message', escapeXml(error.message)) + fields + element('RequestId', requestId) + element('HostId', headers['x-amz-id-2']!));
    return { status: error.status, headers: { ...headers, 'content-type': 'application/xml' }, body };
  },
  describeRequest: (req) => `${req.method} ${req.rawPath}${req.rawQuery ? `?${req.rawQuery}` : ''}`,
};
