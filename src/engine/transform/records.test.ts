import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { miniBatches, type SplitOptions } from './records.ts';

/** A byte stream cut into chunks of `size` bytes, so records straddle chunk boundaries. */
const chunked = (text: string, size: number) => {
  const bytes = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
};
const collect = async (text: string, opts: Partial<SplitOptions>, size = 7) => {
  const out = [];
  for await (const b of miniBatches(chunked(text, size), { splitType: 'Line', batchStrategy: 'MultiRecord', maxPayloadBytes: 32, fileName: 's3://b/f.csv', ...opts })) out.push(b);
  return out;
};

test('MultiRecord packs whole lines up to the payload limit, in order, losing nothing', async () => {
  const lines = Array.from({ length: 50 }, (_, i) => `${i},${i * 2},${i * 3}`);
  const text = `${lines.join('\n')}\n`;
  const batches = await collect(text, {});
  assert.ok(batches.length > 1);
  for (const b of batches) assert.ok(b.payload.length <= 32 && b.payload.at(-1) === 0x0a);
  assert.equal(Buffer.concat(batches.map((b) => b.payload)).toString(), text);
});

test('SingleRecord sends one record per request; CRLF and blank lines are not records', async () => {
  const batches = await collect('1,2\r\n\r\n3,4\n5,6', { batchStrategy: 'SingleRecord', keepRecords: true });
  assert.deepEqual(batches.map((b) => b.payload.toString()), ['1,2\n', '3,4\n', '5,6\n']);
  assert.deepEqual(batches.map((b) => b.records), [['1,2'], ['3,4'], ['5,6']]);
});

test('filters apply per record; the original records are kept for joining', async () => {
  const batches = await collect('a,1,2\nb,3,4\n', { filter: (r) => r.slice(2), keepRecords: true, maxPayloadBytes: 1024 });
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.payload.toString(), '1,2\n3,4\n');
  assert.deepEqual(batches[0]!.records, ['a,1,2', 'b,3,4']);
});

test('a record larger than MaxPayloadInMB fails the job with a clear reason', async () => {
  await assert.rejects(collect(`${'9,'.repeat(40)}9\n1\n`, {}), /A record in s3:\/\/b\/f\.csv is larger than MaxPayloadInMB/);
  await assert.rejects(collect(`${'9,'.repeat(40)}9\n`, { splitType: 'None' }), /The file \(SplitType None sends it whole\)/);
});

test('SplitType None sends the file as one request', async () => {
  const batches = await collect('1,2\n3,4\n', { splitType: 'None' });
  assert.deepEqual(batches.map((b) => b.payload.toString()), ['1,2\n3,4\n']);
});
