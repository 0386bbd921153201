/** The course's hotel-bookings flow (every step of the data-preparation lesson) and its pandas reference. */
import assert from 'node:assert/strict';
import { PYTHON, run } from './processes.ts';
import { HOTEL_BOOKINGS } from './shared-data.ts';

// The course's preparation of hotel bookings, step by step.
const DROPPED = ['reservation_status', 'reservation_status_date', 'company', 'arrival_date_year', 'arrival_date_week_number', 'days_in_waiting_list', 'assigned_room_type', 'booking_changes', 'country'];
const CATEGORICALS = ['meal', 'market_segment', 'distribution_channel', 'deposit_type', 'customer_type'];
const SPLITS = [{ name: 'train', fraction: 0.7 }, { name: 'validation', fraction: 0.15 }, { name: 'test', fraction: 0.15 }];

export const COURSE_NODES = [
  { id: 'bookings', type: 'source', operator: 'csv', parameters: { uri: 's3://hotels/raw/hotel_bookings.csv' } },
  { id: 'types', type: 'transform', operator: 'manage_columns', inputs: ['bookings'], parameters: { operator: 'cast', types: { children: 'float', agent: 'float', is_canceled: 'long' } } },
  { id: 'quality', type: 'analysis', operator: 'quality_report', inputs: ['types'], parameters: { target: 'is_canceled', problemType: 'classification' } },
  { id: 'lead_hist', type: 'analysis', operator: 'histogram', inputs: ['types'], parameters: { column: 'lead_time', colorBy: 'is_canceled' } },
  { id: 'adr_scatter', type: 'analysis', operator: 'scatter', inputs: ['types'], parameters: { x: 'lead_time', y: 'adr', colorBy: 'is_canceled', facetBy: 'arrival_date_year' } },
  { id: 'leakage', type: 'analysis', operator: 'target_leakage', inputs: ['types'], parameters: { target: 'is_canceled' } },
  { id: 'correlation', type: 'analysis', operator: 'feature_correlation', inputs: ['types'], parameters: { type: 'linear' } },
  { id: 'correlation_nl', type: 'analysis', operator: 'feature_correlation', inputs: ['types'], parameters: { type: 'nonlinear', columns: ['lead_time', 'adr', 'is_canceled'] } },
  { id: 'drop_columns', type: 'transform', operator: 'manage_columns', inputs: ['types'], parameters: { operator: 'drop', columns: DROPPED } },
  { id: 'drop_duplicates', type: 'transform', operator: 'manage_rows', inputs: ['drop_columns'], parameters: { operator: 'drop_duplicates' } },
  { id: 'impute_agent', type: 'transform', operator: 'handle_missing', inputs: ['drop_duplicates'], parameters: { operator: 'impute', columns: ['agent'], strategy: 'approximate_median' } },
  { id: 'one_hot', type: 'transform', operator: 'encode_categorical', inputs: ['impute_agent'], parameters: { operator: 'one_hot', columns: CATEGORICALS } },
  { id: 'children_outliers', type: 'transform', operator: 'handle_outliers', inputs: ['one_hot'], parameters: { method: 'standard_deviation', standardDeviations: 4, columns: ['children'], fix: 'remove' } },
  { id: 'split', type: 'transform', operator: 'split', inputs: ['children_outliers'], parameters: { method: 'stratified', column: 'is_canceled', splits: SPLITS } },
  { id: 'train_out', type: 'destination', operator: 's3', inputs: ['split.train'], parameters: { uri: 's3://hotels/prepared/train/', format: 'csv' } },
  { id: 'validation_out', type: 'destination', operator: 's3', inputs: ['split.validation'], parameters: { uri: 's3://hotels/prepared/validation/', format: 'parquet' } },
  { id: 'test_out', type: 'destination', operator: 's3', inputs: ['split.test'], parameters: { uri: 's3://hotels/prepared/test/', format: 'csv', partitionBy: ['hotel'] } },
];

/** The same steps in pandas: row counts after each step and the analyses' reference numbers. */
export async function pandasReference(): Promise<Record<string, number>> {
  const script = `
import json, numpy as np, pandas as pd
d = pd.read_csv(${JSON.stringify(HOTEL_BOOKINGS)})
out = {'bookings': len(d), 'duplicate_pct': round(d.duplicated().mean() * 100, 2), 'agent_missing_pct': round(d['agent'].isna().mean() * 100, 2),
       'corr_lead_canceled': d['lead_time'].corr(d['is_canceled']), 'spearman_lead_adr': d['lead_time'].corr(d['adr'], method='spearman')}
d = d.drop(columns=${JSON.stringify(DROPPED)}); out['drop_columns'] = len(d)
d = d.drop_duplicates(); out['drop_duplicates'] = len(d)
d['agent'] = d['agent'].fillna(d['agent'].median()); out['impute_agent'] = len(d); out['agent_missing_after'] = int(d['agent'].isna().sum())
d = pd.get_dummies(d, columns=${JSON.stringify(CATEGORICALS)}); out['one_hot'] = len(d); out['one_hot_columns'] = d.shape[1]
m, s = d['children'].mean(), d['children'].std()
d = d[~((d['children'] - m).abs() > 4 * s)]; out['children_outliers'] = len(d)
bounds = [0.7, 0.85, 1.0]
for name in ['train', 'validation', 'test']: out[name] = 0
for _, n in d.groupby('is_canceled').size().items():
    edges = [0] + [int(np.floor(n * b + 0.5)) for b in bounds]
    for name, lo, hi in zip(['train', 'validation', 'test'], edges, edges[1:]): out[name] += hi - lo
print(json.dumps(out))
`;
  const r = await run(PYTHON, ['-c', script]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, number>;
}

