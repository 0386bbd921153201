/** Histogram of a column, optionally coloured by and faceted by other columns. */
import type { AnalysisOperator, CompileContext } from '../operator.ts';
import { isNumericType } from '../sql.ts';
import { cappedCategory, categoryExpr, facetEncoding, ident, literal, VEGA_LITE } from './common.ts';

export const histogram: AnalysisOperator = {
  async analyze(ctx: CompileContext) {
    const { params: p, input } = ctx;
    const t = ident(input.table);
    const column = p.column('column');
    const colorBy = p.optionalColumn('colorBy');
    const facetBy = p.optionalColumn('facetBy');
    const bins = Math.max(1, Math.min(200, Math.trunc(p.number('bins', 20))));
    const extra = [
      colorBy ? `${cappedCategory(colorBy, input.table, 20)} AS color` : null,
      facetBy ? `${cappedCategory(facetBy, input.table, 12)} AS facet` : null,
    ].filter((x): x is string => !!x);
    const groups = ['color', 'facet'].filter((g) => extra.some((e) => e.endsWith(` AS ${g}`)));
    const col = ident(column.name);
    let rows;
    let x: Record<string, unknown>;
    if (isNumericType(column.type)) {
      const [range] = await ctx.query(`SELECT min(${col})::DOUBLE AS lo, max(${col})::DOUBLE AS hi FROM ${t}`);
      const lo = Number(range!.lo ?? 0);
      const hi = Number(range!.hi ?? 0);
      const width = hi > lo ? (hi - lo) / bins : 1;
      const bin = `least(floor((${col} - ${literal(lo)}) / ${literal(width)}), ${bins - 1})`;
      rows = await ctx.query(
        `SELECT ${literal(lo)} + b * ${literal(width)} AS bin_start, ${literal(lo)} + (b + 1) * ${literal(width)} AS bin_end${groups.map((g) => `, ${g}`).join('')}, count(*) AS count
         FROM (SELECT ${bin} AS b${extra.map((e) => `, ${e}`).join('')} FROM ${t} WHERE ${col} IS NOT NULL) GROUP BY ALL ORDER BY ALL`,
      );
      x = { field: 'bin_start', type: 'quantitative', bin: { binned: true, step: width }, title: column.name };
    } else {
      rows = await ctx.query(
        `SELECT value${groups.map((g) => `, ${g}`).join('')}, count(*) AS count FROM (SELECT ${cappedCategory(column, input.table, 50)} AS value${extra.map((e) => `, ${e}`).join('')} FROM ${t})
         GROUP BY ALL ORDER BY count DESC, ALL`,
      );
      x = { field: 'value', type: 'nominal', sort: '-y', title: column.name };
    }
    const missing = await ctx.query(`SELECT count(*) AS n FROM ${t} WHERE ${col} IS NULL`);
    void categoryExpr;
    return {
      data: { column: column.name, type: column.type, colorBy: colorBy?.name, facetBy: facetBy?.name, bins: rows, missing: Number(missing[0]!.n) },
      chart: {
        $schema: VEGA_LITE,
        title: `Histogram of ${column.name}${colorBy ? ` by ${colorBy.name}` : ''}`,
        data: { values: rows },
        mark: 'bar',
        encoding: {
          x,
          ...(isNumericType(column.type) ? { x2: { field: 'bin_end' } } : {}),
          y: { field: 'count', type: 'quantitative', stack: true },
          ...(colorBy ? { color: { field: 'color', type: 'nominal', title: colorBy.name } } : {}),
          ...facetEncoding(facetBy?.name),
        },
      },
    };
  },
};
