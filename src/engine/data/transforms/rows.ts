/** Manage rows: drop duplicates, sort, shuffle, filter by a SQL expression. */
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, literal } from '../sql.ts';

const OPERATORS = ['drop_duplicates', 'sort', 'shuffle', 'filter'] as const;

export const manageRows: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p, input } = ctx;
    const from = ident(input.table);
    switch (p.oneOf('operator', OPERATORS)) {
      case 'drop_duplicates': {
        // Keeps the first occurrence and the original order, as pandas' drop_duplicates does;
        // GROUP BY treats missing values as equal, as pandas does.
        // Which rows to keep goes into a narrow table in row order, lined up with the input by
        // POSITIONAL JOIN, so the wide rows are never sorted.
        const keys = p.columnList('columns', input.columns).map((c) => ident(c.name));
        const keep = ident(`__keep_${ctx.node.id}`);
        return {
          prepare: [`CREATE OR REPLACE TABLE ${keep} AS SELECT k FROM (SELECT rowid AS r, rowid IN (SELECT min(rowid) FROM ${from} GROUP BY ${keys.join(', ')}) AS k FROM ${from}) ORDER BY r`],
          select: `SELECT __input.* FROM ${from} AS __input POSITIONAL JOIN ${keep} AS __keep WHERE __keep.k`,
        };
      }
      case 'sort': {
        const descending = p.oneOf('order', ['ascending', 'descending'] as const, 'ascending') === 'descending';
        const keys = p.columnList('columns').map((c) => `${ident(c.name)} ${descending ? 'DESC' : 'ASC'} NULLS LAST`);
        return { select: `SELECT * FROM ${from} ORDER BY ${keys.join(', ')}, rowid` };
      }
      case 'shuffle': {
        const seed = Math.trunc(p.number('seed', ctx.seed));
        return { select: `SELECT * FROM ${from} ORDER BY hash(rowid, ${literal(seed)}), rowid` };
      }
      case 'filter': {
        const expression = p.string('expression');
        if (/;/.test(expression)) throw p.fail('the filter expression must be a single SQL expression');
        const keep = p.oneOf('action', ['keep', 'drop'] as const, 'keep') === 'keep';
        const condition = keep ? `(${expression})` : `NOT coalesce((${expression}), FALSE)`;
        return { select: `SELECT * FROM ${from} WHERE ${condition}` };
      }
    }
  },
};
