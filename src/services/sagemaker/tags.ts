/** Tags on any SageMaker resource Kiln holds (AddTags, ListTags, DeleteTags, and Tags on Create*). */
import { AwsError } from '../../server/errors.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import { TagRepository, type Tag } from '../../store/metadata/tags.ts';
import type { OperationInput } from '../types.ts';

const MAX_TAGS = 50;

export class SageMakerTagOperations {
  private readonly tags: TagRepository;

  constructor(private readonly db: MetadataDb) {
    this.tags = new TagRepository(db);
  }

  async AddTags(input: OperationInput) {
    await this.requireResource(input.ResourceArn);
    await this.putTags(input.ResourceArn, input.Tags);
    return { Tags: input.Tags };
  }

  async ListTags(input: OperationInput) {
    await this.requireResource(input.ResourceArn);
    const all = await this.tags.list(input.ResourceArn);
    const start = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw new AwsError('ValidationException', 'The NextToken provided is invalid.');
    const max = input.MaxResults ?? 50;
    const page = all.slice(start, start + max);
    return { Tags: page, ...(start + max < all.length ? { NextToken: Buffer.from(String(start + max)).toString('base64url') } : {}) };
  }

  async DeleteTags(input: OperationInput) {
    await this.requireResource(input.ResourceArn);
    await this.tags.remove(input.ResourceArn, input.TagKeys);
    return {};
  }

  /** Validates and stores tags, as Create* operations with Tags and AddTags do. */
  async putTags(arn: string, tags: Tag[]): Promise<void> {
    const keys = new Set(tags.map((t) => t.Key));
    if (keys.size !== tags.length) throw new AwsError('ValidationException', 'Tag keys must be unique within a request.');
    const existing = await this.tags.list(arn);
    const total = new Set([...existing.map((t) => t.Key), ...keys]).size;
    if (total > MAX_TAGS) throw new AwsError('ValidationException', `A resource can have at most ${MAX_TAGS} tags; this request would give it ${total}.`);
    if (tags.some((t) => t.Key.startsWith('aws:'))) throw new AwsError('ValidationException', "Tag keys starting with 'aws:' are reserved for AWS use.");
    await this.tags.put(arn, tags);
  }

  private async requireResource(arn: string): Promise<void> {
    const row = await this.db.selectFrom('sagemaker_resources').select('arn').where('arn', '=', arn).executeTakeFirst();
    if (!row) throw new AwsError('ResourceNotFound', `Resource ${arn} does not exist.`, 400);
  }
}
