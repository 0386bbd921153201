/** Every transform operator by its name in a flow document. */
import type { TransformOperator } from '../operator.ts';
import { manageColumns } from './columns.ts';
import { addEventTime, addRecordId } from './record-ids.ts';
import { concatenate, join } from './combine.ts';
import { customJavaScript, customPython, customSql } from './custom.ts';
import { encodeCategorical } from './encode.ts';
import { handleMissing } from './missing.ts';
import { handleOutliers } from './outliers.ts';
import { manageRows } from './rows.ts';
import { scaleValues } from './scale.ts';
import { split } from './split.ts';

const always = () => true;
manageColumns.fusable = always;
handleMissing.fusable = always;
encodeCategorical.fusable = always;
handleOutliers.fusable = always;
scaleValues.fusable = always;
addEventTime.fusable = always;
manageRows.fusable = (p) => String(p.operator ?? '').toLowerCase() === 'filter';
manageRows.viewOutput = (p) => String(p.operator ?? '').toLowerCase() === 'drop_duplicates';

export const TRANSFORMS: Record<string, TransformOperator> = {
  manage_columns: manageColumns,
  manage_rows: manageRows,
  handle_missing: handleMissing,
  encode_categorical: encodeCategorical,
  handle_outliers: handleOutliers,
  scale_values: scaleValues,
  custom_sql: customSql,
  custom_javascript: customJavaScript,
  custom_python: customPython,
  add_record_id: addRecordId,
  add_event_time: addEventTime,
  split,
  join,
  concatenate,
};
