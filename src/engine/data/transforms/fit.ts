/**
 * Statistics a transform fits on its input (a mean, a median, outlier bounds). They are computed
 * once, by a prepare statement, into a one-row temp table that the transform's SELECT reads. A
 * node that stays a view is recomputed by every statement that reads it; its fit is not. An
 * exported script runs the prepare statement too, so it refits on its own input.
 */
import { ident } from '../sql.ts';

export class Fit {
  private readonly names = new Map<string, string>();
  private readonly table: string;

  constructor(
    node: string,
    private readonly from: string,
  ) {
    this.table = ident(`__fit_${node}`);
  }

  /** A scalar expression with the value of `aggregate` over the input; asking twice shares one column. */
  value(aggregate: string): string {
    let name = this.names.get(aggregate);
    if (!name) {
      name = `__fit${this.names.size}`;
      this.names.set(aggregate, name);
    }
    return `(SELECT ${name} FROM ${this.table})`;
  }

  /** The statement that computes the fit; none when nothing was asked for. */
  prepare(): string[] {
    if (this.names.size === 0) return [];
    const columns = [...this.names].map(([aggregate, name]) => `${aggregate} AS ${name}`);
    return [`CREATE OR REPLACE TEMP TABLE ${this.table} AS SELECT ${columns.join(', ')} FROM ${this.from}`];
  }
}
