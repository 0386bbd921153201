import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { FsObjectStore } from '../../store/objects/fs-store.ts';
import { ObjectFiles } from './object-files.ts';

test('a folder left by a crashed session does not let a new one overwrite stored objects', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-object-files-'));
  const objects = new FsObjectStore(path.join(dir, 'objects'));
  try {
    await objects.createBucket('inputs', 'us-east-1');
    await objects.putObject({ bucket: 'inputs', key: 'data.csv', body: Readable.from(['a,b\n1,2\n']) });
    const inputs = path.join(dir, 'session', 'inputs');
    const [first] = await new ObjectFiles(objects, inputs).files('s3://inputs/data.csv');
    // The first session dies without cleaning up; the next one reuses its folder.
    const [second] = await new ObjectFiles(objects, inputs).files('s3://inputs/data.csv');
    assert.equal(second, first);
    assert.equal(readFileSync(second!, 'utf8'), 'a,b\n1,2\n');
    assert.equal(await text((await objects.getObject('inputs', 'data.csv')).body), 'a,b\n1,2\n');
  } finally {
    await objects.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
