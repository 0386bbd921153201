/**
 * Kiln's data-flow REST API under /_kiln/api: flows (create, read, edit, delete, export as a
 * .flow file or a script), node previews, analyses, runs, and the table catalog. Requests are
 * SigV4-signed (service `kiln`), authorized as `kiln:<Action>` and mutating calls are audited.
 * Answers are JSON; errors are `{ "code": …, "message": … }` with a 4xx/5xx status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditLog } from '../../iam/audit.ts';
import { authorize } from '../../iam/authorize.ts';
import type { CredentialStore } from '../../iam/credentials.ts';
import type { Principal } from '../../iam/principal.ts';
import { isAwsError } from '../../server/errors.ts';
import type { Logger } from '../../server/logger.ts';
import { readBody } from '../../server/request-body.ts';
import type { ObjectStore } from '../../store/objects/types.ts';
import { Catalog, checkTableDefinition, type CatalogTable } from '../../engine/data/catalog.ts';
import { DuckSession } from '../../engine/data/duck.ts';
import { FlowError, isFlowError } from '../../engine/data/errors.ts';
import { exportScript } from '../../engine/data/export-script.ts';
import type { FlowNode } from '../../engine/data/flow.ts';
import { parseInputRef } from '../../engine/data/flow.ts';
import { FlowStore, type StoredFlow } from '../../engine/data/flow-store.ts';
import type { FlowRuns } from '../../engine/data/flow-runs.ts';
import { ObjectFiles } from '../../engine/data/object-files.ts';
import { listOperators } from '../../engine/data/operators.ts';
import { inferColumns } from '../../engine/data/sources.ts';
import { authenticate } from './auth.ts';
import { FlowSessions } from './flow-sessions.ts';

export const API_PREFIX = '/_kiln/api';
const OWN_RESOURCES = new Set(['flows', 'flow-runs', 'data-catalog']);

export interface FlowsApiDeps {
  flows: FlowStore;
  runs: FlowRuns;
  catalog: Catalog;
  sessions: FlowSessions;
  objects: ObjectStore;
  credentials: CredentialStore;
  audit: AuditLog;
  log: Logger;
  region: string;
  accountId: string;
  maxBodyBytes: number;
}

interface Call {
  method: string;
  parts: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The values of the route's `:name` segments. */
  params: Record<string, string>;
}

type Handler = (call: Call) => Promise<{ status?: number; json?: unknown; text?: string; contentType?: string; filename?: string }>;

interface Route {
  method: string;
  /** Path under the prefix with `:name` segments. */
  pattern: string[];
  action: string;
  mutating: boolean;
  handle: Handler;
}

export function createFlowsApi(deps: FlowsApiDeps) {
  const routes: Route[] = [];
  const route = (method: string, pattern: string, action: string, handle: Handler) =>
    routes.push({ method, pattern: pattern.split('/').filter(Boolean), action, mutating: method !== 'GET', handle });
  const arn = (call: Call) => `arn:aws:kiln:${deps.region}:${deps.accountId}:${call.parts.slice(0, 2).join('/')}`;

  const nodeOf = (body: Record<string, unknown>): FlowNode => {
    const node = body.node;
    if (!node || typeof node !== 'object') throw new FlowError(`the body must carry "node": {id, type, operator, inputs, parameters}`);
    return node as FlowNode;
  };

  // --- flows
  route('GET', 'flows', 'ListFlows', async () => ({ json: { flows: (await deps.flows.list()).map(({ flow, ...meta }) => ({ ...meta, nodes: flow.nodes.length })) } }));
  route('GET', 'flows/operators', 'ListFlowOperators', async () => ({ json: listOperators() }));
  route('POST', 'flows', 'CreateFlow', async ({ body }) => ({ status: 201, json: await deps.flows.create(body.name as string, body.flow ?? { version: 1, nodes: [] }) }));
  route('GET', 'flows/:name', 'GetFlow', async (c) => ({ json: await deps.flows.get(c.params.name!) }));
  route('GET', 'flows/:name/file', 'GetFlow', async (c) => {
    const stored = await deps.flows.get(c.params.name!);
    return { text: `${JSON.stringify(stored.flow, null, 2)}\n`, contentType: 'application/json', filename: `${stored.name}.flow` };
  });
  route('PUT', 'flows/:name', 'UpdateFlow', async (c) => {
    const name = c.params.name!;
    const updated = await deps.flows.replace(name, c.body.flow, c.body.revision === undefined ? undefined : Number(c.body.revision));
    void deps.sessions.drop(name);
    return { json: updated };
  });
  route('DELETE', 'flows/:name', 'DeleteFlow', async (c) => {
    const name = c.params.name!;
    await deps.flows.delete(name);
    void deps.sessions.drop(name);
    return { status: 204 };
  });

  // --- nodes: edits are whole-document replacements, validated before anything is stored
  const editNodes = async (name: string, edit: (nodes: FlowNode[]) => FlowNode[], revision?: unknown) => {
    const stored = await deps.flows.get(name);
    const updated = await deps.flows.replace(name, { ...stored.flow, nodes: edit(structuredClone(stored.flow.nodes)) }, revision === undefined ? stored.revision : Number(revision));
    void deps.sessions.drop(name);
    return updated;
  };
  route('POST', 'flows/:name/nodes', 'UpdateFlow', async (c) => ({ status: 201, json: await editNodes(c.params.name!, (nodes) => [...nodes, nodeOf(c.body)], c.body.revision) }));
  route('PUT', 'flows/:name/nodes/:node', 'UpdateFlow', async (c) => {
    const id = c.params.node!;
    return {
      json: await editNodes(c.params.name!, (nodes) => {
        const i = nodes.findIndex((n) => n.id === id);
        if (i < 0) throw new FlowError(`no node '${id}' in this flow`, 404, 'NoSuchNode');
        nodes[i] = { ...nodeOf(c.body), id };
        return nodes;
      }, c.body.revision),
    };
  });
  route('DELETE', 'flows/:name/nodes/:node', 'UpdateFlow', async (c) => {
    const id = c.params.node!;
    return {
      json: await editNodes(c.params.name!, (nodes) => {
        if (!nodes.some((n) => n.id === id)) throw new FlowError(`no node '${id}' in this flow`, 404, 'NoSuchNode');
        const users = nodes.filter((n) => n.inputs?.some((r) => parseInputRef(r).node === id));
        if (users.length) throw new FlowError(`node '${id}' is an input of ${users.map((u) => `'${u.id}'`).join(', ')}; delete or rewire those first`, 409, 'NodeInUse');
        return nodes.filter((n) => n.id !== id);
      }),
    };
  });

  // --- previews, analyses, export
  route('POST', 'flows/:name/preview', 'PreviewFlow', async (c) => {
    const stored = await deps.flows.get(c.params.name!);
    const node = typeof c.body.node === 'string' ? c.body.node : lastTableNode(stored);
    const limit = c.body.limit === undefined ? 50 : Number(c.body.limit);
    if (!Number.isFinite(limit) || limit < 0) throw new FlowError('limit must be a non-negative number');
    return { json: await deps.sessions.with(stored, (s) => s.preview(node, limit)) };
  });
  route('POST', 'flows/:name/analyses/:node', 'AnalyzeFlow', async (c) => {
    const stored = await deps.flows.get(c.params.name!);
    const id = c.params.node!;
    const result = await deps.sessions.with(stored, (s) => s.analyze(id));
    return { json: { node: id, operator: stored.flow.nodes.find((n) => n.id === id)?.operator, ...result } };
  });
  route('POST', 'flows/:name/export', 'ExportFlow', async (c) => {
    const stored = await deps.flows.get(c.params.name!);
    const format = (c.body.format as string | undefined) ?? 'script';
    if (format === 'flow') return { json: { files: { [`${stored.name}.flow`]: JSON.stringify(stored.flow, null, 2) } } };
    if (format !== 'script') throw new FlowError(`export format must be 'script' or 'flow'`);
    return { json: await deps.sessions.with(stored, (s) => exportScript(s, stored.name)) };
  });

  // --- runs
  route('POST', 'flows/:name/runs', 'StartFlowRun', async (c) => {
    const stored = await deps.flows.get(c.params.name!);
    const destinations = c.body.destinations === undefined ? undefined : (c.body.destinations as string[]);
    if (destinations !== undefined && (!Array.isArray(destinations) || destinations.some((d) => typeof d !== 'string'))) throw new FlowError('destinations must be a list of node ids');
    return { status: 201, json: await deps.runs.start(stored.name, stored.revision, stored.flow, destinations) };
  });
  route('GET', 'flows/:name/runs', 'ListFlowRuns', async (c) => {
    const name = c.params.name!;
    await deps.flows.get(name);
    return { json: { runs: await deps.runs.list(name) } };
  });
  route('GET', 'flow-runs/:run', 'DescribeFlowRun', async (c) => ({ json: await deps.runs.get(c.params.run!) }));

  // --- table catalog
  route('GET', 'data-catalog/tables', 'ListTables', async () => ({ json: { tables: await deps.catalog.list() } }));
  route('GET', 'data-catalog/tables/:table', 'GetTable', async (c) => {
    const t = await deps.catalog.get(c.params.table!);
    if (!t) throw new FlowError(`no table '${c.params.table!}' in the catalog`, 404, 'NoSuchTable');
    return { json: t };
  });
  route('POST', 'data-catalog/tables', 'CreateTable', async ({ body }) => {
    const def = checkTableDefinition(body);
    const table: CatalogTable = { ...def, columns: def.columns ?? [], schemaSource: def.columns ? 'declared' : 'inferred', createdAt: new Date().toISOString() };
    if (!def.columns) table.columns = await inferTable(table);
    await deps.catalog.put(table);
    return { status: 201, json: table };
  });
  route('DELETE', 'data-catalog/tables/:table', 'DeleteTable', async (c) => {
    if (!(await deps.catalog.delete(c.params.table!))) throw new FlowError(`no table '${c.params.table!}' in the catalog`, 404, 'NoSuchTable');
    return { status: 204 };
  });

  async function inferTable(table: CatalogTable) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-catalog-'));
    const duck = await DuckSession.open({ threads: 1 });
    try {
      const files = await new ObjectFiles(deps.objects, dir).files(table.location);
      return await inferColumns(duck, table, files);
    } finally {
      await duck.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * `signedIn` is the principal of a Kiln Studio session (the console forwards its calls
   * here); without it the request must carry its own SigV4 signature.
   */
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL, signedIn?: Principal): Promise<boolean> {
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) return false;
    const parts = url.pathname.slice(API_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
    // Other parts of Kiln's API may live under the same prefix: only these resources are answered here.
    if (!OWN_RESOURCES.has(parts[0] ?? '')) return false;
    const requestId = randomUUID();
    const method = req.method ?? 'GET';
    const candidates = routes.filter((r) => r.pattern.length === parts.length && r.pattern.every((p, i) => p.startsWith(':') || p === parts[i]));
    // A literal segment wins over a parameter (flows/operators before flows/:name).
    const score = (r: Route) => r.pattern.filter((p) => !p.startsWith(':')).length;
    const matched = candidates.filter((r) => r.method === method).sort((a, b) => score(b) - score(a))[0];
    let principal: Principal | undefined;
    let status = 500;
    let errorCode: string | undefined;
    try {
      const body = await readBody(req, deps.maxBodyBytes);
      principal = signedIn ?? authenticate(req, body, deps.credentials);
      if (!matched) {
        throw candidates.length
          ? new FlowError(`${method} is not allowed on ${url.pathname}`, 405, 'MethodNotAllowed')
          : new FlowError(`no API at ${url.pathname}`, 404, 'NotFound');
      }
      let parsed: Record<string, unknown> = {};
      if (body.length) {
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch (e) {
          throw new FlowError(`the request body is not JSON: ${(e as Error).message}`, 400, 'InvalidJson');
        }
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FlowError('the request body must be a JSON object', 400, 'InvalidJson');
      }
      const params: Record<string, string> = {};
      matched.pattern.forEach((p, i) => p.startsWith(':') && (params[p.slice(1)] = parts[i]!));
      const call: Call = { method, parts, query: url.searchParams, body: parsed, params };
      authorize(principal, `kiln:${matched.action}`, arn(call));
      const out = await matched.handle(call);
      status = out.status ?? 200;
      if (status === 204) {
        res.writeHead(204, { 'x-amzn-requestid': requestId });
        res.end();
      } else {
        const text = out.text ?? JSON.stringify(out.json);
        const headers: Record<string, string | number> = { 'content-type': out.contentType ?? 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': requestId };
        if (out.filename) headers['content-disposition'] = `attachment; filename="${out.filename}"`;
        res.writeHead(status, headers);
        res.end(text);
      }
    } catch (e) {
      const { code, message, httpStatus } = describeError(e);
      status = httpStatus;
      errorCode = code;
      if (httpStatus >= 500) deps.log.error('kiln api request failed', { requestId, error: String((e as Error)?.stack ?? e) });
      const text = JSON.stringify({ code, message });
      if (!res.headersSent) res.writeHead(httpStatus, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': requestId, 'x-amzn-errortype': code });
      res.end(text);
    }
    if (principal && matched?.mutating) {
      deps.audit.record({
        time: new Date().toISOString(),
        principal: principal.arn,
        action: `kiln:${matched.action}`,
        resource: `arn:aws:kiln:${deps.region}:${deps.accountId}:${parts.slice(0, 2).join('/')}`,
        result: status < 400 ? 'success' : 'failure',
        errorCode,
        requestId,
        sourceIp: req.socket.remoteAddress ?? '',
      });
    }
    deps.log.info('request', { requestId, service: 'kiln-api', operation: matched?.action, status });
    return true;
  };
}

function lastTableNode(stored: StoredFlow): string {
  const tables = stored.flow.nodes.filter((n) => n.type === 'source' || n.type === 'transform');
  const last = tables[tables.length - 1];
  if (!last) throw new FlowError(`flow '${stored.name}' has no source or transform to preview`);
  return last.id;
}

function describeError(e: unknown): { code: string; message: string; httpStatus: number } {
  if (isFlowError(e)) return { code: e.code, message: e.message, httpStatus: e.status };
  if (isAwsError(e)) return { code: e.code, message: e.message, httpStatus: e.status };
  return { code: 'InternalFailure', message: `An internal error occurred: ${(e as Error)?.message ?? String(e)}`, httpStatus: 500 };
}
