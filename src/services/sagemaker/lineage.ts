/** SageMaker's lineage operations: artifacts, actions, contexts, associations, QueryLineage. */
import type { Lineage, LineageKind } from '../../engine/lineage/lineage.ts';
import { AwsError } from '../../server/errors.ts';
import type { OperationInput } from '../types.ts';
import type { SageMakerTagOperations } from './tags.ts';

export class SageMakerLineageOperations {
  constructor(
    private readonly lineage: Lineage,
    private readonly tags: SageMakerTagOperations,
  ) {}

  private async create(kind: LineageKind, input: OperationInput, name: string | undefined, type: string) {
    const doc = await this.lineage.create(kind, { ...input, name, type } as never);
    if (input.Tags?.length) await this.tags.putTags(doc.arn, input.Tags);
    return doc.arn;
  }

  private async list(kind: LineageKind, member: string, input: OperationInput, type: string | undefined) {
    const { page, nextToken } = await this.lineage.list(kind, { ...input, type });
    return { [member]: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  // ---- artifacts
  async CreateArtifact(input: OperationInput) {
    return { ArtifactArn: await this.create('artifact', input, input.ArtifactName, input.ArtifactType) };
  }

  async DescribeArtifact(input: OperationInput) {
    return this.lineage.view('artifact', await this.lineage.get('artifact', input.ArtifactArn));
  }

  ListArtifacts(input: OperationInput) {
    return this.list('artifact', 'ArtifactSummaries', input, input.ArtifactType);
  }

  async DeleteArtifact(input: OperationInput) {
    let key: string | undefined = input.ArtifactArn;
    if (!key && input.Source?.SourceUri) {
      const { page } = await this.lineage.list('artifact', { SourceUri: input.Source.SourceUri, MaxResults: 1 });
      key = page[0]?.ArtifactArn as string | undefined;
      if (!key) throw new AwsError('ResourceNotFound', `No artifact has the source URI '${input.Source.SourceUri}'.`);
    }
    if (!key) throw new AwsError('ValidationException', 'DeleteArtifact needs ArtifactArn or Source.');
    return { ArtifactArn: await this.lineage.delete('artifact', key) };
  }

  async UpdateArtifact(input: OperationInput) {
    return { ArtifactArn: await this.lineage.update('artifact', input.ArtifactArn, input) };
  }

  // ---- actions
  async CreateAction(input: OperationInput) {
    return { ActionArn: await this.create('action', input, input.ActionName, input.ActionType) };
  }

  async DescribeAction(input: OperationInput) {
    return this.lineage.view('action', await this.lineage.get('action', input.ActionName));
  }

  ListActions(input: OperationInput) {
    return this.list('action', 'ActionSummaries', input, input.ActionType);
  }

  async DeleteAction(input: OperationInput) {
    return { ActionArn: await this.lineage.delete('action', input.ActionName) };
  }

  async UpdateAction(input: OperationInput) {
    return { ActionArn: await this.lineage.update('action', input.ActionName, input) };
  }

  // ---- contexts
  async CreateContext(input: OperationInput) {
    return { ContextArn: await this.create('context', input, input.ContextName, input.ContextType) };
  }

  async DescribeContext(input: OperationInput) {
    return this.lineage.view('context', await this.lineage.get('context', input.ContextName));
  }

  ListContexts(input: OperationInput) {
    return this.list('context', 'ContextSummaries', input, input.ContextType);
  }

  async DeleteContext(input: OperationInput) {
    return { ContextArn: await this.lineage.delete('context', input.ContextName) };
  }

  async UpdateContext(input: OperationInput) {
    return { ContextArn: await this.lineage.update('context', input.ContextName, input) };
  }

  // ---- associations and queries
  async AddAssociation(input: OperationInput) {
    await this.lineage.associate(input.SourceArn, input.DestinationArn, input.AssociationType);
    return { SourceArn: input.SourceArn, DestinationArn: input.DestinationArn };
  }

  async DeleteAssociation(input: OperationInput) {
    await this.lineage.disassociate(input.SourceArn, input.DestinationArn);
    return { SourceArn: input.SourceArn, DestinationArn: input.DestinationArn };
  }

  ListAssociations(input: OperationInput) {
    return this.lineage.listAssociations(input);
  }

  QueryLineage(input: OperationInput) {
    return this.lineage.query(input);
  }
}
