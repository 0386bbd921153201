/**
 * Versioned schema migrations, written with Kysely's schema builder so the same migration
 * runs on SQLite and PostgreSQL. Append new migrations; never edit a released one.
 */
import type { Kysely, Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('kiln_info')
        .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('resource_tags')
        .addColumn('resource_arn', 'varchar(2048)', (c) => c.notNull())
        .addColumn('tag_key', 'varchar(128)', (c) => c.notNull())
        .addColumn('tag_value', 'varchar(256)', (c) => c.notNull())
        .addPrimaryKeyConstraint('resource_tags_pk', ['resource_arn', 'tag_key'])
        .execute();
    },
  },
};
