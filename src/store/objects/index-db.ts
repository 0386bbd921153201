/**
 * The SQLite index of buckets, objects, multipart uploads and parts (`<root>/index.db`).
 * Keys are UTF-8 BLOBs so that SQLite's memcmp ordering is S3's key order and range bounds can
 * be exact byte strings. Every method is synchronous (better-sqlite3); callers compose them in
 * `transaction()`.
 */
import SQLite from 'better-sqlite3';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS buckets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  region TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
  bucket_id INTEGER NOT NULL,
  key BLOB NOT NULL,
  blob TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified_ms INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  system_headers TEXT NOT NULL,
  user_metadata TEXT NOT NULL,
  checksums TEXT NOT NULL,
  parts_count INTEGER,
  PRIMARY KEY (bucket_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY,
  bucket_id INTEGER NOT NULL,
  key BLOB NOT NULL,
  initiated_ms INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  system_headers TEXT NOT NULL,
  user_metadata TEXT NOT NULL,
  checksum_algorithm TEXT
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket_id, key, upload_id);
CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  blob TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified_ms INTEGER NOT NULL,
  checksums TEXT NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
`;

export interface BucketRow {
  id: number;
  name: string;
  region: string;
  created_ms: number;
}

export interface ObjectRow {
  key: Buffer;
  blob: string;
  size: number;
  etag: string;
  last_modified_ms: number;
  content_type: string;
  /** JSON objects. */
  system_headers: string;
  user_metadata: string;
  checksums: string;
  parts_count: number | null;
}

export interface UploadRow {
  upload_id: string;
  bucket_id: number;
  key: Buffer;
  initiated_ms: number;
  content_type: string;
  system_headers: string;
  user_metadata: string;
  checksum_algorithm: string | null;
}

export interface PartRow {
  part_number: number;
  blob: string;
  size: number;
  etag: string;
  last_modified_ms: number;
  checksums: string;
}

const OBJECT_COLUMNS =
  'key, blob, size, etag, last_modified_ms, content_type, system_headers, user_metadata, checksums, parts_count';
const UPLOAD_COLUMNS =
  'upload_id, bucket_id, key, initiated_ms, content_type, system_headers, user_metadata, checksum_algorithm';
const PART_COLUMNS = 'part_number, blob, size, etag, last_modified_ms, checksums';

function openDatabase(file: string): SQLite.Database {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new Error(`${file} has schema version ${version}; this Kiln knows up to ${SCHEMA_VERSION}`);
  }
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
  return db;
}

export class ObjectIndex {
  private readonly db: SQLite.Database;
  private readonly sql;

  constructor(file: string) {
    this.db = openDatabase(file);
    this.sql = prepareStatements(this.db);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  // Buckets

  bucket(name: string): BucketRow | undefined {
    return this.sql.bucketByName.get(name) as BucketRow | undefined;
  }

  insertBucket(name: string, region: string, createdMs: number): void {
    this.sql.insertBucket.run(name, region, createdMs);
  }

  buckets(): BucketRow[] {
    return this.sql.allBuckets.all() as BucketRow[];
  }

  deleteBucket(id: number): void {
    this.sql.deleteBucket.run(id);
  }

  bucketHasObjects(bucketId: number): boolean {
    return this.sql.anyObject.get(bucketId) !== undefined;
  }

  // Objects

  object(bucketId: number, key: Buffer): ObjectRow | undefined {
    return this.sql.objectByKey.get(bucketId, key) as ObjectRow | undefined;
  }

  /** Inserts or replaces; returns the blob of the replaced object, if any. */
  putObject(bucketId: number, row: ObjectRow): string | undefined {
    const previous = this.sql.objectBlob.get(bucketId, row.key) as { blob: string } | undefined;
    this.sql.upsertObject.run({ bucket_id: bucketId, ...row });
    return previous?.blob;
  }

  /** Returns the deleted object's blob, if there was one. */
  deleteObject(bucketId: number, key: Buffer): string | undefined {
    return (this.sql.deleteObject.get(bucketId, key) as { blob: string } | undefined)?.blob;
  }

  /** Objects with lower <= key < upper, in key order, stepped lazily (stop iterating to stop reading). */
  objectsInRange(bucketId: number, lower: Buffer, upper: Buffer): IterableIterator<ObjectRow> {
    return this.sql.objectsInRange.iterate(bucketId, lower, upper) as IterableIterator<ObjectRow>;
  }

  anyObjectInRange(bucketId: number, lower: Buffer, upper: Buffer): boolean {
    return this.sql.anyObjectInRange.get(bucketId, lower, upper) !== undefined;
  }

  // Multipart uploads

  insertUpload(row: UploadRow): void {
    this.sql.insertUpload.run(row);
  }

  upload(uploadId: string): UploadRow | undefined {
    return this.sql.uploadById.get(uploadId) as UploadRow | undefined;
  }

  /** Uploads with lower <= key < upper and (key, upload_id) > (afterKey, afterUploadId). */
  uploadsInRange(
    bucketId: number,
    range: { lower: Buffer; upper: Buffer; afterKey: Buffer; afterUploadId: string },
    limit: number,
  ): UploadRow[] {
    const { lower, upper, afterKey, afterUploadId } = range;
    return this.sql.uploadsInRange.all(bucketId, lower, upper, afterKey, afterUploadId, limit) as UploadRow[];
  }

  /** Deletes the upload and its parts; returns the parts' blobs. */
  deleteUpload(uploadId: string): string[] {
    const blobs = (this.sql.deleteParts.all(uploadId) as { blob: string }[]).map((r) => r.blob);
    this.sql.deleteUpload.run(uploadId);
    return blobs;
  }

  /** Deletes every upload in the bucket and their parts; returns the parts' blobs. */
  deleteUploadsOfBucket(bucketId: number): string[] {
    const blobs = (this.sql.deletePartsOfBucket.all(bucketId) as { blob: string }[]).map((r) => r.blob);
    this.sql.deleteUploadsOfBucket.run(bucketId);
    return blobs;
  }

  // Parts

  /** Inserts or replaces; returns the blob of the replaced part, if any. */
  putPart(uploadId: string, row: PartRow): string | undefined {
    const previous = this.sql.partBlob.get(uploadId, row.part_number) as { blob: string } | undefined;
    this.sql.upsertPart.run({ upload_id: uploadId, ...row });
    return previous?.blob;
  }

  parts(uploadId: string): PartRow[] {
    return this.sql.allParts.all(uploadId) as PartRow[];
  }

  partsAfter(uploadId: string, afterPartNumber: number, limit: number): PartRow[] {
    return this.sql.partsAfter.all(uploadId, afterPartNumber, limit) as PartRow[];
  }

  // Maintenance

  referencedBlobs(): Set<string> {
    const blobs = new Set<string>();
    for (const row of this.sql.referencedBlobs.iterate() as IterableIterator<{ blob: string }>) blobs.add(row.blob);
    return blobs;
  }
}

function prepareStatements(db: SQLite.Database) {
  return {
    bucketByName: db.prepare('SELECT id, name, region, created_ms FROM buckets WHERE name = ?'),
    insertBucket: db.prepare('INSERT INTO buckets (name, region, created_ms) VALUES (?, ?, ?)'),
    allBuckets: db.prepare('SELECT id, name, region, created_ms FROM buckets ORDER BY name'),
    deleteBucket: db.prepare('DELETE FROM buckets WHERE id = ?'),
    anyObject: db.prepare('SELECT 1 FROM objects WHERE bucket_id = ? LIMIT 1'),

    objectByKey: db.prepare(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket_id = ? AND key = ?`),
    objectBlob: db.prepare('SELECT blob FROM objects WHERE bucket_id = ? AND key = ?'),
    upsertObject: db.prepare(
      `INSERT INTO objects (bucket_id, ${OBJECT_COLUMNS})
       VALUES (@bucket_id, @key, @blob, @size, @etag, @last_modified_ms, @content_type, @system_headers,
               @user_metadata, @checksums, @parts_count)
       ON CONFLICT (bucket_id, key) DO UPDATE SET
         blob = excluded.blob, size = excluded.size, etag = excluded.etag,
         last_modified_ms = excluded.last_modified_ms, content_type = excluded.content_type,
         system_headers = excluded.system_headers, user_metadata = excluded.user_metadata,
         checksums = excluded.checksums, parts_count = excluded.parts_count`,
    ),
    deleteObject: db.prepare('DELETE FROM objects WHERE bucket_id = ? AND key = ? RETURNING blob'),
    objectsInRange: db.prepare(
      `SELECT ${OBJECT_COLUMNS} FROM objects
       WHERE bucket_id = ? AND key >= ? AND key < ? ORDER BY key`,
    ),
    anyObjectInRange: db.prepare('SELECT 1 FROM objects WHERE bucket_id = ? AND key >= ? AND key < ? LIMIT 1'),

    insertUpload: db.prepare(
      `INSERT INTO uploads (${UPLOAD_COLUMNS})
       VALUES (@upload_id, @bucket_id, @key, @initiated_ms, @content_type, @system_headers, @user_metadata,
               @checksum_algorithm)`,
    ),
    uploadById: db.prepare(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?`),
    uploadsInRange: db.prepare(
      `SELECT ${UPLOAD_COLUMNS} FROM uploads
       WHERE bucket_id = ? AND key >= ? AND key < ? AND (key, upload_id) > (?, ?)
       ORDER BY key, upload_id LIMIT ?`,
    ),
    deleteUpload: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
    deleteUploadsOfBucket: db.prepare('DELETE FROM uploads WHERE bucket_id = ?'),
    deleteParts: db.prepare('DELETE FROM parts WHERE upload_id = ? RETURNING blob'),
    deletePartsOfBucket: db.prepare(
      'DELETE FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket_id = ?) RETURNING blob',
    ),

    partBlob: db.prepare('SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?'),
    upsertPart: db.prepare(
      `INSERT INTO parts (upload_id, ${PART_COLUMNS})
       VALUES (@upload_id, @part_number, @blob, @size, @etag, @last_modified_ms, @checksums)
       ON CONFLICT (upload_id, part_number) DO UPDATE SET
         blob = excluded.blob, size = excluded.size, etag = excluded.etag,
         last_modified_ms = excluded.last_modified_ms, checksums = excluded.checksums`,
    ),
    allParts: db.prepare(`SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? ORDER BY part_number`),
    partsAfter: db.prepare(
      `SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?`,
    ),

    referencedBlobs: db.prepare('SELECT blob FROM objects UNION ALL SELECT blob FROM parts'),
  };
}
