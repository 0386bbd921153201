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
        const keys = p.columnList('columns', input.columns).map((c) => ident(c.name));
        return { select: `SELECT * FROM ${from} WHERE rowid IN (SELECT min(rowid) FROM ${from} GROUP BY ${keys.join(', ')}) ORDER BY rowid` };
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
