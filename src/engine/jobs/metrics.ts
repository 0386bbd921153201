/**
 * Metrics read from a job's log lines: a built-in algorithm's own round lines
 * (`[12]#011train-error:0.0489#011validation-error:0.0751` → train:error, validation:error),
 * or the regexes of AlgorithmSpecification.MetricDefinitions, first capture group = value.
 */

export interface MetricDefinition {
  Name: string;
  Regex: string;
}

export interface MetricValue {
  MetricName: string;
  Value: number;
  Timestamp: Date;
}

export type MetricExtractor = (line: string) => { name: string; value: number }[];

const ROUND_LINE = /^\[(\d+)\]/;
const ROUND_METRIC = /(?:#011|\t|\s)(train|validation)-([A-Za-z0-9@._-]+):([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|-inf)/g;

export const builtinXgboostMetrics: MetricExtractor = (line) => {
  if (!ROUND_LINE.test(line)) return [];
  const found: { name: string; value: number }[] = [];
  for (const m of line.matchAll(ROUND_METRIC)) found.push({ name: `${m[1]}:${m[2]}`, value: Number(m[3]) });
  return found;
};

/** Compiles MetricDefinitions; a regex that does not compile is reported, not ignored. */
export function definitionMetrics(defs: MetricDefinition[]): MetricExtractor {
  const compiled = defs.map((d) => {
    try {
      return { name: d.Name, re: new RegExp(d.Regex) };
    } catch (e) {
      throw new Error(`MetricDefinitions regex for '${d.Name}' is not a valid regular expression: ${(e as Error).message}`);
    }
  });
  return (line) => {
    const found: { name: string; value: number }[] = [];
    for (const { name, re } of compiled) {
      const m = re.exec(line);
      if (m && m[1] !== undefined) {
        const value = Number(m[1]);
        if (!Number.isNaN(value) || /nan/i.test(m[1])) found.push({ name, value });
      }
    }
    return found;
  };
}

/** Keeps the latest value of every metric, and the whole series for later consumers. */
export class MetricCollector {
  private readonly latest = new Map<string, MetricValue>();
  readonly series: { name: string; value: number; timestamp: number }[] = [];

  constructor(private readonly extract: MetricExtractor) {}

  observe(line: string, at = new Date()): void {
    for (const { name, value } of this.extract(line)) {
      this.latest.set(name, { MetricName: name, Value: value, Timestamp: at });
      this.series.push({ name, value, timestamp: at.getTime() });
    }
  }

  final(): MetricValue[] {
    return [...this.latest.values()].filter((m) => Number.isFinite(m.Value));
  }
}

/** SageMaker's log agent writes control characters as syslog escapes (tab → #011). */
export function escapeLogLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\x00-\x08\x09\x0b-\x1f]/g, (c) => `#${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}
