/** Columns a feature group needs: a record identifier and an event time. */
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, literal } from '../sql.ts';

export const addRecordId: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const name = ctx.params.string('column', 'record_id');
    if (ctx.input.columns.some((c) => c.name === name)) throw ctx.params.fail(`the input already has a column '${name}'`);
    return { select: `SELECT *, CAST(rowid + 1 AS BIGINT) AS ${ident(name)} FROM ${ident(ctx.input.table)}` };
  },
};

export const addEventTime: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const p = ctx.params;
    const name = p.string('column', 'event_time');
    if (ctx.input.columns.some((c) => c.name === name)) throw p.fail(`the input already has a column '${name}'`);
    // Feature Store accepts fractional epoch seconds or an ISO-8601 string.
    const format = p.oneOf('format', ['fractional_seconds', 'iso8601'] as const, 'fractional_seconds');
    const seconds = p.number('time', Date.now() / 1000);
    const expr = format === 'iso8601' ? `strftime(to_timestamp(${literal(seconds)}), '%Y-%m-%dT%H:%M:%SZ')` : `CAST(${literal(seconds)} AS DOUBLE)`;
    return { select: `SELECT *, ${expr} AS ${ident(name)} FROM ${ident(ctx.input.table)}` };
  },
};
