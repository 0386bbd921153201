/** Scatter plot of two numeric columns on a sample of rows, optionally coloured and faceted. */
import type { AnalysisOperator, CompileContext } from '../operator.ts';
import { isNumericType } from '../sql.ts';
import { cappedCategory, facetEncoding, ident, VEGA_LITE } from './common.ts';

export const scatter: AnalysisOperator = {
  async analyze(ctx: CompileContext) {
    const { params: p, input } = ctx;
    const x = p.column('x');
    const y = p.column('y');
    for (const c of [x, y]) if (!isNumericType(c.type)) throw p.fail(`column '${c.name}' is ${c.type}; a scatter plot needs numeric columns`);
    const colorBy = p.optionalColumn('colorBy');
    const facetBy = p.optionalColumn('facetBy');
    const sample = Math.max(1, Math.min(50_000, Math.trunc(p.number('sampleSize', 5000))));
    const select = [
      `${ident(x.name)}::DOUBLE AS x`,
      `${ident(y.name)}::DOUBLE AS y`,
      colorBy ? `${cappedCategory(colorBy, input.table, 20)} AS color` : null,
      facetBy ? `${cappedCategory(facetBy, input.table, 12)} AS facet` : null,
    ].filter(Boolean);
    const points = await ctx.query(
      `SELECT * FROM (SELECT ${select.join(', ')} FROM ${ident(input.table)} WHERE ${ident(x.name)} IS NOT NULL AND ${ident(y.name)} IS NOT NULL)
       USING SAMPLE reservoir(${sample} ROWS) REPEATABLE (${ctx.seed})`,
    );
    return {
      data: { x: x.name, y: y.name, colorBy: colorBy?.name, facetBy: facetBy?.name, points },
      chart: {
        $schema: VEGA_LITE,
        title: `${y.name} against ${x.name}`,
        data: { values: points },
        mark: { type: 'point', opacity: 0.6 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: x.name },
          y: { field: 'y', type: 'quantitative', title: y.name },
          ...(colorBy ? { color: { field: 'color', type: 'nominal', title: colorBy.name } } : {}),
          ...facetEncoding(facetBy?.name),
        },
      },
    };
  },
};
