/**
 * Writing a flow's tables to the object store: the step a flow run and a Data Wrangler processing
 * job share. A request names a destination node (written as its parameters say, optionally to
 * another URI or in another format) or any source, transform or split output (written as CSV
 * unless told otherwise, to the URI the request gives).
 */
import type { DestinationSpec } from './destinations.ts';
import { destinationSpec } from './destinations.ts';
import type { Column } from './duck.ts';
import { FlowError } from './errors.ts';
import type { FlowDocument, FlowNode } from './flow.ts';
import { Params } from './operator.ts';
import { operatorCatalog } from './operators.ts';
import type { FlowSession } from './session.ts';

/** The name Data Wrangler gives a node's one output; Kiln accepts it for any single-output node. */
export const DEFAULT_OUTPUT = 'default';

export interface OutputRequest {
  /** A node id. */
  node: string;
  /** One of a split's named outputs; `default` (or nothing) for a node with one output. */
  output?: string;
  /** Where to write: a prefix. Required unless the node is a destination (which has its own `uri`). */
  uri?: string;
  format?: DestinationSpec['format'];
  /** CSV field delimiter (one character); a comma unless given. */
  delimiter?: string;
}

export interface WrittenOutput {
  node: string;
  /** The table written: `<node>` or `<node>.<output>`, or a destination's input. */
  table: string;
  uri: string;
  format: DestinationSpec['format'];
  objects: string[];
  rows: number;
}

/**
 * The table a request writes (`<id>` or `<id>.<output>`), checked against the flow without
 * running it: the node exists, has a table, and has the output named.
 */
export function tableOfRequest(flow: FlowDocument, request: Pick<OutputRequest, 'node' | 'output'>): string {
  const node = flow.nodes.find((n) => n.id === request.node);
  if (!node) throw new FlowError(`no node '${request.node}' in this flow; its nodes are ${flow.nodes.map((n) => n.id).join(', ')}`, 404, 'NoSuchNode');
  const output = request.output === DEFAULT_OUTPUT ? undefined : request.output;
  if (node.type === 'analysis') throw new FlowError(`node '${node.id}' is an analysis; it has no table to write`, 400, 'NoTable');
  if (node.type === 'destination') {
    if (output !== undefined) throw new FlowError(`destination '${node.id}' has one output, '${DEFAULT_OUTPUT}', not '${output}'`, 400, 'NoSuchOutput');
    if (node.operator === 'feature_group') throw new FlowError(`node '${node.id}': feature groups are not part of Kiln yet; write to S3 instead`, 400, 'NotImplemented');
    return node.inputs![0]!;
  }
  const outputs = operatorCatalog.outputsOf(node);
  if (outputs && output === undefined) throw new FlowError(`node '${node.id}' has named outputs; write one of ${outputs.map((o) => `${node.id}.${o}`).join(', ')}`, 400, 'NoSuchOutput');
  if (output !== undefined && !outputs?.includes(output)) {
    throw new FlowError(`node '${node.id}' has no output '${output}'; it has ${(outputs ?? [DEFAULT_OUTPUT]).map((o) => `'${o}'`).join(', ')}`, 400, 'NoSuchOutput');
  }
  return output === undefined ? node.id : `${node.id}.${output}`;
}

/** How a request's table is written: a destination's own settings with the request's overrides, or the request's. */
function specOf(node: FlowNode, request: OutputRequest, columns: Column[]): DestinationSpec {
  const base: DestinationSpec =
    node.type === 'destination'
      ? destinationSpec(new Params(node, columns), columns.map((c) => c.name))
      : { uri: request.uri ?? '', format: 'csv', partitionBy: [], header: true };
  const spec: DestinationSpec = { ...base, ...(request.uri ? { uri: request.uri } : {}), ...(request.format ? { format: request.format } : {}) };
  if (!spec.uri) throw new FlowError(`node '${node.id}' is not a destination: say where to write it`, 400);
  if (request.delimiter !== undefined) {
    if (request.delimiter.length !== 1) throw new FlowError(`the CSV delimiter must be one character, not '${request.delimiter}'`, 400);
    spec.delimiter = request.delimiter;
  }
  return spec;
}

/** Runs what the request's table needs and writes it; returns where it went and how many rows it has. */
export async function writeOutput(session: FlowSession, request: OutputRequest): Promise<WrittenOutput> {
  return (await writeOutputs(session, [request]))[0]!;
}

/**
 * Runs what the requests' tables need and writes them, several at a time (see
 * FlowSession.writeTables); returns what each wrote, in order.
 */
export async function writeOutputs(session: FlowSession, requests: OutputRequest[]): Promise<WrittenOutput[]> {
  const planned = [];
  for (const request of requests) {
    const table = tableOfRequest(session.flow, request);
    const node = session.node(request.node);
    const relation = await session.relation(table);
    planned.push({ node, table, spec: specOf(node, request, relation.columns) });
  }
  const written = await session.writeTables(planned.map((p) => ({ ref: p.table, spec: p.spec, forNode: p.node.id })));
  return planned.map((p, i) => ({ node: p.node.id, table: p.table, uri: p.spec.uri, format: p.spec.format, objects: written[i]!.objects, rows: written[i]!.rows }));
}
