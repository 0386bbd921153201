/**
 * SageMaker resources (training jobs, and later models, endpoints, ...) kept as their
 * Describe documents, with the columns that List* operations filter and sort on.
 */
import { sql } from 'kysely';
import type { MetadataDb } from './database.ts';

export type ResourceDoc = Record<string, unknown>;

export interface ListQuery {
  nameContains?: string;
  statusEquals?: string;
  creationTimeAfter?: Date;
  creationTimeBefore?: Date;
  lastModifiedTimeAfter?: Date;
  lastModifiedTimeBefore?: Date;
  sortBy?: 'Name' | 'CreationTime' | 'Status';
  sortOrder?: 'Ascending' | 'Descending';
  maxResults?: number;
  nextToken?: string;
}

export class InvalidNextToken extends Error {}

/** Dates survive the JSON round trip as {"$date": epochMillis}. */
function encodeDoc(doc: ResourceDoc): string {
  return JSON.stringify(doc, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.getTime() } : value;
  });
}

function decodeDoc<D>(text: string): D {
  return JSON.parse(text, (_key, value) =>
    value && typeof value === 'object' && !Array.isArray(value) && typeof value.$date === 'number' && Object.keys(value).length === 1
      ? new Date(value.$date)
      : value,
  ) as D;
}

export class ResourceRepository<D extends ResourceDoc> {
  constructor(
    private readonly db: MetadataDb,
    private readonly kind: string,
    /** Reads the indexed columns off a document. */
    private readonly columns: (doc: D) => { name: string; arn: string; status?: string; creationTime: Date; lastModifiedTime: Date },
  ) {}

  /** Inserts a new resource; false when one of that name exists already. */
  async insert(doc: D): Promise<boolean> {
    const c = this.columns(doc);
    const result = await this.db
      .insertInto('sagemaker_resources')
      .values({
        kind: this.kind,
        name: c.name,
        arn: c.arn,
        status: c.status ?? null,
        creation_time: c.creationTime.getTime(),
        last_modified_time: c.lastModifiedTime.getTime(),
        doc: encodeDoc(doc),
      })
      .onConflict((oc) => oc.columns(['kind', 'name']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async get(name: string): Promise<D | undefined> {
    const row = await this.db.selectFrom('sagemaker_resources').select('doc').where('kind', '=', this.kind).where('name', '=', name).executeTakeFirst();
    return row ? decodeDoc<D>(row.doc) : undefined;
  }

  async getByArn(arn: string): Promise<D | undefined> {
    const row = await this.db.selectFrom('sagemaker_resources').select('doc').where('arn', '=', arn).where('kind', '=', this.kind).executeTakeFirst();
    return row ? decodeDoc<D>(row.doc) : undefined;
  }

  /**
   * Read-modify-write in one transaction. `change` returns the new document, or undefined
   * to leave it as it is. Returns the stored document afterwards (undefined if absent).
   */
  async update(name: string, change: (doc: D) => D | undefined): Promise<D | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('sagemaker_resources').select('doc').where('kind', '=', this.kind).where('name', '=', name).executeTakeFirst();
      if (!row) return undefined;
      const current = decodeDoc<D>(row.doc);
      const next = change(current);
      if (!next) return current;
      const c = this.columns(next);
      await tx
        .updateTable('sagemaker_resources')
        .set({ status: c.status ?? null, last_modified_time: c.lastModifiedTime.getTime(), doc: encodeDoc(next) })
        .where('kind', '=', this.kind)
        .where('name', '=', name)
        .execute();
      return next;
    });
  }

  /** Removes a resource; false when there was none of that name. */
  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sagemaker_resources').where('kind', '=', this.kind).where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows ?? 0) === 1;
  }

  /** Every resource of this kind (restart reconciliation). */
  async all(): Promise<D[]> {
    const rows = await this.db.selectFrom('sagemaker_resources').select('doc').where('kind', '=', this.kind).execute();
    return rows.map((r) => decodeDoc<D>(r.doc));
  }

  async listByStatus(statuses: string[]): Promise<D[]> {
    if (!statuses.length) return [];
    const rows = await this.db.selectFrom('sagemaker_resources').select('doc').where('kind', '=', this.kind).where('status', 'in', statuses).execute();
    return rows.map((r) => decodeDoc<D>(r.doc));
  }

  async countByStatus(statuses: string[], filter: (doc: D) => boolean = () => true): Promise<number> {
    return (await this.listByStatus(statuses)).filter(filter).length;
  }

  async list(q: ListQuery): Promise<{ items: D[]; nextToken?: string }> {
    let offset = 0;
    if (q.nextToken) {
      const decoded = Number(Buffer.from(q.nextToken, 'base64url').toString('utf8').replace(/^offset:/, ''));
      if (!Number.isInteger(decoded) || decoded < 0 || !Buffer.from(q.nextToken, 'base64url').toString('utf8').startsWith('offset:')) {
        throw new InvalidNextToken(q.nextToken);
      }
      offset = decoded;
    }
    const limit = q.maxResults ?? 10;
    let query = this.db.selectFrom('sagemaker_resources').select('doc').where('kind', '=', this.kind);
    if (q.nameContains) {
      const pattern = `%${q.nameContains.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      query = query.where(sql<boolean>`name like ${pattern} escape '\\'`);
    }
    if (q.statusEquals) query = query.where('status', '=', q.statusEquals);
    if (q.creationTimeAfter) query = query.where('creation_time', '>', q.creationTimeAfter.getTime());
    if (q.creationTimeBefore) query = query.where('creation_time', '<', q.creationTimeBefore.getTime());
    if (q.lastModifiedTimeAfter) query = query.where('last_modified_time', '>', q.lastModifiedTimeAfter.getTime());
    if (q.lastModifiedTimeBefore) query = query.where('last_modified_time', '<', q.lastModifiedTimeBefore.getTime());
    const column = q.sortBy === 'Name' ? 'name' : q.sortBy === 'Status' ? 'status' : 'creation_time';
    const direction = q.sortOrder === 'Ascending' ? 'asc' : 'desc';
    const rows = await query.orderBy(column, direction).orderBy('name', direction).limit(limit + 1).offset(offset).execute();
    const items = rows.slice(0, limit).map((r) => decodeDoc<D>(r.doc));
    const nextToken = rows.length > limit ? Buffer.from(`offset:${offset + limit}`).toString('base64url') : undefined;
    return { items, nextToken };
  }
}
