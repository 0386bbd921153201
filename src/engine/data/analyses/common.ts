/** Shared pieces of analyses: column kinds, category capping, Vega-Lite helpers. */
import type { Column } from '../duck.ts';
import { ident, isNumericType, isTemporalType, literal } from '../sql.ts';

export type FeatureKind = 'numeric' | 'categorical' | 'binary' | 'datetime' | 'text' | 'vector';

export const VEGA_LITE = 'https://vega.github.io/schema/vega-lite/v5.json';

/** A column as a categorical value: its text, with missing values as '(missing)'. */
export const categoryExpr = (c: Column): string => `coalesce(CAST(${ident(c.name)} AS VARCHAR), '(missing)')`;

/** The expression of a colour/facet column capped to its `limit` most frequent values (others become '(other)'). */
export function cappedCategory(c: Column, table: string, limit: number): string {
  const expr = categoryExpr(c);
  return `CASE WHEN ${expr} IN (SELECT ${expr} FROM ${ident(table)} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ${limit}) THEN ${expr} ELSE '(other)' END`;
}

export function kindOf(c: Column, distinct: number): FeatureKind {
  if (/\[\]$/.test(c.type)) return 'vector';
  if (isTemporalType(c.type)) return 'datetime';
  if (distinct <= 2) return 'binary';
  if (isNumericType(c.type)) return 'numeric';
  return 'categorical';
}

export const numberOr = (v: unknown, fallback: number | null = null): number | null => (v === null || v === undefined || Number.isNaN(Number(v)) ? fallback : Number(v));

export const facetEncoding = (facet: string | undefined) => (facet ? { facet: { field: 'facet', type: 'nominal', columns: 3 } } : {});

export { ident, literal };
