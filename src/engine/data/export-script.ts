/**
 * Exports a flow as a standalone script: `flow.sql` holds the statements Kiln ran (fitted
 * transforms, such as one-hot categories, are fixed as they were fitted; statistics such as
 * outlier bounds are recomputed from the data), and `run.mjs` runs it with DuckDB on local files.
 */
import type { FlowSession } from './session.ts';

export interface ExportedScript {
  files: Record<string, string>;
  inputs: Record<string, string>;
  outputs: string[];
}

const RUNNER = `#!/usr/bin/env node
// Runs flow.sql with DuckDB (npm install @duckdb/node-api).
// Usage: node run.mjs <output-folder> <input-variable>=<file>[,<file>…] …
// The input variables and the s3:// locations they stood for are listed at the top of flow.sql.
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const [outDir, ...assignments] = process.argv.slice(2);
if (!outDir) { console.error('usage: node run.mjs <output-folder> <input-variable>=<file>[,<file>…] …'); process.exit(2); }
const here = path.dirname(new URL(import.meta.url).pathname);
const quote = (s) => "'" + s.replaceAll("'", "''") + "'";
const db = await (await DuckDBInstance.create(':memory:')).connect();
for (const a of assignments) {
  const [name, files] = a.split('=');
  if (!/^[A-Za-z0-9_]+$/.test(name ?? '') || !files) { console.error('bad input assignment: ' + a); process.exit(2); }
  await db.run('SET VARIABLE ' + name + ' = [' + files.split(',').map((f) => quote(path.resolve(f))).join(', ') + ']');
}
const script = readFileSync(path.join(here, 'flow.sql'), 'utf8');
for (const statement of script.split(/;\\n(?=\\S)/).map((s) => s.replace(/^--.*$/gm, '').trim()).filter(Boolean)) {
  const sql = statement.replace(/\\{\\{output:([A-Za-z0-9_-]+):([a-z]+):(file|folder)\\}\\}/g, (_, node, ext, kind) => {
    const dir = path.join(path.resolve(outDir), node);
    mkdirSync(dir, { recursive: true });
    return kind === 'folder' ? dir : path.join(dir, 'part-00000.' + ext);
  });
  const started = Date.now();
  await db.run(sql);
  console.log((sql.match(/^(CREATE OR REPLACE TABLE "[^"]+"|COPY|CREATE[^(]*|SET[^=]*)/)?.[0] ?? sql.slice(0, 40)) + ' — ' + (Date.now() - started) + ' ms');
}
`;

/** Runs every node the destinations need and returns the script reproducing them. */
export async function exportScript(session: FlowSession, flowName: string): Promise<ExportedScript> {
  const steps = await session.scriptSteps();
  const lines = [
    `-- Kiln data flow '${flowName}', exported ${new Date().toISOString()}.`,
    `-- Inputs (set with: node run.mjs <out> <variable>=<local file>):`,
    ...[...session.inputsUsed].map(([v, uri]) => `--   ${v}: ${uri}`),
    '',
  ];
  for (const step of steps) {
    lines.push(`-- node ${step.node}`);
    for (const s of step.sql) lines.push(`${s};`);
    lines.push('');
  }
  return {
    files: { 'flow.sql': lines.join('\n'), 'run.mjs': RUNNER, 'flow.flow': JSON.stringify(session.flow, null, 2) },
    inputs: Object.fromEntries(session.inputsUsed),
    outputs: session.destinations().map((d) => d.id),
  };
}
