import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  loadChannel,
  parseCsvFeatures,
  parseFeatures,
  parseLibsvmFeatures,
  resolveContentType,
} from './data.ts';
import {
  CHURN_TRAIN,
  CHURN_VALIDATION,
  maxAbsDiff,
  readF32,
  runPython,
  skipWithoutXgboost,
  tempDir,
} from './python-reference.ts';

let dir = '';
let cleanup = () => {};
before(() => {
  ({ dir, cleanup } = tempDir('xgb-data'));
});
after(() => cleanup());

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

const f = Math.fround;

describe('content types', () => {
  test('accepted as the SageMaker container accepts them', () => {
    for (const ct of ['csv', 'text/csv', 'text/csv; label_size=1', 'TEXT/CSV;charset=utf-8', 'text/csv;label_size="1"']) {
      assert.equal(resolveContentType(ct), 'csv', ct);
    }
    for (const ct of ['libsvm', 'text/libsvm', 'text/x-libsvm', '', undefined]) {
      assert.equal(resolveContentType(ct), 'libsvm', String(ct));
    }
    assert.equal(resolveContentType('application/x-parquet'), 'parquet');
    assert.equal(resolveContentType('parquet'), 'parquet');
    assert.equal(resolveContentType('application/x-recordio-protobuf'), 'recordio-protobuf');
    assert.throws(() => resolveContentType('text/csv; label_size=2'), /label_size must be equal to 1/);
    assert.throws(() => resolveContentType('application/json'), /application\/json is not an accepted ContentType/);
  });

  test('recordio-protobuf and empty channels are refused clearly', async () => {
    const file = write('x.csv', '1,2\n');
    await assert.rejects(loadChannel([file], 'application/x-recordio-protobuf'), /recordio-protobuf is not supported/);
    await assert.rejects(loadChannel([], 'text/csv'), /channel is empty: no data files/);
    await assert.rejects(loadChannel([write('empty.csv', '')], 'text/csv'), /only empty files/);
    await assert.rejects(loadChannel([path.join(dir, 'missing.csv')], 'text/csv'), /ENOENT/);
  });
});

describe('CSV channels', () => {
  test('label first, empty fields missing, several files concatenated', async () => {
    const a = write('a.csv', '1,2.5,,3\n0,,1e-3,-4\n');
    const b = write('b.csv', '\n1,0.1,0.2,0.3');
    const d = await loadChannel([a, write('c.csv', ''), b], 'text/csv');
    assert.equal(d.features.rows, 3);
    assert.equal(d.features.cols, 3);
    assert.deepEqual(Array.from(d.labels), [1, 0, 1]);
    assert.deepEqual(Array.from(d.features.values), [2.5, NaN, 3, NaN, f(1e-3), -4, f(0.1), f(0.2), f(0.3)]);
    assert.equal(d.weights, undefined);
  });

  test('csv_weights=1 takes the instance weight from the second column', async () => {
    const d = await loadChannel([write('w.csv', '1,0.5,7,8\n0,2,9,10\n')], 'csv', { csvWeights: true });
    assert.deepEqual(Array.from(d.weights!), [0.5, 2]);
    assert.deepEqual(Array.from(d.features.values), [7, 8, 9, 10]);
    assert.equal(d.features.cols, 2);
  });

  test('delimiters, CRLF, BOM, blanks and odd number forms', async () => {
    const tab = await loadChannel([write('t.tsv', '1\t2\t3\n0\t4\t\n')], 'text/csv');
    assert.deepEqual(Array.from(tab.features.values), [2, 3, 4, NaN]);
    const semi = await loadChannel([write('s.csv', '1;2;3\r\n0;4;5\r\n')], 'text/csv');
    assert.deepEqual(Array.from(semi.features.values), [2, 3, 4, 5]);
    const bom = await loadChannel([write('bom.csv', '\uFEFF1, 2 ,3\n\n  \n0,4,5')], 'text/csv');
    assert.deepEqual(Array.from(bom.features.values), [2, 3, 4, 5]);
    // Training files are read with XGBoost's own (dmlc) number parser, which is not correctly
    // rounded: these are the float32 values XGBoost 1.7 itself reads for each text.
    const nums: Array<[string, number]> = [
      ['.5', 0.5],
      ['5.', 5],
      ['-0', -0],
      ['+7', 7],
      ['1E3', 1000],
      ['2.5e-2', f(0.025)],
      ['0.30000000000000004', f(0.3)],
      ['000123.4500', f(123.45)],
      ['7.571429', 7.571429252624512], // correctly rounded would be 7.5714287757873535
      ['1e-50', 1.1754942106924411e-38], // dmlc clips the exponent at 38
      ['3.4e39', 3.4000003577925563e38],
      ['9007199254740993', 9007199254740992],
      ['12345678901234567890123', 4807115963927364000], // the integer part wraps at 2^64
      ['1.5f', 1.5],
    ];
    const d = await loadChannel([write('n.csv', nums.map(([n]) => `1,${n}`).join('\n'))], 'text/csv');
    assert.deepEqual(Array.from(d.features.values), nums.map(([, v]) => v));
    assert.ok(Object.is(d.features.values[2], -0));
  });

  test('malformed rows: errors name the file and line', async () => {
    const cols = write('cols.csv', '1,2,3\n0,4,5\n1,6\n');
    await assert.rejects(loadChannel([cols], 'text/csv'), (e: Error) => {
      assert.match(e.message, /cols\.csv:3: expected 3 columns separated by ',' \(as in the first row\), found 2/);
      return true;
    });
    const text = write('text.csv', '1,2,3\n0,4,abc\n');
    await assert.rejects(loadChannel([text], 'text/csv'), /text\.csv:2: column 3: non-numeric value 'abc'/);
    const header = write('header.csv', 'label,f1,f2\n1,2,3\n');
    await assert.rejects(loadChannel([header], 'text/csv'), /header\.csv:1: column 1: non-numeric value 'label' \(SageMaker CSV input must not have a header row\)/);
    const nolabel = write('nolabel.csv', '1,2\n,3\n');
    await assert.rejects(loadChannel([nolabel], 'text/csv'), /nolabel\.csv:2: missing label in column 1/);
    const noweight = write('noweight.csv', '1,,2\n');
    await assert.rejects(loadChannel([noweight], 'text/csv', { csvWeights: true }), /missing instance weight in column 2/);
    await assert.rejects(
      loadChannel([write('nan.csv', '1,2,3\n0,nan,1\n')], 'text/csv'),
      /nan\.csv:2: column 2: 'nan' is not a finite number; XGBoost refuses inf\/nan/,
    );
    await assert.rejects(loadChannel([write('inf.svm', '1 0:inf\n')], 'libsvm'), /inf\.svm:1: feature '0:inf' is not a finite number/);
    const junk = write('junk.csv', '1,2.5x,3\n');
    await assert.rejects(loadChannel([junk], 'text/csv'), /junk\.csv:1: column 2: non-numeric value '2\.5x'/);
    const onecol = write('onecol.csv', '1\n0\n');
    await assert.rejects(loadChannel([onecol], 'text/csv'), /1 column\(s\): need the label and at least one feature/);
    // the second file is checked against the first file's columns
    await assert.rejects(loadChannel([write('two-a.csv', '1,2\n'), write('two-b.csv', '1,2,3\n')], 'csv'), /two-b\.csv:1: expected 2 columns/);
  });

  test('files larger than a read chunk: rows spanning chunks, line numbers past them', async () => {
    const line = '1,0.25,-3.5,1000\n';
    const rows = 1_200_000; // ~20 MB, more than one 16 MiB chunk
    const big = Buffer.from(line.repeat(rows) + '0,1,2,3\n');
    const file = write('big.csv', big);
    const d = await loadChannel([file], 'text/csv');
    assert.equal(d.features.rows, rows + 1);
    assert.deepEqual(Array.from(d.features.values.subarray(3 * (rows - 1))), [0.25, -3.5, 1000, 1, 2, 3]);
    assert.equal(d.labels[rows], 0);
    const bad = write('big-bad.csv', Buffer.concat([big, Buffer.from('1,2\n')]));
    await assert.rejects(loadChannel([bad], 'text/csv'), new RegExp(`big-bad\\.csv:${rows + 2}: expected 4 columns`));
  });
});

describe('LIBSVM channels', () => {
  test('indices as written (0-based), weights, qid, comments, absent = missing', async () => {
    const file = write('a.svm', '1:0.5 0:1.5 3:2 # comment\n0:2 qid:7 1:-1\n\n# only a comment\n1:1 2:0\n');
    const d = await loadChannel([file], 'text/libsvm');
    assert.equal(d.features.rows, 3);
    assert.equal(d.features.cols, 4);
    assert.deepEqual(Array.from(d.labels), [1, 0, 1]);
    assert.deepEqual(Array.from(d.weights!), [0.5, 2, 1]);
    assert.deepEqual(Array.from(d.features.values), [1.5, NaN, NaN, 2, NaN, -1, NaN, NaN, NaN, NaN, 0, NaN]);
  });

  test('1-based files keep feature 0 empty, as XGBoost reads them', async () => {
    const d = await loadChannel([write('b.svm', '1 1:3 2:4\n0 2:5\n')], 'libsvm');
    assert.equal(d.features.cols, 3);
    assert.deepEqual(Array.from(d.features.values), [NaN, 3, 4, NaN, NaN, 5]);
    assert.equal(d.weights, undefined);
  });

  test('malformed lines: errors name the file and line', async () => {
    await assert.rejects(loadChannel([write('e1.svm', '1 1:2\nx 1:2\n')], 'libsvm'), /e1\.svm:2: invalid label 'x'/);
    await assert.rejects(loadChannel([write('e2.svm', '1 1:2\n0 a:2\n')], 'libsvm'), /e2\.svm:2: invalid feature 'a:2'/);
    await assert.rejects(loadChannel([write('e3.svm', '1 1:2 3:\n')], 'libsvm'), /e3\.svm:1: invalid value in feature '3:'/);
    await assert.rejects(loadChannel([write('e4.svm', '1 -1:2\n')], 'libsvm'), /e4\.svm:1: invalid feature '-1:2'/);
    await assert.rejects(
      loadChannel([write('e5.svm', '1:2 1:2\n0 1:2\n')], 'libsvm'),
      /weights \(label:weight\) on some rows only: .*e5\.svm:1 has one, .*e5\.svm:2 does not/,
    );
    await assert.rejects(loadChannel([write('e6.svm', '# nothing\n')], 'libsvm'), /LIBSVM channel has no rows/);
  });
});

describe('Parquet channels (DuckDB)', () => {
  async function writeParquet(file: string, select: string): Promise<string> {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    await conn.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
    conn.closeSync();
    instance.closeSync();
    return file;
  }

  test('first column is the label, nulls are missing, numeric types of all kinds', async () => {
    const a = await writeParquet(
      path.join(dir, 'a.parquet'),
      `SELECT (i % 2)::DOUBLE AS y, i::INTEGER AS f_int, CASE WHEN i % 3 = 0 THEN NULL ELSE i * 0.1 END::DOUBLE AS f_dbl,
              (i > 2)::BOOLEAN AS f_bool, (i * 1.25)::DECIMAL(10, 2) AS f_dec, i::BIGINT AS __index_level_0__
         FROM range(5) t(i) ORDER BY i`,
    );
    const b = await writeParquet(
      path.join(dir, 'b.parquet'),
      `SELECT 1.0::DOUBLE AS y, 9::INTEGER AS f_int, 0.5::DOUBLE AS f_dbl, true AS f_bool, 2.5::DECIMAL(10, 2) AS f_dec, 5::BIGINT AS __index_level_0__`,
    );
    const d = await loadChannel([a, b], 'application/x-parquet');
    assert.equal(d.features.rows, 6);
    assert.equal(d.features.cols, 4);
    assert.deepEqual(Array.from(d.labels), [0, 1, 0, 1, 0, 1]);
    assert.deepEqual(
      Array.from(d.features.values),
      [
        [0, NaN, 0, 0],
        [1, f(0.1), 0, 1.25],
        [2, f(0.2), 0, 2.5],
        [3, NaN, 1, 3.75],
        [4, f(0.4), 1, 5],
        [9, 0.5, 1, 2.5],
      ].flat(),
    );
  });

  test('non-numeric columns, null labels and unreadable files are refused clearly', async () => {
    const s = await writeParquet(path.join(dir, 's.parquet'), `SELECT 1.0 AS y, 'x' AS name`);
    await assert.rejects(loadChannel([s], 'parquet'), /column 'name' has type VARCHAR; XGBoost needs numeric columns/);
    const n = await writeParquet(path.join(dir, 'n.parquet'), `SELECT NULL::DOUBLE AS y, 1.0 AS x`);
    await assert.rejects(loadChannel([n], 'parquet'), /row 1 has no label/);
    const bad = write('bad.parquet', 'not parquet at all');
    await assert.rejects(loadChannel([bad], 'parquet'), /Parquet channel \(.*bad\.parquet\): cannot read/);
  });
});

describe('inference payloads', () => {
  test('CSV: no label, empty = missing, padded to the model width, wider refused', () => {
    const m = parseCsvFeatures('1,2,3\n4,,6\n');
    assert.deepEqual(m, { rows: 2, cols: 3, values: Float32Array.from([1, 2, 3, 4, NaN, 6]) });
    const padded = parseCsvFeatures('1,2\n', 4);
    assert.deepEqual(Array.from(padded.values), [1, 2, NaN, NaN]);
    assert.equal(padded.cols, 4);
    assert.throws(() => parseCsvFeatures('1,2,3\n', 2), /CSV payload has 3 features but the model has 2/);
    assert.throws(() => parseCsvFeatures('1,2\n3,x\n'), /payload:2: column 2: non-numeric value 'x'/);
    assert.deepEqual(parseCsvFeatures('', 3), { rows: 0, cols: 3, values: new Float32Array(0) });
    assert.deepEqual(Array.from(parseCsvFeatures('1\t2\r\n3\t4').values), [1, 2, 3, 4]);
    // payloads are parsed as the container does (numpy: correctly rounded; nan = missing)
    assert.deepEqual(Array.from(parseCsvFeatures('7.571429,nan,inf').values), [f(7.571429), NaN, Infinity]);
  });

  test('LIBSVM: labels ignored, 1-based payloads shifted as the container does', () => {
    const auto = parseLibsvmFeatures('0 1:5 3:7\n1 2:6\n');
    assert.equal(auto.cols, 3);
    assert.deepEqual(Array.from(auto.values), [5, NaN, 7, NaN, 6, NaN]);
    const zeroBased = parseLibsvmFeatures('0:1 2:3\n');
    assert.deepEqual(Array.from(zeroBased.values), [1, NaN, 3]);
    const asWritten = parseLibsvmFeatures('1:5 3:7\n', 4, { oneBased: 'never' });
    assert.deepEqual(Array.from(asWritten.values), [NaN, 5, NaN, 7]);
    assert.throws(() => parseLibsvmFeatures('0:1 5:2\n', 3), /LIBSVM payload has 6 features but the model has 3/);
  });

  test('parseFeatures dispatches on the content type', () => {
    assert.deepEqual(Array.from(parseFeatures('1,2', 'text/csv').values), [1, 2]);
    assert.deepEqual(Array.from(parseFeatures(Buffer.from('1:2'), 'text/libsvm').values), [2]);
    assert.throws(() => parseFeatures('x', 'application/x-recordio-protobuf'), /not supported for XGBoost inference/);
  });
});

const skip = skipWithoutXgboost();

const DUMP_DMATRIX = String.raw`
import sys
import numpy as np
import xgboost as xgb
uri, out = sys.argv[1], sys.argv[2]
d = xgb.DMatrix(uri)
m = d.get_data().tocsr()
dense = np.full((d.num_row(), d.num_col()), np.nan, dtype=np.float32)
for r in range(m.shape[0]):
    s, e = m.indptr[r], m.indptr[r + 1]
    dense[r, m.indices[s:e]] = m.data[s:e]
dense.tofile(out + '.x')
d.get_label().astype(np.float32).tofile(out + '.y')
d.get_weight().astype(np.float32).tofile(out + '.w')
print(d.num_row(), d.num_col())
`;

describe('agrees with XGBoost’s own readers', { skip }, () => {
  function xgboostRead(uri: string, stem: string) {
    const [rows, cols] = runPython(DUMP_DMATRIX, [uri, path.join(dir, stem)]).trim().split(' ').map(Number) as [number, number];
    return {
      rows,
      cols,
      x: readF32(path.join(dir, `${stem}.x`)),
      y: readF32(path.join(dir, `${stem}.y`)),
      w: readF32(path.join(dir, `${stem}.w`)),
    };
  }

  test('the churn CSV (label first, no header) parses to the same float32 values', async () => {
    for (const file of [CHURN_TRAIN, CHURN_VALIDATION]) {
      const d = await loadChannel([file], 'text/csv');
      const ref = xgboostRead(`${file}?format=csv&label_column=0`, 'churn');
      assert.equal(d.features.rows, ref.rows);
      assert.equal(d.features.cols, ref.cols);
      assert.equal(maxAbsDiff(d.features.values, ref.x), 0);
      assert.equal(maxAbsDiff(d.labels, ref.y), 0);
    }
  });

  test('odd number forms read exactly as XGBoost reads them', async () => {
    const forms = ['.5', '5.', '-0', '+7', '1E3', '2.5e-2', '1e-50', '3.4e39', '1e38', '-2.5e+3', '000123.4500', '0.1234567890123456789012',
      '123456789012345678', '12345678901234567890123', '9007199254740993', '7.571429', '1.5f', '3.14159265358979', ' 42 '];
    const file = write('forms.csv', forms.map((n, i) => `${i % 2},${n},1`).join('\n'));
    const d = await loadChannel([file], 'text/csv');
    const ref = xgboostRead(`${file}?format=csv&label_column=0`, 'forms');
    assert.equal(maxAbsDiff(d.features.values, ref.x), 0);
    for (let i = 0; i < forms.length; i++) {
      assert.ok(Object.is(d.features.values[i * 2], ref.x[i * 2]), `${forms[i]}: ${d.features.values[i * 2]} vs ${ref.x[i * 2]}`);
    }
  });

  test('CSV with missing values and weights', async () => {
    const lines: string[] = [];
    for (let r = 0; r < 500; r++) {
      const row = [String(r % 2), (1 + (r % 7) / 4).toFixed(2)];
      for (let c = 0; c < 6; c++) row.push((r * 7 + c) % 5 === 0 ? '' : ((r * 31 + c * 17) % 1000 / 7 - 50).toPrecision(7));
      row.push('1'); // keep the last column present so XGBoost's column count matches
      lines.push(row.join(','));
    }
    const file = write('missing.csv', lines.join('\n') + '\n');
    const d = await loadChannel([file], 'text/csv', { csvWeights: true });
    const ref = xgboostRead(`${file}?format=csv&label_column=0&weight_column=1`, 'missing');
    assert.equal(d.features.cols, ref.cols);
    assert.equal(maxAbsDiff(d.features.values, ref.x), 0);
    assert.equal(maxAbsDiff(d.labels, ref.y), 0);
    assert.equal(maxAbsDiff(d.weights!, ref.w), 0);
  });

  test('LIBSVM with weights, qid and sparse rows', async () => {
    const lines: string[] = [];
    for (let r = 0; r < 300; r++) {
      const feats: string[] = [];
      for (let c = 0; c < 12; c++) if ((r + c * 3) % 4 !== 0) feats.push(`${c}:${(((r * 13 + c) % 97) / 7 - 3).toPrecision(7)}`);
      lines.push(`${r % 3}:${1 + (r % 4) / 2}${r % 5 === 0 ? ' qid:3' : ''} ${feats.join(' ')}`);
    }
    const file = write('ref.svm', lines.join('\n') + '\n');
    const d = await loadChannel([file], 'text/libsvm');
    const ref = xgboostRead(`${file}?format=libsvm`, 'svm');
    assert.equal(d.features.rows, ref.rows);
    assert.equal(d.features.cols, ref.cols);
    assert.equal(maxAbsDiff(d.features.values, ref.x), 0);
    assert.equal(maxAbsDiff(d.labels, ref.y), 0);
    assert.equal(maxAbsDiff(d.weights!, ref.w), 0);
  });
});
