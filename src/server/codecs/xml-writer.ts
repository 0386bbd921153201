/** A small model-driven XML writer for the rest-xml and query protocols. */
import type { ApiModel, Shape } from '../api-model.ts';
import { formatTimestamp } from './values.ts';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\r]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case "'": return '&apos;';
      default: return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

export function element(name: string, inner: string, attrs = ''): string {
  return `<${name}${attrs}>${inner}</${name}>`;
}

function scalarText(shape: Shape, value: unknown): string {
  if (value instanceof Date) return String(formatTimestamp(value, shape.timestampFormat ?? 'iso8601'));
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return escapeXml(String(value));
}

/** The XML for a value of `shape`, wrapped in an element called `name`. */
export function writeXml(model: ApiModel, shape: Shape, name: string, value: unknown, attrs = ''): string {
  if (value === undefined || value === null) return '';
  switch (shape.type) {
    case 'structure':
      return element(name, writeXmlMembers(model, shape, value as Record<string, unknown>), attrs);
    case 'list': {
      const itemShape = model.listMember(shape);
      const items = value as unknown[];
      if (shape.flattened) return items.map((v) => writeXml(model, itemShape, name, v)).join('');
      const itemName = itemShape.locationName ?? 'member';
      return element(name, items.map((v) => writeXml(model, itemShape, itemName, v)).join(''), attrs);
    }
    case 'map': {
      const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) =>
        element('entry', writeXml(model, model.mapKey(shape), model.mapKey(shape).locationName ?? 'key', k)
          + writeXml(model, model.mapValue(shape), model.mapValue(shape).locationName ?? 'value', v)),
      );
      return shape.flattened ? entries.join('') : element(name, entries.join(''), attrs);
    }
    default:
      return element(name, scalarText(shape, value), attrs);
  }
}

/** The XML for the body members of a structure (those not bound to headers or status). */
export function writeXmlMembers(model: ApiModel, shape: Shape, value: Record<string, unknown>): string {
  let out = '';
  for (const [memberName, member] of model.members(shape)) {
    if (member.location || member.xmlAttribute) continue;
    out += writeXml(model, member, member.locationName ?? memberName, value[memberName]);
  }
  return out;
}
