/**
 * The metadata store: a Kysely database over a dialect chosen at start-up. Embedded
 * default is SQLite (better-sqlite3) at `<dataDir>/kiln.db`; a PostgreSQL dialect plugs in
 * here without touching services, because services only see `Kysely<MetadataSchema>`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, SqliteDriver, type Dialect, type Driver, type MigrationProvider } from 'kysely';
import { migrations } from './migrations.ts';
import type { MetadataSchema } from './schema.ts';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.ts';

export type MetadataDb = Kysely<MetadataSchema>;

/** Log pages past which a commit checkpoints itself, should the checkpointer fall behind (64 MiB). */
const COMMIT_CHECKPOINT_PAGES = 16_384;

/**
 * The SQLite dialect, keeping its connection so hot write paths can run prepared statements
 * on it, with the write-ahead log checkpointed off the server's thread while it is open.
 */
export class EmbeddedSqliteDialect extends SqliteDialect {
  constructor(
    readonly database: SQLite.Database,
    private readonly checkpointer: WalCheckpointer,
  ) {
    super({ database });
  }

  override createDriver(): Driver {
    const checkpointer = this.checkpointer;
    return new (class extends SqliteDriver {
      override async destroy(): Promise<void> {
        await checkpointer.stop();
        await super.destroy();
      }
    })({ database: this.database });
  }
}

export function sqliteDialect(file: string): EmbeddedSqliteDialect {
  mkdirSync(path.dirname(file), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.pragma(`wal_autocheckpoint = ${COMMIT_CHECKPOINT_PAGES}`);
  return new EmbeddedSqliteDialect(database, startWalCheckpointer(file));
}

const embedded = new WeakMap<MetadataDb, SQLite.Database>();

/**
 * Runs `work` on the embedded SQLite connection while holding it, so no Kysely transaction can
 * be open around it; false, without running it, when the store is not embedded SQLite. For hot
 * paths that reuse prepared statements instead of building and preparing SQL on every call.
 */
export async function withEmbeddedSqlite(db: MetadataDb, work: (database: SQLite.Database) => void): Promise<boolean> {
  const database = embedded.get(db);
  if (!database) return false;
  await db.connection().execute(async () => work(database));
  return true;
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Opens the metadata database and brings its schema up to date. */
export async function openMetadataStore(dataDir: string, dialect: Dialect = sqliteDialect(path.join(dataDir, 'kiln.db'))): Promise<MetadataDb> {
  const db = new Kysely<MetadataSchema>({ dialect });
  if (dialect instanceof EmbeddedSqliteDialect) embedded.set(db, dialect.database);
  const { error, results } = await new Migrator({ db, provider, allowUnorderedMigrations: true }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`metadata migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  return db;
}
