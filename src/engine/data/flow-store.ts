/** Flows stored in the metadata database, with a revision number for optimistic concurrency. */
import type { MetadataDb } from '../../store/metadata/database.ts';
import { fromDataWranglerFlow, isDataWranglerFlow } from './data-wrangler-flow.ts';
import { FlowError } from './errors.ts';
import { FLOW_NAME, validateFlow, type FlowDocument } from './flow.ts';
import { operatorCatalog } from './operators.ts';

export interface StoredFlow {
  name: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
  flow: FlowDocument;
  /** When the document came from SageMaker Data Wrangler: what its translation left out. */
  importNotes?: string[];
}

/** A Kiln flow document, or a Data Wrangler `.flow` translated to one, validated. */
export function readFlowDocument(doc: unknown): { flow: FlowDocument; notes: string[] } {
  if (!isDataWranglerFlow(doc)) return { flow: validateFlow(doc, operatorCatalog), notes: [] };
  const translated = fromDataWranglerFlow(doc);
  return { flow: validateFlow(translated.flow, operatorCatalog), notes: translated.notes };
}

const withNotes = (stored: StoredFlow, notes: string[]): StoredFlow => (notes.length ? { ...stored, importNotes: notes } : stored);

export const checkFlowName = (name: unknown): string => {
  if (typeof name !== 'string' || !FLOW_NAME.test(name)) throw new FlowError(`flow name must be 1-63 letters, digits and hyphens, starting with a letter or digit`);
  return name;
};

const toStored = (r: { name: string; doc: string; revision: number; created_at: number; updated_at: number }): StoredFlow => ({
  name: r.name,
  revision: r.revision,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
  flow: JSON.parse(r.doc) as FlowDocument,
});

export class FlowStore {
  constructor(private readonly db: MetadataDb) {}

  async list(): Promise<StoredFlow[]> {
    return (await this.db.selectFrom('data_flows').selectAll().orderBy('name').execute()).map(toStored);
  }

  async get(name: string): Promise<StoredFlow> {
    const row = await this.db.selectFrom('data_flows').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw new FlowError(`no flow named '${name}'`, 404, 'NoSuchFlow');
    return toStored(row);
  }

  async create(name: string, doc: unknown): Promise<StoredFlow> {
    checkFlowName(name);
    const { flow, notes } = readFlowDocument(doc);
    const now = Date.now();
    const exists = await this.db.selectFrom('data_flows').select('name').where('name', '=', name).executeTakeFirst();
    if (exists) throw new FlowError(`a flow named '${name}' already exists`, 409, 'FlowAlreadyExists');
    await this.db.insertInto('data_flows').values({ name, doc: JSON.stringify(flow), revision: 1, created_at: now, updated_at: now }).execute();
    return withNotes(await this.get(name), notes);
  }

  /**
   * Replaces a flow's document after validating it. With `expectedRevision`, fails when someone
   * else changed the flow in between; the row is untouched unless the whole new document is valid.
   */
  async replace(name: string, doc: unknown, expectedRevision?: number): Promise<StoredFlow> {
    const { flow, notes } = readFlowDocument(doc);
    const current = await this.get(name);
    if (expectedRevision !== undefined && expectedRevision !== current.revision) {
      throw new FlowError(`flow '${name}' is at revision ${current.revision}, not ${expectedRevision}; reload it and retry`, 409, 'RevisionConflict');
    }
    const r = await this.db
      .updateTable('data_flows')
      .set({ doc: JSON.stringify(flow), revision: current.revision + 1, updated_at: Date.now() })
      .where('name', '=', name)
      .where('revision', '=', current.revision)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new FlowError(`flow '${name}' changed while it was being saved; retry`, 409, 'RevisionConflict');
    return withNotes(await this.get(name), notes);
  }

  async delete(name: string): Promise<void> {
    const r = await this.db.deleteFrom('data_flows').where('name', '=', name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new FlowError(`no flow named '${name}'`, 404, 'NoSuchFlow');
  }
}
