/**
 * Metric points of trial components (BatchPutMetrics, and the final metrics of jobs) and
 * their per-metric summaries. Points are kept for charts; summaries are merged at
 * ingestion so Describe and Search read one row per metric.
 */
import type SQLite from 'better-sqlite3';
import { withEmbeddedSqlite, type MetadataDb } from '../../store/metadata/database.ts';
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

interface PendingPut {
  trialComponentName: string;
  data: RawMetric[];
  sourceArn?: string;
  resolve(result: { errors: PutMetricsError[]; summaries: Record<string, unknown>[] }): void;
  reject(error: unknown): void;
}

type PointRow = { trial_component_name: string; metric_name: string; timestamp: number; step: number | null; value: number };

/** Rows per INSERT, well inside SQLite's limit on bound variables. */
const ROWS_PER_STATEMENT = 1000;
const SUMMARY_UPDATES = ['source_arn', 'count', 'mean', 'm2', 'min', 'max', 'last', 'last_timestamp', 'last_step'] as const;

/** One transaction of point inserts and summary upserts, on statements prepared once (positional parameters bind fastest). */
function preparedWrites(database: SQLite.Database): (points: PointRow[], summaries: MetricSummaryTable[]) => void {
  const insertPoint = database.prepare('INSERT INTO metric_points (trial_component_name, metric_name, timestamp, step, value) VALUES (?, ?, ?, ?, ?)');
  const upsertSummary = database.prepare(
    `INSERT INTO metric_summaries (trial_component_name, metric_name, ${SUMMARY_UPDATES.join(', ')})
     VALUES (?, ?, ${SUMMARY_UPDATES.map(() => '?').join(', ')})
     ON CONFLICT (trial_component_name, metric_name) DO UPDATE SET ${SUMMARY_UPDATES.map((c) => `${c} = excluded.${c}`).join(', ')}`,
  );
  return database.transaction((points: PointRow[], summaries: MetricSummaryTable[]) => {
    for (const p of points) insertPoint.run(p.trial_component_name, p.metric_name, p.timestamp, p.step, p.value);
    for (const s of summaries) upsertSummary.run(s.trial_component_name, s.metric_name, ...SUMMARY_UPDATES.map((c) => s[c]));
  });
}

export class MetricStore {
  /**
   * Summaries of the components written to since start, so a write merges without reading.
   * Writes go through this store only (one server process owns the database's metrics).
   */
  private readonly cache = new Map<string, Map<string, MetricSummaryTable>>();
  private queue: PendingPut[] = [];
  private statements?: (points: PointRow[], summaries: MetricSummaryTable[]) => void;
  private writing = false;

  constructor(private readonly db: MetadataDb) {}

  /**
   * Stores what it can of one batch and reports the rest by index, as BatchPutMetrics does:
   * invalid points are VALIDATION_ERROR, points past the limits METRIC_LIMIT_EXCEEDED.
   * Batches that arrive while a write is under way are committed together with the next
   * one (group commit), so concurrent writers share transactions.
   */
  put(trialComponentName: string, data: RawMetric[], sourceArn?: string): Promise<{ errors: PutMetricsError[]; summaries: Record<string, unknown>[] }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ trialComponentName, data, sourceArn, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        await this.commit(batch).catch((e) => batch.forEach((p) => p.reject(e)));
      }
    } finally {
      this.writing = false;
    }
  }

  private async commit(batch: PendingPut[]): Promise<void> {
    for (const name of new Set(batch.map((p) => p.trialComponentName))) {
      if (this.cache.has(name)) continue;
      const rows = await this.db.selectFrom('metric_summaries').selectAll().where('trial_component_name', '=', name).execute();
      this.cache.set(name, new Map(rows.map((r) => [r.metric_name, r])));
    }
    // Changes are made on copies and become the cache only once committed.
    const working = new Map<string, Map<string, MetricSummaryTable>>();
    const touched = new Map<string, MetricSummaryTable>();
    const points: PointRow[] = [];
    const results = batch.map((p) => {
      let summaries = working.get(p.trialComponentName);
      if (!summaries) working.set(p.trialComponentName, (summaries = new Map(this.cache.get(p.trialComponentName))));
      return this.apply(p, summaries, points, touched);
    });
    if (points.length) await this.write(points, [...touched.values()]);
    for (const [name, summaries] of working) this.cache.set(name, summaries);
    batch.forEach((p, i) => p.resolve(results[i]!));
  }

  /** Writes points and summaries in one transaction: prepared statements on embedded SQLite, Kysely elsewhere. */
  private async write(points: PointRow[], summaries: MetricSummaryTable[]): Promise<void> {
    const written = await withEmbeddedSqlite(this.db, (database) => {
      this.statements ??= preparedWrites(database);
      this.statements(points, summaries);
    });
    if (written) return;
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < points.length; i += ROWS_PER_STATEMENT) await tx.insertInto('metric_points').values(points.slice(i, i + ROWS_PER_STATEMENT)).execute();
      for (let i = 0; i < summaries.length; i += ROWS_PER_STATEMENT) {
        await tx
          .insertInto('metric_summaries')
          .values(summaries.slice(i, i + ROWS_PER_STATEMENT))
          .onConflict((oc) => oc.columns(['trial_component_name', 'metric_name']).doUpdateSet((eb) => Object.fromEntries(SUMMARY_UPDATES.map((c) => [c, eb.ref(`excluded.${c}`)]))))
          .execute();
      }
    });
  }

  /** Merges one request's points into `summaries`, collecting rows to write. */
  private apply(p: PendingPut, summaries: Map<string, MetricSummaryTable>, points: PointRow[], touched: Map<string, MetricSummaryTable>) {
    const errors: PutMetricsError[] = [];
    const byMetric = new Map<string, { points: MetricPoint[]; indexes: number[] }>();
    p.data.forEach((m, i) => {
      const point = parsePoint(m);
      if (!point) return errors.push({ Code: 'VALIDATION_ERROR', MetricIndex: i });
      const group = byMetric.get(m.MetricName) ?? { points: [], indexes: [] };
      group.points.push(point);
      group.indexes.push(i);
      byMetric.set(m.MetricName, group);
    });
    const written: MetricSummaryTable[] = [];
    for (const [name, group] of byMetric) {
      const before = summaries.get(name);
      if ((!before && summaries.size >= MAX_METRICS_PER_COMPONENT) || (before?.count ?? 0) + group.points.length > MAX_POINTS_PER_METRIC) {
        for (const i of group.indexes) errors.push({ Code: 'METRIC_LIMIT_EXCEEDED', MetricIndex: i });
        continue;
      }
      const stats = before ? mergeStats(toStats(before), statsOf(group.points)) : statsOf(group.points);
      const row: MetricSummaryTable = {
        trial_component_name: p.trialComponentName,
        metric_name: name,
        source_arn: p.sourceArn ?? before?.source_arn ?? null,
        count: stats.count,
        mean: stats.mean,
        m2: stats.m2,
        min: stats.min,
        max: stats.max,
        last: stats.last,
        last_timestamp: stats.lastTimestamp,
        last_step: stats.lastStep,
      };
      summaries.set(name, row);
      touched.set(`${p.trialComponentName}\u0000${name}`, row);
      written.push(row);
      for (const point of group.points) points.push({ trial_component_name: p.trialComponentName, metric_name: name, ...point });
    }
    return {
      errors: errors.sort((a, b) => a.MetricIndex - b.MetricIndex),
      summaries: written.map((r) => metricSummary(r.metric_name, toStats(r), r.source_arn)),
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
    this.cache.delete(trialComponentName);
    await this.db.deleteFrom('metric_points').where('trial_component_name', '=', trialComponentName).execute();
    await this.db.deleteFrom('metric_summaries').where('trial_component_name', '=', trialComponentName).execute();
  }
}
