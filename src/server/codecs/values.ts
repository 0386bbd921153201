/** Conversions between wire text and typed values shared by every protocol codec. */
import type { Shape } from '../api-model.ts';
import { Errors } from '../errors.ts';

export function parseTimestamp(text: string | number, where: string): Date {
  const d = typeof text === 'number' || /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  if (Number.isNaN(d.getTime())) throw Errors.serialization(`Invalid timestamp value '${text}' for ${where}`);
  return d;
}

export function formatTimestamp(d: Date, format: 'iso8601' | 'rfc822' | 'unixTimestamp'): string | number {
  if (format === 'unixTimestamp') return d.getTime() / 1000;
  if (format === 'rfc822') return d.toUTCString();
  return d.toISOString().replace(/\.\d{3}Z$/, d.getMilliseconds() ? `.${String(d.getMilliseconds()).padStart(3, '0')}Z` : 'Z');
}

/** Parses a scalar that arrived as text (header, query string, XML, form field). */
export function parseScalarText(shape: Shape, text: string, where: string, defaultTimestamp: 'iso8601' | 'rfc822'): unknown {
  switch (shape.type) {
    case 'integer':
    case 'long': {
      if (!/^-?\d+$/.test(text.trim())) throw Errors.serialization(`Value '${text}' at '${where}' is not a valid integer`);
      return Number(text);
    }
    case 'float':
    case 'double': {
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n)) throw Errors.serialization(`Value '${text}' at '${where}' is not a valid number`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw Errors.serialization(`Value '${text}' at '${where}' is not a valid boolean`);
      return text === 'true';
    case 'timestamp':
      return parseTimestamp(text, where);
    case 'blob':
      return Buffer.from(text, 'base64');
    default:
      return text;
  }
}

export function scalarToText(shape: Shape, value: unknown, defaultTimestamp: 'iso8601' | 'rfc822'): string {
  if (value instanceof Date) return String(formatTimestamp(value, shape.timestampFormat ?? defaultTimestamp));
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return String(value);
}
