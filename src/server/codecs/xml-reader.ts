/** Reads an XML request body into typed values following the model (rest-xml inputs). */
import { XMLParser } from 'fast-xml-parser';
import type { ApiModel, Shape } from '../api-model.ts';
import { AwsError } from '../errors.ts';
import { parseScalarText } from './values.ts';

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  removeNSPrefix: true,
  processEntities: true,
  htmlEntities: false,
});

export function parseXmlDocument(body: Buffer): Record<string, unknown> {
  try {
    return parser.parse(body.toString('utf8'), true) as Record<string, unknown>;
  } catch {
    throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', 400);
  }
}

const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function readXml(model: ApiModel, shape: Shape, node: unknown, at: string): unknown {
  if (node === undefined || node === null) return undefined;
  switch (shape.type) {
    case 'structure': {
      if (typeof node !== 'object') return {};
      const record = node as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, member] of model.members(shape)) {
        if (member.location) continue;
        const tag = member.locationName ?? name;
        if (member.type === 'list' && member.flattened) {
          const itemShape = model.listMember(member);
          const items = asArray(record[itemShape.locationName ?? tag]);
          if (items.length) out[name] = items.map((v, i) => readXml(model, itemShape, v, `${at}.${name}[${i}]`));
        } else if (record[tag] !== undefined) {
          out[name] = readXml(model, member, record[tag], at ? `${at}.${name}` : name);
        }
      }
      return out;
    }
    case 'list': {
      const itemShape = model.listMember(shape);
      const wrapper = node as Record<string, unknown>;
      return asArray(typeof wrapper === 'object' ? wrapper[itemShape.locationName ?? 'member'] : undefined).map((v, i) =>
        readXml(model, itemShape, v, `${at}[${i}]`),
      );
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const entry of asArray((node as Record<string, unknown>).entry)) {
        const e = entry as Record<string, unknown>;
        out[String(e.key)] = readXml(model, model.mapValue(shape), e.value, at);
      }
      return out;
    }
    default:
      return parseScalarText(shape, typeof node === 'string' ? node : String(node), at, 'iso8601');
  }
}
