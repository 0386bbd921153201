/**
 * Metric points of trial components (BatchPutMetrics, and the final metrics of jobs) and
 * their per-metric summaries. Points are kept for charts; summaries are merged at
 * ingestion so Describe and Search read one row per metric.
 */
import type { MetadataDb } from '../../store/metadata/database.ts';
import type { MetricSummaryTable } from '../../store/metadata/schema.ts';
import { mergeStats, metricSummary, statsOf, type MetricPoint, type MetricStats } from './metric-summary.ts';

/** Kiln's limits; SageMaker answers METRIC_LIMIT_EXCEEDED past its own, unpublished ones. */
export const MAX_METRICS_PER_COMPONENT = 200;
export const MAX_POINTS_PER_METRIC = 1_000_000;
const METRIC_NAME = /^.{1,255}$/su;

export interface RawMetric {
  MetricName: string;
  Timestamp: Date;
  Step?: number;
  Value: number | string;
}

export type PutMetricsErrorCode = 'METRIC_LIMIT_EXCEEDED' | 'INTERNAL_ERROR' | 'VALIDATION_ERROR' | 'CONFLICT_ERROR';
export interface PutMetricsError {
  Code: PutMetricsErrorCode;
  MetricIndex: number;
}

export interface MetricSeries {
  MetricName: string;
  SourceArn?: string;
  Points: { Timestamp: Date; Step?: number; Value: number }[];
}

const toStats = (r: MetricSummaryTable): MetricStats => ({
  count: r.count,
  mean: r.mean,
  m2: r.m2,
  min: r.min,
  max: r.max,
  last: r.last,
  lastTimestamp: r.last_timestamp,
  lastStep: r.last_step,
});

/** A point as stored, or why it cannot be (the wire may carry "NaN"/"Infinity" for doubles). */
function parsePoint(m: RawMetric): MetricPoint | undefined {
  const value = typeof m.Value === 'number' ? m.Value : Number(m.Value);
  const timestamp = m.Timestamp instanceof Date ? m.Timestamp.getTime() : Number.NaN;
  const step = m.Step ?? null;
  if (!Number.isFinite(value) || !Number.isFinite(timestamp) || typeof m.MetricName !== 'string' || !METRIC_NAME.test(m.MetricName)) return undefined;
  if (step !== null && (!Number.isInteger(step) || step < 0)) return undefined;
  return { timestamp, step, value };
}

export class MetricStore {
  constructor(private readonly db: MetadataDb) {}

  /**
   * Stores what it can of one batch and reports the rest by index, as BatchPutMetrics does:
   * invalid points are VALIDATION_ERROR, points past the limits METRIC_LIMIT_EXCEEDED.
   */
  async put(trialComponentName: string, data: RawMetric[], sourceArn?: string): Promise<{ errors: PutMetricsError[]; summaries: Record<string, unknown>[] }> {
    const errors: PutMetricsError[] = [];
    const byMetric = new Map<string, MetricPoint[]>();
    const indexes = new Map<string, number[]>();
    data.forEach((m, i) => {
      const point = parsePoint(m);
      if (!point) return errors.push({ Code: 'VALIDATION_ERROR', MetricIndex: i });
      byMetric.set(m.MetricName, [...(byMetric.get(m.MetricName) ?? []), point]);
      indexes.set(m.MetricName, [...(indexes.get(m.MetricName) ?? []), i]);
    });
    const summaries: MetricSummaryTable[] = [];
    if (!byMetric.size) return { errors, summaries: [] };

    await this.db.transaction().execute(async (tx) => {
      const rows = await tx.selectFrom('metric_summaries').selectAll().where('trial_component_name', '=', trialComponentName).execute();
      const existing = new Map(rows.map((r) => [r.metric_name, r]));
      let metricCount = existing.size;
      const points: { trial_component_name: string; metric_name: string; timestamp: number; step: number | null; value: number }[] = [];
      for (const [name, batch] of byMetric) {
        const before = existing.get(name);
        const overNames = !before && metricCount >= MAX_METRICS_PER_COMPONENT;
        const overPoints = (before?.count ?? 0) + batch.length > MAX_POINTS_PER_METRIC;
        if (overNames || overPoints) {
          for (const i of indexes.get(name)!) errors.push({ Code: 'METRIC_LIMIT_EXCEEDED', MetricIndex: i });
          continue;
        }
        if (!before) metricCount += 1;
        const stats = before ? mergeStats(toStats(before), statsOf(batch)) : statsOf(batch);
        for (const p of batch) points.push({ trial_component_name: trialComponentName, metric_name: name, ...p });
        summaries.push({
          trial_component_name: trialComponentName,
          metric_name: name,
          source_arn: sourceArn ?? before?.source_arn ?? null,
          count: stats.count,
          mean: stats.mean,
          m2: stats.m2,
          min: stats.min,
          max: stats.max,
          last: stats.last,
          last_timestamp: stats.lastTimestamp,
          last_step: stats.lastStep,
        });
      }
      if (!points.length) return;
      await tx.insertInto('metric_points').values(points).execute();
      await tx
        .insertInto('metric_summaries')
        .values(summaries)
        .onConflict((oc) =>
          oc.columns(['trial_component_name', 'metric_name']).doUpdateSet((eb) => ({
            source_arn: eb.ref('excluded.source_arn'),
            count: eb.ref('excluded.count'),
            mean: eb.ref('excluded.mean'),
            m2: eb.ref('excluded.m2'),
            min: eb.ref('excluded.min'),
            max: eb.ref('excluded.max'),
            last: eb.ref('excluded.last'),
            last_timestamp: eb.ref('excluded.last_timestamp'),
            last_step: eb.ref('excluded.last_step'),
          })),
        )
        .execute();
    });
    return {
      errors: errors.sort((a, b) => a.MetricIndex - b.MetricIndex),
      summaries: summaries.map((r) => metricSummary(r.metric_name, toStats(r), r.source_arn)),
    };
  }

  /** TrialComponentMetricSummary lists, by trial component name (all components when names is undefined). */
  async summaries(names?: string[]): Promise<Map<string, Record<string, unknown>[]>> {
    const out = new Map<string, Record<string, unknown>[]>();
    if (names && !names.length) return out;
    let q = this.db.selectFrom('metric_summaries').selectAll();
    if (names) q = q.where('trial_component_name', 'in', names);
    for (const r of await q.orderBy('trial_component_name').orderBy('metric_name').execute()) {
      const list = out.get(r.trial_component_name) ?? [];
      list.push(metricSummary(r.metric_name, toStats(r), r.source_arn));
      out.set(r.trial_component_name, list);
    }
    return out;
  }

  /** The full time series of a trial component's metrics (one metric when named), oldest first. */
  async series(trialComponentName: string, metricName?: string): Promise<MetricSeries[]> {
    let q = this.db
      .selectFrom('metric_points')
      .select(['metric_name', 'timestamp', 'step', 'value'])
      .where('trial_component_name', '=', trialComponentName);
    if (metricName !== undefined) q = q.where('metric_name', '=', metricName);
    const rows = await q.orderBy('metric_name').orderBy('timestamp').orderBy('id').execute();
    const sources = new Map(
      (await this.db.selectFrom('metric_summaries').select(['metric_name', 'source_arn']).where('trial_component_name', '=', trialComponentName).execute()).map((r) => [r.metric_name, r.source_arn]),
    );
    const out: MetricSeries[] = [];
    for (const r of rows) {
      let s = out.at(-1);
      if (s?.MetricName !== r.metric_name) {
        const source = sources.get(r.metric_name);
        s = { MetricName: r.metric_name, ...(source ? { SourceArn: source } : {}), Points: [] };
        out.push(s);
      }
      s.Points.push({ Timestamp: new Date(r.timestamp), ...(r.step !== null ? { Step: r.step } : {}), Value: r.value });
    }
    return out;
  }

  async deleteFor(trialComponentName: string): Promise<void> {
    await this.db.deleteFrom('metric_points').where('trial_component_name', '=', trialComponentName).execute();
    await this.db.deleteFrom('metric_summaries').where('trial_component_name', '=', trialComponentName).execute();
  }
}
