import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectDelimiter, detectEncoding, findMalformedLine } from './csv-inspect.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-csv-'));
const file = (name: string, content: string | Buffer) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

test('finds the first line whose field count differs, counting quoted newlines', async () => {
  assert.equal(await findMalformedLine(file('ok.csv', 'a,b\n"x\ny",2\n3,4\n'), ','), undefined);
  assert.deepEqual(await findMalformedLine(file('short.csv', 'a,b,c\n1,2,3\n"multi\nline",5,6\n7,8\n'), ','), { line: 5, message: 'expected 3 fields (as in the header), found 2' });
  assert.deepEqual(await findMalformedLine(file('open.csv', 'a,b\n1,"never closed\n2,3\n'), ','), { line: 2, message: 'a quoted field is never closed' });
  assert.deepEqual(await findMalformedLine(file('stray.csv', 'a,b\n1,x"y\n'), ','), { line: 2, message: 'a quote appears inside an unquoted field' });
  assert.equal(await findMalformedLine(file('crlf.csv', 'a;b\r\n1;2\r\n'), ';'), undefined);
});

test('detects the encoding and the delimiter', async () => {
  assert.equal(await detectEncoding(file('utf8.csv', 'name\nZoë\n')), 'utf-8');
  assert.equal(await detectEncoding(file('latin1.csv', Buffer.from('name\nZo\xeb\n', 'latin1'))), 'latin-1');
  assert.equal(await detectEncoding(file('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n', 'utf16le')]))), 'utf-16');
  assert.equal(await detectDelimiter(file('semi.csv', 'a;b;c\n1;2;3\n')), ';');
  assert.equal(await detectDelimiter(file('tab.csv', 'a\tb\n1\t2\n')), '\t');
  rmSync(dir, { recursive: true, force: true });
});
