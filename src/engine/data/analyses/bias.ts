/**
 * Pre-training bias for a facet, as SageMaker Clarify defines it: class imbalance
 * CI = (n_a − n_d) / (n_a + n_d) and difference in positive proportions in labels
 * DPL = q_a − q_d, where d is the facet group (rows whose facet value is listed) and a the rest.
 */
import type { AnalysisOperator, CompileContext } from '../operator.ts';
import { ident, literal, VEGA_LITE } from './common.ts';

export const bias: AnalysisOperator = {
  async analyze(ctx: CompileContext) {
    const { params: p, input } = ctx;
    const label = p.column('label');
    const facet = p.column('facet');
    const positive = p.stringArray('labelValues');
    const facetValues = p.stringArray('facetValues');
    const isD = `CAST(${ident(facet.name)} AS VARCHAR) IN (${facetValues.map(literal).join(', ')})`;
    const isPos = `CAST(${ident(label.name)} AS VARCHAR) IN (${positive.map(literal).join(', ')})`;
    const r = (await ctx.query(
      `SELECT count(*) FILTER (WHERE ${isD}) AS nd, count(*) FILTER (WHERE NOT ${isD}) AS na,
              count(*) FILTER (WHERE ${isD} AND ${isPos}) AS pd, count(*) FILTER (WHERE NOT ${isD} AND ${isPos}) AS pa
       FROM ${ident(input.table)} WHERE ${ident(facet.name)} IS NOT NULL AND ${ident(label.name)} IS NOT NULL`,
    ))[0]!;
    const [nd, na, pd, pa] = [r.nd, r.na, r.pd, r.pa].map(Number) as [number, number, number, number];
    if (nd === 0) throw p.fail(`no row of '${facet.name}' has the values ${facetValues.join(', ')}`);
    const qa = na ? pa / na : 0;
    const qd = pd / nd;
    const metrics = [
      { name: 'CI', description: 'Class imbalance', value: (na - nd) / (na + nd) },
      { name: 'DPL', description: 'Difference in positive proportions in labels', value: qa - qd },
    ];
    return {
      data: { label: label.name, labelValues: positive, facet: facet.name, facetValues, counts: { facet: nd, rest: na, facetPositive: pd, restPositive: pa }, metrics },
      chart: { $schema: VEGA_LITE, title: `Bias for ${facet.name}`, data: { values: metrics }, mark: 'bar', encoding: { x: { field: 'name', type: 'nominal' }, y: { field: 'value', type: 'quantitative', scale: { domain: [-1, 1] } } } },
    };
  },
};
