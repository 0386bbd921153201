/** Every analysis operator by its name in a flow document. */
import type { AnalysisOperator } from '../operator.ts';
import { bias } from './bias.ts';
import { featureCorrelation } from './correlation.ts';
import { histogram } from './histogram.ts';
import { targetLeakage } from './leakage.ts';
import { qualityReport } from './quality-report.ts';
import { scatter } from './scatter.ts';
import { tableSummary } from './summary.ts';

export const ANALYSES: Record<string, AnalysisOperator> = {
  quality_report: qualityReport,
  histogram,
  scatter,
  feature_correlation: featureCorrelation,
  target_leakage: targetLeakage,
  table_summary: tableSummary,
  bias,
};
