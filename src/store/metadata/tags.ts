/** Tags on any Kiln resource, keyed by ARN (AddTags/ListTags/DeleteTags and CreateX Tags). */
import type { MetadataDb } from './database.ts';

export interface Tag {
  Key: string;
  Value: string;
}

export class TagRepository {
  constructor(private readonly db: MetadataDb) {}

  async put(resourceArn: string, tags: Tag[]): Promise<void> {
    if (!tags.length) return;
    await this.db
      .insertInto('resource_tags')
      .values(tags.map((t) => ({ resource_arn: resourceArn, tag_key: t.Key, tag_value: t.Value ?? '' })))
      .onConflict((oc) => oc.columns(['resource_arn', 'tag_key']).doUpdateSet((eb) => ({ tag_value: eb.ref('excluded.tag_value') })))
      .execute();
  }

  async list(resourceArn: string): Promise<Tag[]> {
    const rows = await this.db.selectFrom('resource_tags').select(['tag_key', 'tag_value']).where('resource_arn', '=', resourceArn).orderBy('tag_key').execute();
    return rows.map((r) => ({ Key: r.tag_key, Value: r.tag_value }));
  }

  async remove(resourceArn: string, keys: string[]): Promise<void> {
    if (!keys.length) return;
    await this.db.deleteFrom('resource_tags').where('resource_arn', '=', resourceArn).where('tag_key', 'in', keys).execute();
  }

  async removeAll(resourceArn: string): Promise<void> {
    await this.db.deleteFrom('resource_tags').where('resource_arn', '=', resourceArn).execute();
  }
}
