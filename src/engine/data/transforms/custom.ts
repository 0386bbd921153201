/**
 * Custom transforms. SQL runs in DuckDB with the input visible as the table `df`. JavaScript gets
 * `rows` (an array of plain objects) and `columns`, and returns the new rows. Python runs the
 * user's pandas code on `df` with the machine's Python, when pandas is there.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import vm from 'node:vm';
import { FlowError } from '../errors.ts';
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, literal } from '../sql.ts';

export const customSql: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const sql = ctx.params.string('sql').trim().replace(/;\s*$/, '');
    if (!/^(select|with|from|values|pivot|unpivot)\b/i.test(sql)) throw ctx.params.fail('custom SQL must be one query (SELECT, WITH, FROM …) over the table df');
    if (sql.includes(';')) throw ctx.params.fail('custom SQL must be a single statement');
    return {
      prepare: [`CREATE OR REPLACE TEMP VIEW df AS SELECT * FROM ${ident(ctx.input.table)}`],
      select: sql,
    };
  },
};

const JS_TIMEOUT_MS = 30_000;

export const customJavaScript: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const code = ctx.params.string('code');
    const rows = await ctx.query(`SELECT * FROM ${ident(ctx.input.table)}`);
    const columns = ctx.input.columns.map((c) => ({ ...c }));
    let result: unknown;
    try {
      const script = new vm.Script(`(function (rows, columns) {\n${code}\n})`, { filename: `${ctx.node.id}.js`, lineOffset: -1 });
      const fn = script.runInNewContext(Object.create(null), { timeout: JS_TIMEOUT_MS }) as (r: unknown, c: unknown) => unknown;
      result = fn(rows, columns);
    } catch (e) {
      const err = e as Error;
      const at = /\.js:(\d+)/.exec(err.stack ?? '')?.[1];
      throw new FlowError(`${ctx.params.where}: the JavaScript transform threw ${err.name ?? 'an error'}: ${err.message}${at ? ` (line ${at})` : ''}`, 400, 'CustomTransformError');
    }
    if (!Array.isArray(result)) throw new FlowError(`${ctx.params.where}: the JavaScript transform must return an array of row objects`, 400, 'CustomTransformError');
    if (result.some((r) => !r || typeof r !== 'object' || Array.isArray(r))) throw new FlowError(`${ctx.params.where}: every returned row must be an object`, 400, 'CustomTransformError');
    if (result.length === 0) return { select: `SELECT * FROM ${ident(ctx.input.table)} WHERE FALSE` };
    const file = path.join(ctx.scratchDir, `${ctx.node.id}-${Date.now()}.jsonl`);
    await writeFile(file, `${result.map((r) => JSON.stringify(r)).join('\n')}\n`);
    return { select: `SELECT * FROM read_json(${literal(file)}, format = 'newline_delimited', sample_size = -1)` };
  },
};

export const PYTHON_BIN = process.env.KILN_PYTHON ?? '/usr/bin/python3';

const PYTHON_RUNNER = `
import sys, traceback
import pandas as pd
src, dst, code_file = sys.argv[1], sys.argv[2], sys.argv[3]
df = pd.read_csv(src, keep_default_na=False, na_values=[''])
code = open(code_file).read()
try:
    scope = {'pd': pd, 'df': df, '__name__': '__kiln__'}
    exec(compile(code, 'transform.py', 'exec'), scope)
except Exception as e:
    tb = traceback.extract_tb(e.__traceback__)
    line = next((f.lineno for f in reversed(tb) if f.filename == 'transform.py'), None)
    sys.stderr.write(f"{type(e).__name__}: {e}" + (f" (line {line})" if line else "") + "\\n")
    sys.exit(3)
out = scope.get('df')
if not isinstance(out, pd.DataFrame):
    sys.stderr.write("the Python transform must leave a pandas DataFrame in df\\n"); sys.exit(3)
out.to_csv(dst, index=False)
`;

export const customPython: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const code = ctx.params.string('code');
    const stamp = `${ctx.node.id}-${Date.now()}`;
    const src = path.join(ctx.scratchDir, `${stamp}-in.csv`);
    const dst = path.join(ctx.scratchDir, `${stamp}-out.csv`);
    const codeFile = path.join(ctx.scratchDir, `${stamp}.py`);
    await ctx.duck.run(`COPY ${ident(ctx.input.table)} TO ${literal(src)} (FORMAT csv, HEADER)`);
    await writeFile(codeFile, code);
    const { code: exit, stderr } = await runProcess(PYTHON_BIN, ['-c', PYTHON_RUNNER, src, dst, codeFile]);
    if (exit !== 0) {
      if (/No module named 'pandas'|ENOENT/.test(stderr)) throw new FlowError(`${ctx.params.where}: Python transforms need a Python with pandas at ${PYTHON_BIN} (KILN_PYTHON)`, 400, 'CustomTransformError');
      const message = stderr.trim().split('\n').pop() ?? `exit code ${exit}`;
      throw new FlowError(`${ctx.params.where}: the Python transform failed: ${message}`, 400, 'CustomTransformError');
    }
    return { select: `SELECT * FROM read_csv(${literal(dst)}, header = true)` };
  },
};

function runProcess(command: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => resolve({ code: -1, stderr: String(e) }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
