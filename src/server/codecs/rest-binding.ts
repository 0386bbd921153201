/**
 * The HTTP bindings shared by the REST protocols (rest-json, rest-xml): which operation a
 * method + path + query + headers request is, and how members bound to the URI, query
 * string, headers and status code are read and written.
 */
import type { ApiModel, Operation, Shape } from '../api-model.ts';
import { header, type KilnRequest } from '../http-types.ts';
import { parseScalarText, scalarToText } from './values.ts';

interface CompiledRoute {
  operation: Operation;
  pathRegex: RegExp;
  labels: string[];
  literalQuery: [string, string | undefined][];
  literalSegments: number;
}

const routeCache = new WeakMap<ApiModel, CompiledRoute[]>();

function compileRoutes(model: ApiModel): CompiledRoute[] {
  let routes = routeCache.get(model);
  if (routes) return routes;
  routes = [...model.operations.values()].map((operation) => {
    const [pathPart = '/', queryPart] = operation.http.requestUri.split('?');
    const labels: string[] = [];
    let literalSegments = 0;
    const pattern = pathPart
      .split('/')
      .map((segment) =>
        segment.replace(/\{([^}]+)\}|[^{}]+/g, (whole, label?: string) => {
          if (!label) {
            literalSegments += 1;
            return whole.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          }
          const greedy = label.endsWith('+');
          labels.push(greedy ? label.slice(0, -1) : label);
          return greedy ? '(.+)' : '([^/]+)';
        }),
      )
      .join('/');
    const literalQuery = (queryPart ? queryPart.split('&') : []).map((kv) => {
      const [k, v] = kv.split('=');
      return [decodeURIComponent(k!), v === undefined ? undefined : decodeURIComponent(v)] as [string, string | undefined];
    });
    return { operation, pathRegex: new RegExp(`^${pattern}/?$`), labels, literalQuery, literalSegments };
  });
  routeCache.set(model, routes);
  return routes;
}

export interface RouteMatch {
  operation: Operation;
  labels: Record<string, string>;
}

/**
 * Picks the operation a request is. A candidate must match method, path and the literal
 * query of its requestUri, and carry every required member bound to the URI, query or
 * headers; among those the most specific wins (so CopyObject, which requires
 * x-amz-copy-source, beats PutObject on the same path).
 */
export function matchRestOperation(model: ApiModel, req: KilnRequest): RouteMatch | undefined {
  let best: { match: RouteMatch; score: number } | undefined;
  for (const route of compileRoutes(model)) {
    if (route.operation.http.method !== req.method) continue;
    const m = route.pathRegex.exec(req.rawPath);
    if (!m) continue;
    if (!route.literalQuery.every(([k, v]) => req.query.has(k) && (v === undefined || req.query.get(k) === v))) continue;
    const labels: Record<string, string> = {};
    route.labels.forEach((name, i) => (labels[name] = decodeURIComponent(m[i + 1]!)));
    let score = route.literalQuery.length * 10 + route.literalSegments * 5;
    let ok = true;
    const input = route.operation.input;
    for (const name of input?.required ?? []) {
      const member = input && model.member(input, name);
      if (!member?.location) continue;
      const key = member.locationName ?? name;
      const present =
        member.location === 'uri' ? labels[key] !== undefined
        : member.location === 'querystring' ? req.query.has(key)
        : member.location === 'header' ? header(req.headers, key) !== undefined
        : true;
      if (!present) ok = false;
      else if (member.location !== 'uri') score += 3;
    }
    if (!ok) continue;
    if (!best || score > best.score) best = { match: { operation: route.operation, labels }, score };
  }
  return best?.match;
}

/** Reads every member bound to the URI, query string or headers. */
export function readBoundMembers(model: ApiModel, input: Shape, req: KilnRequest, labels: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, member] of model.members(input)) {
    const key = member.locationName ?? name;
    switch (member.location) {
      case 'uri':
        if (labels[key] !== undefined) out[name] = parseScalarText(member, labels[key]!, name, 'iso8601');
        break;
      case 'querystring':
        if (member.type === 'list') {
          const values = req.query.getAll(key);
          if (values.length) out[name] = values.map((v) => parseScalarText(model.listMember(member), v, name, 'iso8601'));
        } else if (member.type === 'map') {
          const map: Record<string, string> = {};
          for (const [k, v] of req.query) map[k] = v;
          out[name] = map;
        } else if (req.query.has(key)) {
          out[name] = parseScalarText(member, req.query.get(key)!, name, 'iso8601');
        }
        break;
      case 'header': {
        const value = header(req.headers, key);
        if (value === undefined) break;
        if (member.jsonvalue) out[name] = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
        else if (member.type === 'list') out[name] = value.split(',').map((v) => v.trim());
        else out[name] = parseScalarText(member, value, name, 'rfc822');
        break;
      }
      case 'headers': {
        const prefix = key.toLowerCase();
        const map: Record<string, string> = {};
        for (const [h, v] of Object.entries(req.headers)) {
          if (h.startsWith(prefix) && v !== undefined) map[h.slice(prefix.length)] = Array.isArray(v) ? v.join(',') : v;
        }
        if (Object.keys(map).length) out[name] = map;
        break;
      }
    }
  }
  return out;
}

/** Writes output members bound to headers and the status code; returns the status (if bound). */
export function writeBoundMembers(model: ApiModel, output: Shape, data: Record<string, unknown>, headers: Record<string, string>): number | undefined {
  let status: number | undefined;
  for (const [name, member] of model.members(output)) {
    const value = data[name];
    if (value === undefined || value === null) continue;
    const key = member.locationName ?? name;
    if (member.location === 'header') {
      headers[key.toLowerCase()] = member.jsonvalue
        ? Buffer.from(JSON.stringify(value)).toString('base64')
        : Array.isArray(value) ? value.join(',') : scalarToText(member, value, 'rfc822');
    } else if (member.location === 'headers') {
      for (const [k, v] of Object.entries(value as Record<string, string>)) headers[`${key}${k}`.toLowerCase()] = String(v);
    } else if (member.location === 'statusCode') {
      status = Number(value);
    }
  }
  return status;
}

/** Members that travel in the body (no location binding), excluding the payload member. */
export function bodyMembers(model: ApiModel, shape: Shape): [string, Shape][] {
  return model.members(shape).filter(([name, m]) => !m.location && name !== shape.payload);
}
