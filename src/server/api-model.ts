/**
 * Loads the official machine-readable AWS API models at run time from the `aws-sdk` (v2)
 * package, which ships them as `apis/<service>-<version>.min.json`. Those minified models
 * keep structure, HTTP bindings and required members but drop value constraints; see
 * constraints.ts for where lengths, patterns, enums and ranges come from.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type ShapeType =
  | 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'float' | 'double'
  | 'boolean' | 'timestamp' | 'blob' | 'character' | 'bigdecimal' | 'biginteger';

/** A shape with member-level bindings merged in (what a member "is" at one place in the tree). */
export interface Shape {
  type: ShapeType;
  /** Name of the named shape this came from, when it came from one. */
  name?: string;
  members?: Record<string, ShapeRef>;
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  required?: string[];
  location?: 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode';
  locationName?: string;
  payload?: string;
  streaming?: boolean;
  flattened?: boolean;
  xmlAttribute?: boolean;
  xmlNamespace?: { uri: string; prefix?: string } | string;
  timestampFormat?: 'iso8601' | 'rfc822' | 'unixTimestamp';
  jsonvalue?: boolean;
  idempotencyToken?: boolean;
  resultWrapper?: string;
  exception?: boolean;
  error?: { httpStatusCode?: number; code?: string };
  /** The member's name in its parent structure (set while resolving members). */
  memberName?: string;
}

/** A reference as written in the model: either `{shape: 'Name', ...overrides}` or an inline shape. */
export type ShapeRef = Partial<Shape> & { shape?: string };

export interface Operation {
  name: string;
  http: { method: string; requestUri: string; responseCode?: number };
  input?: Shape;
  output?: Shape;
}

export interface ServiceMetadata {
  apiVersion: string;
  endpointPrefix: string;
  protocol: 'json' | 'rest-json' | 'rest-xml' | 'query' | 'ec2';
  serviceId: string;
  signingName?: string;
  targetPrefix?: string;
  jsonVersion?: string;
  xmlNamespace?: string;
  uid: string;
}

interface RawModel {
  metadata: ServiceMetadata;
  operations: Record<string, { http?: Partial<Operation['http']>; input?: ShapeRef; output?: ShapeRef }>;
  shapes: Record<string, ShapeRef>;
}

/** The reference of a list member or map entry the model leaves untyped. */
const ANY: ShapeRef = {};

export class ApiModel {
  readonly metadata: ServiceMetadata;
  readonly operations = new Map<string, Operation>();
  private readonly shapes: Record<string, ShapeRef>;

  constructor(raw: RawModel) {
    this.metadata = raw.metadata;
    this.shapes = raw.shapes;
    for (const [name, op] of Object.entries(raw.operations)) {
      this.operations.set(name, {
        name,
        http: { method: op.http?.method ?? 'POST', requestUri: op.http?.requestUri ?? '/', responseCode: op.http?.responseCode },
        input: op.input ? this.resolve(op.input) : undefined,
        output: op.output ? this.resolve(op.output) : undefined,
      });
    }
  }

  /** Resolved shapes by reference and member name: every request walks them, so each is merged once. */
  private readonly resolved = new WeakMap<ShapeRef, Map<string, Shape>>();
  private readonly memberLists = new WeakMap<Shape, [string, Shape][]>();

  /** Merges a reference with its named shape; member-level bindings win. Shapes are shared: treat them as read-only. */
  resolve(ref: ShapeRef, memberName?: string): Shape {
    let byMember = this.resolved.get(ref);
    if (!byMember) this.resolved.set(ref, (byMember = new Map()));
    let shape = byMember.get(memberName ?? '');
    if (!shape) byMember.set(memberName ?? '', (shape = this.merge(ref, memberName)));
    return shape;
  }

  private merge(ref: ShapeRef, memberName?: string): Shape {
    const { shape: target, ...overrides } = ref;
    const base = target ? this.shapes[target] : undefined;
    if (target && !base) throw new Error(`${this.metadata.uid}: unknown shape ${target}`);
    const merged = { ...(base ? this.resolve(base) : {}), ...overrides } as Shape;
    if (!merged.type) merged.type = merged.members ? 'structure' : 'string';
    if (target) merged.name = target;
    if (memberName) merged.memberName = memberName;
    return merged;
  }

  /** Resolved members of a structure, in model order. */
  members(shape: Shape): [string, Shape][] {
    let list = this.memberLists.get(shape);
    if (!list) this.memberLists.set(shape, (list = Object.entries(shape.members ?? {}).map(([name, ref]) => [name, this.resolve(ref, name)])));
    return list;
  }

  member(shape: Shape, name: string): Shape | undefined {
    const ref = shape.members?.[name];
    return ref ? this.resolve(ref, name) : undefined;
  }

  listMember(shape: Shape): Shape {
    return this.resolve(shape.member ?? ANY);
  }

  mapKey(shape: Shape): Shape {
    return this.resolve(shape.key ?? ANY);
  }

  mapValue(shape: Shape): Shape {
    return this.resolve(shape.value ?? ANY);
  }
}

const require = createRequire(import.meta.url);
const cache = new Map<string, ApiModel>();

function apisDir(): string {
  return path.join(path.dirname(require.resolve('aws-sdk/package.json')), 'apis');
}

/** Loads a model by its file prefix, e.g. `sagemaker-2017-07-24` or `s3-2006-03-01`. */
export function loadApiModel(uid: string): ApiModel {
  let model = cache.get(uid);
  if (!model) {
    const raw = JSON.parse(readFileSync(path.join(apisDir(), `${uid}.min.json`), 'utf8')) as RawModel;
    model = new ApiModel(raw);
    cache.set(uid, model);
  }
  return model;
}
