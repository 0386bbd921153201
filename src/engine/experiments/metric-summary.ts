/**
 * Running statistics of one metric of one trial component: count, mean and the sum of
 * squared deviations (Welford), min, max and the latest value. Batches merge with Chan's
 * formula, so a summary never needs the points it summarises.
 */

export interface MetricStats {
  count: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  last: number;
  /** Epoch milliseconds of `last`. */
  lastTimestamp: number;
  lastStep: number | null;
}

export interface MetricPoint {
  timestamp: number;
  step: number | null;
  value: number;
}

/** Statistics of points in the order they arrived; a later point of equal timestamp becomes `last`. */
export function statsOf(points: MetricPoint[]): MetricStats {
  const first = points[0];
  if (!first) throw new Error('statsOf needs at least one point');
  const s: MetricStats = { count: 0, mean: 0, m2: 0, min: first.value, max: first.value, last: first.value, lastTimestamp: first.timestamp, lastStep: first.step };
  for (const p of points) {
    s.count += 1;
    const delta = p.value - s.mean;
    s.mean += delta / s.count;
    s.m2 += delta * (p.value - s.mean);
    if (p.value < s.min) s.min = p.value;
    if (p.value > s.max) s.max = p.value;
    if (p.timestamp >= s.lastTimestamp) {
      s.last = p.value;
      s.lastTimestamp = p.timestamp;
      s.lastStep = p.step;
    }
  }
  return s;
}

/** The statistics of both sets of points; `later`'s last wins ties, as it arrived after. */
export function mergeStats(earlier: MetricStats, later: MetricStats): MetricStats {
  const count = earlier.count + later.count;
  const delta = later.mean - earlier.mean;
  const newer = later.lastTimestamp >= earlier.lastTimestamp ? later : earlier;
  return {
    count,
    mean: earlier.mean + (delta * later.count) / count,
    m2: earlier.m2 + later.m2 + (delta * delta * earlier.count * later.count) / count,
    min: Math.min(earlier.min, later.min),
    max: Math.max(earlier.max, later.max),
    last: newer.last,
    lastTimestamp: newer.lastTimestamp,
    lastStep: newer.lastStep,
  };
}

/** Sample standard deviation (n − 1); 0 for a single point. */
export function stdDev(s: Pick<MetricStats, 'count' | 'm2'>): number {
  return s.count > 1 ? Math.sqrt(Math.max(0, s.m2) / (s.count - 1)) : 0;
}

/** A TrialComponentMetricSummary as DescribeTrialComponent and Search return it. */
export function metricSummary(name: string, s: MetricStats, sourceArn?: string | null): Record<string, unknown> {
  return {
    MetricName: name,
    ...(sourceArn ? { SourceArn: sourceArn } : {}),
    TimeStamp: new Date(s.lastTimestamp),
    Max: s.max,
    Min: s.min,
    Last: s.last,
    Count: s.count,
    Avg: s.mean,
    StdDev: stdDev(s),
  };
}
