/**
 * ML lineage: artifacts (data sets, images, models), actions (deployments), contexts
 * (endpoints) and the associations between them and trial components, with QueryLineage's
 * walk up (ascendants) or down (descendants) the graph.
 */
import { randomBytes } from 'node:crypto';
import { AwsError } from '../../server/errors.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import { ResourceRepository } from '../../store/metadata/resources.ts';
import { TagRepository } from '../../store/metadata/tags.ts';
import { pageOf } from '../experiments/paging.ts';

export type LineageKind = 'artifact' | 'action' | 'context';
export type LineageType = 'Artifact' | 'Action' | 'Context' | 'TrialComponent';

export interface LineageDoc extends Record<string, unknown> {
  /** ActionName / ContextName; for artifacts, the generated id in the ARN. */
  name: string;
  arn: string;
  Source: { SourceUri: string; SourceType?: string; SourceId?: string; SourceTypes?: unknown[] };
  /** ArtifactType / ActionType / ContextType. */
  type: string;
  Description?: string;
  Status?: string;
  Properties?: Record<string, string>;
  MetadataProperties?: Record<string, string>;
  CreationTime: Date;
  LastModifiedTime: Date;
  /** Artifacts only, and optional: their repository key is a generated id. */
  ArtifactName?: string;
}

export interface Vertex {
  Arn: string;
  Type?: string;
  LineageType: LineageType;
}

export interface Edge {
  SourceArn: string;
  DestinationArn: string;
  AssociationType?: string;
}

const LABEL: Record<LineageKind, { member: string; what: string; lineageType: LineageType }> = {
  artifact: { member: 'Artifact', what: 'Artifact', lineageType: 'Artifact' },
  action: { member: 'Action', what: 'Action', lineageType: 'Action' },
  context: { member: 'Context', what: 'Context', lineageType: 'Context' },
};

/** What kind of lineage entity an ARN names, from its resource type. */
function kindOfArn(arn: string): LineageKind | 'experiment-trial-component' | undefined {
  const m = /^arn:aws[a-z-]*:sagemaker:[^:]*:\d{12}:([a-z-]+)\//.exec(arn);
  const kind = m?.[1];
  return kind === 'artifact' || kind === 'action' || kind === 'context' || kind === 'experiment-trial-component' ? kind : undefined;
}

export interface TrialComponentLookup {
  byArn(arn: string): Promise<{ name: string; sourceType?: string } | undefined>;
}

export class Lineage {
  private readonly repos: Record<LineageKind, ResourceRepository<LineageDoc>>;
  private readonly tags: TagRepository;

  constructor(
    private readonly db: MetadataDb,
    private readonly region: string,
    private readonly accountId: string,
    private readonly components: TrialComponentLookup,
  ) {
    const repo = (kind: LineageKind) =>
      new ResourceRepository<LineageDoc>(db, kind, (d) => ({ name: d.name, arn: d.arn, status: d.Status, creationTime: d.CreationTime, lastModifiedTime: d.LastModifiedTime }));
    this.repos = { artifact: repo('artifact'), action: repo('action'), context: repo('context') };
    this.tags = new TagRepository(db);
  }

  async create(
    kind: LineageKind,
    input: { name?: string; Source: LineageDoc['Source']; type: string; Description?: string; Status?: string; Properties?: Record<string, string>; MetadataProperties?: Record<string, string> },
  ): Promise<LineageDoc> {
    // Artifacts are addressed by a generated id, as SageMaker's are; actions and contexts by name.
    const key = kind === 'artifact' ? randomBytes(16).toString('hex') : input.name!;
    const now = new Date();
    const doc: LineageDoc = {
      name: key,
      ...(kind === 'artifact' && input.name !== undefined ? { ArtifactName: input.name } : {}),
      arn: `arn:aws:sagemaker:${this.region}:${this.accountId}:${kind}/${key.toLowerCase()}`,
      Source: input.Source,
      type: input.type,
      ...(input.Description !== undefined ? { Description: input.Description } : {}),
      ...(input.Status !== undefined ? { Status: input.Status } : {}),
      ...(input.Properties ? { Properties: input.Properties } : {}),
      ...(input.MetadataProperties ? { MetadataProperties: input.MetadataProperties } : {}),
      CreationTime: now,
      LastModifiedTime: now,
    };
    if ((await this.repos[kind].getByArn(doc.arn)) || !(await this.repos[kind].insert(doc))) {
      throw new AwsError('ValidationException', `${LABEL[kind].what} with name '${doc.name}' already exists.`);
    }
    return doc;
  }

  /** The artifact for a URI and type, created the first time (automatic lineage reuses them). */
  async artifactFor(uri: string, type: string): Promise<LineageDoc> {
    const existing = (await this.repos.artifact.all()).find((d) => d.Source.SourceUri === uri && d.type === type);
    return existing ?? this.create('artifact', { Source: { SourceUri: uri }, type });
  }

  async get(kind: LineageKind, key: string): Promise<LineageDoc> {
    const doc = key.startsWith('arn:') ? await this.repos[kind].getByArn(key) : await this.repos[kind].get(key);
    if (!doc) throw new AwsError('ResourceNotFound', `${LABEL[kind].what} '${key}' does not exist.`);
    return doc;
  }

  /** Describe* / List* members of a document. */
  view(kind: LineageKind, d: LineageDoc): Record<string, unknown> {
    const member = LABEL[kind].member;
    return {
      ...(kind !== 'artifact' ? { [`${member}Name`]: d.name } : d.ArtifactName ? { ArtifactName: d.ArtifactName } : {}),
      [`${member}Arn`]: d.arn,
      Source: d.Source,
      [`${member}Type`]: d.type,
      ...(d.Description !== undefined ? { Description: d.Description } : {}),
      ...(d.Status !== undefined ? { Status: d.Status } : {}),
      ...(d.Properties ? { Properties: d.Properties } : {}),
      ...(d.MetadataProperties ? { MetadataProperties: d.MetadataProperties } : {}),
      CreationTime: d.CreationTime,
      LastModifiedTime: d.LastModifiedTime,
    };
  }

  async list(kind: LineageKind, q: { SourceUri?: string; type?: string; CreatedAfter?: Date; CreatedBefore?: Date; SortOrder?: string; MaxResults?: number; NextToken?: string }) {
    const sign = q.SortOrder === 'Ascending' ? 1 : -1;
    const items = (await this.repos[kind].all())
      .filter((d) => (!q.SourceUri || d.Source.SourceUri === q.SourceUri) && (!q.type || d.type === q.type))
      .filter((d) => (!q.CreatedAfter || d.CreationTime > q.CreatedAfter) && (!q.CreatedBefore || d.CreationTime < q.CreatedBefore))
      .sort((a, b) => sign * (a.CreationTime.getTime() - b.CreationTime.getTime()) || (a.arn < b.arn ? -1 : 1));
    const { page, nextToken } = pageOf(items, q.MaxResults, q.NextToken);
    return { page: page.map((d) => this.view(kind, d)), nextToken };
  }

  async update(kind: LineageKind, key: string, patch: { ArtifactName?: string; Description?: string; Status?: string; Properties?: Record<string, string>; PropertiesToRemove?: string[] }): Promise<string> {
    const { name } = await this.get(kind, key);
    const both = Object.keys(patch.Properties ?? {}).filter((k) => patch.PropertiesToRemove?.includes(k));
    if (both.length) throw new AwsError('ValidationException', `Property '${both[0]}' cannot be both updated and removed in one request.`);
    const doc = await this.repos[kind].update(name, (d) => {
      if (patch.ArtifactName !== undefined && kind === 'artifact') d.ArtifactName = patch.ArtifactName;
      if (patch.Description !== undefined) d.Description = patch.Description;
      if (patch.Status !== undefined) d.Status = patch.Status;
      if (patch.Properties || patch.PropertiesToRemove) {
        const properties = { ...d.Properties, ...patch.Properties };
        for (const k of patch.PropertiesToRemove ?? []) delete properties[k];
        if (Object.keys(properties).length > 30) throw new AwsError('ResourceLimitExceeded', `A lineage entity can have at most 30 properties; this update would give it ${Object.keys(properties).length}.`);
        d.Properties = properties;
      }
      d.LastModifiedTime = new Date();
      return d;
    });
    return doc!.arn;
  }

  async delete(kind: LineageKind, key: string): Promise<string> {
    const doc = await this.get(kind, key);
    await this.repos[kind].delete(doc.name);
    await this.db.deleteFrom('lineage_associations').where((eb) => eb.or([eb('source_arn', '=', doc.arn), eb('destination_arn', '=', doc.arn)])).execute();
    await this.tags.removeAll(doc.arn);
    return doc.arn;
  }

  /** A vertex for any ARN that can take part in lineage, or ResourceNotFound. */
  async vertex(arn: string): Promise<Vertex & { name?: string }> {
    const kind = kindOfArn(arn);
    if (kind === 'experiment-trial-component') {
      const tc = await this.components.byArn(arn);
      if (tc) return { Arn: arn, ...(tc.sourceType ? { Type: tc.sourceType } : {}), LineageType: 'TrialComponent', name: tc.name };
    } else if (kind) {
      const doc = await this.repos[kind].getByArn(arn);
      if (doc) return { Arn: arn, Type: doc.type, LineageType: LABEL[kind].lineageType, name: kind === 'artifact' ? doc.ArtifactName : doc.name };
    }
    throw new AwsError('ResourceNotFound', `The lineage entity '${arn}' does not exist.`);
  }

  async associate(sourceArn: string, destinationArn: string, type?: string): Promise<void> {
    await this.vertex(sourceArn);
    await this.vertex(destinationArn);
    await this.db
      .insertInto('lineage_associations')
      .values({ source_arn: sourceArn, destination_arn: destinationArn, association_type: type ?? null, creation_time: Date.now() })
      .onConflict((oc) => oc.columns(['source_arn', 'destination_arn']).doNothing())
      .execute();
  }

  async disassociate(sourceArn: string, destinationArn: string): Promise<void> {
    const result = await this.db.deleteFrom('lineage_associations').where('source_arn', '=', sourceArn).where('destination_arn', '=', destinationArn).executeTakeFirst();
    if (!Number(result.numDeletedRows)) throw new AwsError('ResourceNotFound', `There is no association from '${sourceArn}' to '${destinationArn}'.`);
  }

  async listAssociations(q: { SourceArn?: string; DestinationArn?: string; SourceType?: string; DestinationType?: string; AssociationType?: string; CreatedAfter?: Date; CreatedBefore?: Date; SortOrder?: string; MaxResults?: number; NextToken?: string }) {
    let query = this.db.selectFrom('lineage_associations').selectAll();
    if (q.SourceArn) query = query.where('source_arn', '=', q.SourceArn);
    if (q.DestinationArn) query = query.where('destination_arn', '=', q.DestinationArn);
    if (q.AssociationType) query = query.where('association_type', '=', q.AssociationType);
    if (q.CreatedAfter) query = query.where('creation_time', '>', q.CreatedAfter.getTime());
    if (q.CreatedBefore) query = query.where('creation_time', '<', q.CreatedBefore.getTime());
    const rows = await query.orderBy('creation_time', q.SortOrder === 'Ascending' ? 'asc' : 'desc').execute();
    const summaries = [];
    for (const r of rows) {
      const [source, destination] = await Promise.all([this.vertex(r.source_arn).catch(() => undefined), this.vertex(r.destination_arn).catch(() => undefined)]);
      if ((q.SourceType && source?.Type !== q.SourceType) || (q.DestinationType && destination?.Type !== q.DestinationType)) continue;
      summaries.push({
        SourceArn: r.source_arn,
        DestinationArn: r.destination_arn,
        ...(source?.Type ? { SourceType: source.Type } : {}),
        ...(destination?.Type ? { DestinationType: destination.Type } : {}),
        ...(r.association_type ? { AssociationType: r.association_type } : {}),
        ...(source?.name ? { SourceName: source.name } : {}),
        ...(destination?.name ? { DestinationName: destination.name } : {}),
        CreationTime: new Date(r.creation_time),
      });
    }
    const { page, nextToken } = pageOf(summaries, q.MaxResults, q.NextToken);
    return { AssociationSummaries: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  /** Breadth-first from the start entities, up to MaxDepth edges away. */
  async query(q: {
    StartArns?: string[];
    Direction?: 'Both' | 'Ascendants' | 'Descendants';
    IncludeEdges?: boolean;
    Filters?: { Types?: string[]; LineageTypes?: string[]; CreatedAfter?: Date; CreatedBefore?: Date };
    MaxDepth?: number;
    MaxResults?: number;
    NextToken?: string;
  }): Promise<{ Vertices: Vertex[]; Edges: Edge[]; NextToken?: string }> {
    const direction = q.Direction ?? 'Both';
    const maxDepth = q.MaxDepth ?? 10;
    const start = q.StartArns ?? [];
    for (const arn of start) await this.vertex(arn);
    const seen = new Set(start);
    const edges = new Map<string, Edge>();
    const reached: string[] = [];
    let frontier = start;
    for (let depth = 0; depth < maxDepth && frontier.length; depth++) {
      const next: string[] = [];
      const rows = [];
      if (direction !== 'Descendants') rows.push(...(await this.db.selectFrom('lineage_associations').selectAll().where('destination_arn', 'in', frontier).execute()).map((r) => ({ r, other: r.source_arn })));
      if (direction !== 'Ascendants') rows.push(...(await this.db.selectFrom('lineage_associations').selectAll().where('source_arn', 'in', frontier).execute()).map((r) => ({ r, other: r.destination_arn })));
      for (const { r, other } of rows) {
        edges.set(`${r.source_arn} ${r.destination_arn}`, { SourceArn: r.source_arn, DestinationArn: r.destination_arn, ...(r.association_type ? { AssociationType: r.association_type } : {}) });
        if (seen.has(other)) continue;
        seen.add(other);
        next.push(other);
        reached.push(other);
      }
      frontier = next;
    }
    const vertices: Vertex[] = [];
    for (const arn of reached) {
      const v = await this.vertex(arn).catch(() => undefined);
      if (!v) continue;
      const f = q.Filters;
      if (f?.Types?.length && !f.Types.includes(v.Type ?? '')) continue;
      if (f?.LineageTypes?.length && !f.LineageTypes.includes(v.LineageType)) continue;
      vertices.push({ Arn: v.Arn, ...(v.Type ? { Type: v.Type } : {}), LineageType: v.LineageType });
    }
    const { page, nextToken } = pageOf(vertices, q.MaxResults, q.NextToken, 10);
    return { Vertices: page, Edges: q.IncludeEdges === false ? [] : [...edges.values()], ...(nextToken ? { NextToken: nextToken } : {}) };
  }
}
