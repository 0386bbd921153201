/**
 * Statistics a transform fits on its input (a mean, a median, outlier bounds). They are computed
 * once, by a prepare statement, into a one-row table, and from it into a session variable (one
 * struct) that the transform's SELECT reads. DuckDB binds a variable as a constant, so a node that
 * stays a view, and is recomputed by every statement reading it, neither refits nor joins
 * anything. Variables belong to a connection: another connection of the session sets its own from
 * the table. An exported script runs the prepare statements too, so it refits on its own input.
 */
import { ident, literal } from '../sql.ts';

export class Fit {
  private readonly names = new Map<string, string>();
  private readonly variable: string;

  constructor(
    node: string,
    private readonly from: string,
  ) {
    this.variable = `__fit_${node}`;
  }

  /** A scalar expression with the value of `aggregate` over the input; asking twice shares one column. */
  value(aggregate: string): string {
    let name = this.names.get(aggregate);
    if (!name) {
      name = `__fit${this.names.size}`;
      this.names.set(aggregate, name);
    }
    return `getvariable(${literal(this.variable)}).${name}`;
  }

  /** The statement that computes the fit; none when nothing was asked for. */
  prepare(): string[] {
    if (this.names.size === 0) return [];
    const fields = [...this.names].map(([aggregate, name]) => `${literal(name)}: ${aggregate}`);
    const table = ident(this.variable);
    return [`CREATE OR REPLACE TABLE ${table} AS SELECT {${fields.join(', ')}} AS fit FROM ${this.from}`, `SET VARIABLE ${ident(this.variable)} = (SELECT fit FROM ${table})`];
  }
}
