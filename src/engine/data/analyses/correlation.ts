/** Feature correlation: linear (Pearson) and non-linear (Spearman, on average ranks) matrices of numeric columns. */
import type { AnalysisOperator, CompileContext } from '../operator.ts';
import type { Column } from '../duck.ts';
import { isNumericType } from '../sql.ts';
import { ident, VEGA_LITE } from './common.ts';

export async function correlationMatrix(ctx: CompileContext, columns: Column[], method: 'linear' | 'nonlinear'): Promise<number[][]> {
  const t = ident(ctx.input.table);
  const k = columns.length;
  // Average ranks make Spearman's rho the Pearson correlation of ranks, ties included.
  const from = method === 'linear'
    ? t
    : `(SELECT ${columns.map((c, i) => `CASE WHEN ${ident(c.name)} IS NULL THEN NULL ELSE rank() OVER (PARTITION BY ${ident(c.name)} IS NULL ORDER BY ${ident(c.name)}) + (count(*) OVER (PARTITION BY ${ident(c.name)}) - 1) / 2.0 END AS r${i}`).join(', ')} FROM ${t})`;
  const ref = (i: number) => (method === 'linear' ? `${ident(columns[i]!.name)}::DOUBLE` : `r${i}`);
  const pairs: string[] = [];
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) pairs.push(`corr(${ref(i)}, ${ref(j)}) AS c_${i}_${j}`);
  const row = pairs.length ? (await ctx.query(`SELECT ${pairs.join(', ')} FROM ${from}`))[0]! : {};
  const m = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : NaN)));
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const v = row[`c_${i}_${j}`];
      const x = v === null || v === undefined ? NaN : Number(v);
      m[i]![j] = x;
      m[j]![i] = x;
    }
  }
  return m;
}

export const featureCorrelation: AnalysisOperator = {
  async analyze(ctx: CompileContext) {
    const { params: p, input } = ctx;
    const method = p.oneOf('type', ['linear', 'nonlinear'] as const, 'linear');
    const columns = p.columnList('columns', input.columns.filter((c) => isNumericType(c.type)));
    for (const c of columns) if (!isNumericType(c.type)) throw p.fail(`column '${c.name}' is ${c.type}; correlation needs numeric columns`);
    if (columns.length > 100) throw p.fail(`too many columns (${columns.length}); list at most 100 in 'columns'`);
    const matrix = await correlationMatrix(ctx, columns, method);
    const cells = [];
    for (let i = 0; i < columns.length; i++) for (let j = 0; j < columns.length; j++) cells.push({ a: columns[i]!.name, b: columns[j]!.name, correlation: Number.isNaN(matrix[i]![j]!) ? null : matrix[i]![j] });
    const strongest = cells.filter((c) => c.a < c.b && c.correlation !== null).sort((x, y) => Math.abs(y.correlation!) - Math.abs(x.correlation!)).slice(0, 10);
    return {
      data: { type: method, method: method === 'linear' ? 'pearson' : 'spearman', columns: columns.map((c) => c.name), matrix: matrix.map((r) => r.map((v) => (Number.isNaN(v) ? null : v))), strongest },
      chart: {
        $schema: VEGA_LITE,
        title: `${method === 'linear' ? 'Linear (Pearson)' : 'Non-linear (Spearman)'} feature correlation`,
        data: { values: cells },
        mark: 'rect',
        encoding: {
          x: { field: 'a', type: 'nominal', title: null },
          y: { field: 'b', type: 'nominal', title: null },
          color: { field: 'correlation', type: 'quantitative', scale: { domain: [-1, 1], scheme: 'redblue' } },
        },
      },
    };
  },
};
