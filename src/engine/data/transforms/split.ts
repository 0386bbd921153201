/**
 * Split data into named outputs: random, stratified (the same shares within every class of a
 * column), ordered (in the current row order) or key-based (every row of a key lands in the same
 * split). Random and stratified splits are exact: with n rows in a group and cumulative shares
 * c_1 < … < 1, split i gets the rows ranked in [floor(n·c_{i-1} + ½), floor(n·c_i + ½)).
 */
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { FlowError } from '../errors.ts';
import { ident, literal } from '../sql.ts';

export interface SplitShare {
  name: string;
  fraction: number;
}

export function splitShares(parameters: Record<string, unknown> | undefined, where = 'split'): SplitShare[] {
  const raw = parameters?.splits;
  if (!Array.isArray(raw) || raw.length < 2) throw new FlowError(`${where}: parameter 'splits' must list at least two {name, fraction} entries`);
  const shares = raw.map((s, i) => {
    const name = (s as { name?: unknown })?.name;
    const fraction = Number((s as { fraction?: unknown; percentage?: unknown })?.fraction ?? Number((s as { percentage?: unknown })?.percentage) / 100);
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(name)) throw new FlowError(`${where}: split ${i} needs a name of letters, digits, _ and -`);
    if (!(fraction > 0 && fraction <= 1)) throw new FlowError(`${where}: split '${name}' needs a fraction in (0, 1]`);
    return { name, fraction };
  });
  if (new Set(shares.map((s) => s.name)).size !== shares.length) throw new FlowError(`${where}: split names must be unique`);
  const total = shares.reduce((a, s) => a + s.fraction, 0);
  if (Math.abs(total - 1) > 1e-9) throw new FlowError(`${where}: split fractions add up to ${total}, not 1`);
  return shares;
}

/** Cumulative upper bounds of the shares, the last exactly 1. */
export function cumulativeBounds(shares: SplitShare[]): number[] {
  let acc = 0;
  return shares.map((s, i) => (i === shares.length - 1 ? 1 : (acc += s.fraction)));
}

export const split: TransformOperator = {
  viewInput: () => true,
  outputs: (parameters) => splitShares(parameters).map((s) => s.name),
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p, input } = ctx;
    const from = ident(input.table);
    const shares = splitShares(ctx.node.parameters, p.where);
    const bounds = cumulativeBounds(shares);
    const method = p.oneOf('method', ['random', 'stratified', 'ordered', 'key'] as const, 'random');
    const seed = Math.trunc(p.number('seed', ctx.seed));
    // The node's own table is narrow: one split name per input row, in the input's order. Each
    // output lines it up with the input row by row (POSITIONAL JOIN), so no wide row is sorted.
    // A row's position is its rowid in a table; in a view (which keeps its rows' order) it is
    // counted, and comes out the same as the rowid the view's rows would have as a table.
    let select: string;
    if (method === 'key') {
      const keys = p.columnList('columns').map((c) => ident(c.name));
      // A key's position in [0, 1) comes from its hash, so a key never straddles two splits.
      const u = `(hash(${keys.join(', ')}, ${literal(seed)}) % 1000000) / 1000000.0`;
      select = `SELECT ${caseOf(shares, bounds, (b) => `${u} < ${literal(b)}`)} AS __split FROM ${from}`;
    } else {
      const stratum = method === 'stratified' ? ident(p.column('column').name) : undefined;
      const position = input.kind === 'view' ? 'row_number() OVER () - 1' : 'rowid';
      const rows = `SELECT ${position} AS __pos${stratum ? `, ${stratum}` : ''} FROM ${from}`;
      const partition = stratum ? `PARTITION BY ${stratum}` : '';
      const order = method === 'ordered' ? '__pos' : `hash(__pos, ${literal(seed)}), __pos`;
      const ranked = `SELECT __pos, row_number() OVER (${partition} ORDER BY ${order}) - 1 AS __r, count(*) OVER (${partition}) AS __n FROM (${rows})`;
      select = `SELECT ${caseOf(shares, bounds, (b) => `__r < floor(__n * ${literal(b)} + 0.5)`)} AS __split FROM (${ranked}) ORDER BY __pos`;
    }
    const outputs: Record<string, string> = {};
    for (const s of shares) outputs[s.name] = `SELECT __input.* FROM ${from} AS __input POSITIONAL JOIN {self} AS __assigned WHERE __assigned.__split = ${literal(s.name)}`;
    return { select, outputs };
  },
};

function caseOf(shares: SplitShare[], bounds: number[], test: (bound: number) => string): string {
  const whens = shares.slice(0, -1).map((s, i) => `WHEN ${test(bounds[i]!)} THEN ${literal(s.name)}`);
  return `CASE ${whens.join(' ')} ELSE ${literal(shares[shares.length - 1]!.name)} END`;
}
