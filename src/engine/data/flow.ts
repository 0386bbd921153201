/**
 * The flow document: a DAG of source, transform, analysis and destination nodes, stored by Kiln
 * and exported as a `.flow` file. A node names its inputs by node id, or `<id>.<output>` for a
 * node with named outputs (a split).
 */
import { FlowError } from './errors.ts';

export type NodeType = 'source' | 'transform' | 'analysis' | 'destination';

export interface FlowNode {
  id: string;
  type: NodeType;
  operator: string;
  /** Ids of the nodes this one reads, `<id>` or `<id>.<output>`. Sources have none. */
  inputs?: string[];
  parameters?: Record<string, unknown>;
  /** Free text shown by the UI. */
  name?: string;
}

export interface FlowDocument {
  /** Format version of the document. */
  version: 1;
  nodes: FlowNode[];
  /** Seed used by shuffles, samples and random splits unless a node sets its own. */
  seed?: number;
}

export const FLOW_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
// A leading digit is allowed: Data Wrangler's node ids are UUIDs.
const NODE_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

export interface OperatorCatalog {
  has(type: NodeType, operator: string): boolean;
  /** Named outputs a node has (a split's splits); undefined when it has the one default output. */
  outputsOf(node: FlowNode): string[] | undefined;
  /** How many inputs the operator takes: exact count, or 'many' (at least one). */
  arity(type: NodeType, operator: string): number | 'many';
}

export function parseInputRef(ref: string): { node: string; output?: string } {
  const dot = ref.indexOf('.');
  return dot < 0 ? { node: ref } : { node: ref.slice(0, dot), output: ref.slice(dot + 1) };
}

/** Checks shape, ids, operators, input references and acyclicity. Parameters are checked when a node compiles. */
export function validateFlow(doc: unknown, operators: OperatorCatalog): FlowDocument {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new FlowError('a flow must be a JSON object with "version" and "nodes"');
  const flow = doc as Partial<FlowDocument>;
  if (flow.version !== 1) throw new FlowError(`unsupported flow version ${JSON.stringify(flow.version)}; expected 1`);
  if (!Array.isArray(flow.nodes)) throw new FlowError('"nodes" must be an array');
  if (flow.seed !== undefined && !Number.isInteger(flow.seed)) throw new FlowError('"seed" must be an integer');
  const byId = new Map<string, FlowNode>();
  for (const [i, node] of flow.nodes.entries()) {
    const where = `node ${i}${node && typeof node === 'object' && 'id' in node ? ` ('${String(node.id)}')` : ''}`;
    if (!node || typeof node !== 'object') throw new FlowError(`${where} must be an object`);
    if (typeof node.id !== 'string' || !NODE_ID.test(node.id)) throw new FlowError(`${where}: id must match ${NODE_ID}`);
    if (byId.has(node.id)) throw new FlowError(`${where}: duplicate node id '${node.id}'`);
    if (!['source', 'transform', 'analysis', 'destination'].includes(node.type)) {
      throw new FlowError(`${where}: type must be source, transform, analysis or destination`);
    }
    if (typeof node.operator !== 'string' || !operators.has(node.type, node.operator)) {
      throw new FlowError(`${where}: unknown ${node.type} operator '${String(node.operator)}'`);
    }
    if (node.parameters !== undefined && (typeof node.parameters !== 'object' || node.parameters === null || Array.isArray(node.parameters))) {
      throw new FlowError(`${where}: parameters must be an object`);
    }
    if (node.inputs !== undefined && (!Array.isArray(node.inputs) || node.inputs.some((x) => typeof x !== 'string'))) {
      throw new FlowError(`${where}: inputs must be an array of node ids`);
    }
    const arity = operators.arity(node.type, node.operator);
    const count = node.inputs?.length ?? 0;
    if (arity === 'many' ? count < 1 : count !== arity) {
      throw new FlowError(`${where}: ${node.operator} takes ${arity === 'many' ? 'one or more inputs' : `${arity} input(s)`}, got ${count}`);
    }
    // Named outputs (a split's shares) are checked now, so a flow is never stored with bad ones.
    operators.outputsOf(node);
    byId.set(node.id, node);
  }
  for (const node of flow.nodes) {
    for (const ref of node.inputs ?? []) {
      const { node: id, output } = parseInputRef(ref);
      const target = byId.get(id);
      if (!target) throw new FlowError(`node '${node.id}': input '${ref}' is not a node of this flow`);
      if (target.type === 'analysis' || target.type === 'destination') {
        throw new FlowError(`node '${node.id}': input '${ref}' is ${target.type === 'analysis' ? 'an analysis' : 'a destination'} and has no output table`);
      }
      const outputs = operators.outputsOf(target);
      if (outputs && output === undefined) throw new FlowError(`node '${node.id}': input '${ref}' has named outputs; use one of ${outputs.map((o) => `${id}.${o}`).join(', ')}`);
      if (output !== undefined && !outputs?.includes(output)) throw new FlowError(`node '${node.id}': node '${id}' has no output '${output}'`);
    }
  }
  topologicalOrder(flow.nodes);
  return { version: 1, nodes: flow.nodes, ...(flow.seed !== undefined ? { seed: flow.seed } : {}) };
}

/** Nodes ordered so every node follows its inputs; throws on a cycle. */
export function topologicalOrder(nodes: FlowNode[]): FlowNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: FlowNode[] = [];
  const visit = (node: FlowNode, path: string[]) => {
    const s = state.get(node.id);
    if (s === 'done') return;
    if (s === 'visiting') throw new FlowError(`the flow has a cycle: ${[...path, node.id].join(' → ')}`);
    state.set(node.id, 'visiting');
    for (const ref of node.inputs ?? []) {
      const input = byId.get(parseInputRef(ref).node);
      if (input) visit(input, [...path, node.id]);
    }
    state.set(node.id, 'done');
    order.push(node);
  };
  for (const n of nodes) visit(n, []);
  return order;
}

/** The nodes a given node depends on (itself included), in execution order. */
export function ancestorsOf(nodes: FlowNode[], id: string): FlowNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const needed = new Set<string>();
  const walk = (nid: string) => {
    if (needed.has(nid)) return;
    const n = byId.get(nid);
    if (!n) throw new FlowError(`no node '${nid}' in this flow`, 404, 'NoSuchNode');
    needed.add(nid);
    for (const ref of n.inputs ?? []) walk(parseInputRef(ref).node);
  };
  walk(id);
  return topologicalOrder(nodes).filter((n) => needed.has(n.id));
}
