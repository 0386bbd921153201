import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openMetadataStore } from './database.ts';
import { TagRepository } from './tags.ts';

test('metadata store migrates, persists tags, and reopens at the same schema version', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-meta-'));
  try {
    let db = await openMetadataStore(dir);
    const tags = new TagRepository(db);
    await tags.put('arn:aws:sagemaker:us-east-1:000000000000:training-job/a', [{ Key: 'team', Value: 'ml' }, { Key: 'env', Value: 'dev' }]);
    await tags.put('arn:aws:sagemaker:us-east-1:000000000000:training-job/a', [{ Key: 'env', Value: 'prod' }]);
    await db.destroy();

    db = await openMetadataStore(dir);
    const again = new TagRepository(db);
    assert.deepEqual(await again.list('arn:aws:sagemaker:us-east-1:000000000000:training-job/a'), [
      { Key: 'env', Value: 'prod' },
      { Key: 'team', Value: 'ml' },
    ]);
    await again.remove('arn:aws:sagemaker:us-east-1:000000000000:training-job/a', ['env']);
    assert.deepEqual(await again.list('arn:aws:sagemaker:us-east-1:000000000000:training-job/a'), [{ Key: 'team', Value: 'ml' }]);
    await db.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
