/**
 * The metadata store: a Kysely database over a dialect chosen at start-up. Embedded
 * default is SQLite (better-sqlite3) at `<dataDir>/kiln.db`; a PostgreSQL dialect plugs in
 * here without touching services, because services only see `Kysely<MetadataSchema>`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Dialect, type MigrationProvider } from 'kysely';
import { migrations } from './migrations.ts';
import type { MetadataSchema } from './schema.ts';

export type MetadataDb = Kysely<MetadataSchema>;

export function sqliteDialect(file: string): Dialect {
  mkdirSync(path.dirname(file), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database });
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Opens the metadata database and brings its schema up to date. */
export async function openMetadataStore(dataDir: string, dialect: Dialect = sqliteDialect(path.join(dataDir, 'kiln.db'))): Promise<MetadataDb> {
  const db = new Kysely<MetadataSchema>({ dialect });
  const { error, results } = await new Migrator({ db, provider, allowUnorderedMigrations: true }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`metadata migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  return db;
}
