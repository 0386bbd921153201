/**
 * Input validation in the style of AWS's JSON and query services: every broken constraint
 * becomes one "Value ... at 'path' failed to satisfy constraint: ..." line, and all of them
 * together one ValidationException.
 *
 * The aws-sdk v2 models Kiln routes with drop value constraints, so lengths, ranges,
 * patterns and enums come from botocore's full models when a botocore installation is on
 * the machine (KILN_BOTOCORE_DATA, the botocore of `python3`, or Debian's python3-botocore); required members are
 * always checked from the routing model.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ApiModel, Shape, ShapeRef } from './api-model.ts';

interface BotoShape {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  required?: string[];
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
}
interface BotoModel {
  operations: Record<string, { input?: { shape: string } }>;
  shapes: Record<string, BotoShape>;
}

/** A shape as the validator sees it: constraints plus a way to reach children. */
interface Node {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  required?: string[];
  member(name: string): Node | undefined;
  memberNames(): string[];
  item(): Node | undefined;
  mapValue(): Node | undefined;
}

/** Nodes are built once per botocore shape: validation runs on every request. */
const botoNodes = new WeakMap<BotoShape, Node>();

function botoNode(model: BotoModel, shape: BotoShape): Node {
  let node = botoNodes.get(shape);
  if (!node) botoNodes.set(shape, (node = buildBotoNode(model, shape)));
  return node;
}

function buildBotoNode(model: BotoModel, shape: BotoShape): Node {
  const at = (ref?: { shape: string }) => (ref && model.shapes[ref.shape] ? botoNode(model, model.shapes[ref.shape]!) : undefined);
  return {
    ...shape,
    member: (name) => at(shape.members?.[name]),
    memberNames: () => Object.keys(shape.members ?? {}),
    item: () => at(shape.member),
    mapValue: () => at(shape.value),
  };
}

const apiNodes = new WeakMap<Shape, Node>();

function apiNode(model: ApiModel, shape: Shape): Node {
  let node = apiNodes.get(shape);
  if (!node) apiNodes.set(shape, (node = buildApiNode(model, shape)));
  return node;
}

function buildApiNode(model: ApiModel, shape: Shape): Node {
  const at = (ref?: ShapeRef) => (ref ? apiNode(model, model.resolve(ref)) : undefined);
  return {
    type: shape.type,
    required: shape.required,
    member: (name) => at(shape.members?.[name]),
    memberNames: () => Object.keys(shape.members ?? {}),
    item: () => at(shape.member),
    mapValue: () => at(shape.value),
  };
}

let roots: string[] | undefined;

/** Where botocore models are: KILN_BOTOCORE_DATA, the botocore of `python3` on PATH, Debian's. */
const botocoreRoots = (): string[] => {
  roots ??= [process.env.KILN_BOTOCORE_DATA, pythonBotocoreData(), '/usr/lib/python3/dist-packages/botocore/data'].filter(
    (r): r is string => !!r && existsSync(r),
  );
  return roots;
};

function pythonBotocoreData(): string | undefined {
  try {
    const out = execFileSync('python3', ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    return path.join(out.trim(), 'data');
  } catch {
    return undefined;
  }
}

const botoCache = new Map<string, BotoModel | null>();

/** botocore's model for a service at the API version Kiln routes with, if one is installed. */
export function loadBotocoreModel(serviceName: string, apiVersion: string): BotoModel | undefined {
  const cacheKey = `${serviceName}@${apiVersion}`;
  if (botoCache.has(cacheKey)) return botoCache.get(cacheKey) ?? undefined;
  let found: BotoModel | null = null;
  for (const root of botocoreRoots()) {
    const dir = path.join(root, serviceName, apiVersion);
    const file = ['service-2.json', 'service-2.json.gz'].map((f) => path.join(dir, f)).find(existsSync);
    if (!file) continue;
    const bytes = readFileSync(file);
    found = JSON.parse((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as BotoModel;
    break;
  }
  botoCache.set(cacheKey, found);
  return found ?? undefined;
}

/** Lists the botocore service names installed, for diagnostics. */
export function botocoreServices(): string[] {
  return botocoreRoots().flatMap((r) => readdirSync(r));
}

/** Java/Ruby regex syntax botocore patterns use that JavaScript spells differently. */
function toJsPattern(pattern: string): string {
  return pattern
    .replace(/\\A/g, '^')
    .replace(/\\[zZ]/g, '$')
    .replace(/\[\\p\{Print\}\]/g, '[\\x20-\\x7E]')
    .replace(/\\p\{Print\}/g, '\\x20-\\x7E');
}

const regexCache = new Map<string, RegExp | null>();
function compilePattern(pattern: string): RegExp | null {
  if (!regexCache.has(pattern)) {
    let re: RegExp | null = null;
    for (const flags of ['u', '']) {
      try {
        re = new RegExp(`^(?:${toJsPattern(pattern)})$`, flags);
        break;
      } catch {
        /* Java-only syntax: try the next flavour, else skip the pattern */
      }
    }
    regexCache.set(pattern, re);
  }
  return regexCache.get(pattern)!;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

function show(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (Array.isArray(value)) return `'[${value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')}]'`;
  if (typeof value === 'object') return `'${JSON.stringify(value)}'`;
  return `'${String(value)}'`;
}

function walk(node: Node, value: unknown, at: string, errors: string[]): void {
  if (value === undefined || value === null) return;
  switch (node.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) return;
      const record = value as Record<string, unknown>;
      for (const name of node.required ?? []) {
        if (record[name] === undefined || record[name] === null) {
          errors.push(`Value null at '${join(at, lowerFirst(name))}' failed to satisfy constraint: Member must not be null`);
        }
      }
      for (const name of node.memberNames()) {
        const child = node.member(name);
        if (child && record[name] !== undefined) walk(child, record[name], join(at, lowerFirst(name)), errors);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) return;
      checkLength(node, value.length, value, at, errors);
      const item = node.item();
      if (item) for (let i = 0; i < value.length; i++) walk(item, value[i], `${at}.${i + 1}.member`, errors);
      return;
    }
    case 'map': {
      if (typeof value !== 'object') return;
      const entries = Object.entries(value as Record<string, unknown>);
      checkLength(node, entries.length, value, at, errors);
      const valueNode = node.mapValue();
      if (valueNode) for (const [k, v] of entries) walk(valueNode, v, `${at}.${k}`, errors);
      return;
    }
    case 'string': {
      if (typeof value !== 'string') return;
      // Lengths count code points, as AWS does; most strings have no length constraint.
      if (node.min !== undefined || node.max !== undefined) checkLength(node, [...value].length, value, at, errors);
      if (node.enum && !node.enum.includes(value)) fail(value, at, errors, `satisfy enum value set: [${node.enum.join(', ')}]`);
      if (node.pattern) {
        const re = compilePattern(node.pattern);
        if (re && !re.test(value)) fail(value, at, errors, `satisfy regular expression pattern: ${node.pattern}`);
      }
      return;
    }
    case 'integer':
    case 'long':
    case 'float':
    case 'double': {
      if (typeof value !== 'number') return;
      if (node.min !== undefined && value < node.min) fail(value, at, errors, `have value greater than or equal to ${node.min}`);
      if (node.max !== undefined && value > node.max) fail(value, at, errors, `have value less than or equal to ${node.max}`);
      return;
    }
    case 'blob': {
      if (Buffer.isBuffer(value)) checkLength(node, value.length, value, at, errors);
      return;
    }
    default:
      return;
  }
}

// Plain functions, not closures made per value: validation walks every value of every request.
function fail(value: unknown, at: string, errors: string[], constraint: string): void {
  errors.push(`Value ${show(value)} at '${at}' failed to satisfy constraint: Member must ${constraint}`);
}

function checkLength(node: Node, length: number, value: unknown, at: string, errors: string[]): void {
  if (node.min !== undefined && length < node.min) fail(value, at, errors, `have length greater than or equal to ${node.min}`);
  if (node.max !== undefined && length > node.max) fail(value, at, errors, `have length less than or equal to ${node.max}`);
}

const join = (parent: string, child: string) => (parent ? `${parent}.${child}` : child);

/**
 * Validates an operation's parsed input. Returns the AWS-worded messages (empty when valid).
 * `botocoreName` is botocore's folder name for the service (e.g. 'sagemaker', 'sagemaker-runtime').
 */
export function validateInput(
  model: ApiModel,
  botocoreName: string | undefined,
  operation: string,
  input: Record<string, unknown>,
): string[] {
  const errors: string[] = [];
  const boto = botocoreName ? loadBotocoreModel(botocoreName, model.metadata.apiVersion) : undefined;
  const botoInput = boto?.operations[operation]?.input;
  if (boto && botoInput && boto.shapes[botoInput.shape]) {
    walk(botoNode(boto, boto.shapes[botoInput.shape]!), input, '', errors);
  } else {
    const op = model.operations.get(operation);
    if (op?.input) walk(apiNode(model, op.input), input, '', errors);
  }
  return errors;
}
