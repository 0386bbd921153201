/**
 * SageMaker Experiments: experiments, the trials in them, trial components (runs and job
 * steps) and their associations, with SageMaker's naming, update and deletion rules.
 */
import { AwsError } from '../../server/errors.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import { ResourceRepository } from '../../store/metadata/resources.ts';
import { listError } from '../list-error.ts';
import { TagRepository } from '../../store/metadata/tags.ts';
import { entityArn, nameFromNameOrArn, type Artifact, type ExperimentDoc, type ExperimentEntityKind, type ParameterValue, type Source, type TrialComponentDoc, type TrialDoc } from './entities.ts';
import { MetricStore, type PutMetricsError, type RawMetric } from './metrics.ts';
import { pageOf } from './paging.ts';
import { TrialComponentIndex } from './trial-component-index.ts';

const MAX_PARAMETERS = 150;
const MAX_ARTIFACTS = 30;

export interface ExperimentsDeps {
  db: MetadataDb;
  region: string;
  accountId: string;
}

export interface TimeRangeQuery {
  CreatedAfter?: Date;
  CreatedBefore?: Date;
  SortBy?: 'Name' | 'CreationTime';
  SortOrder?: 'Ascending' | 'Descending';
  MaxResults?: number;
  NextToken?: string;
}

const notFound = (what: string, name: string) => new AwsError('ResourceNotFound', `${what} '${name}' does not exist.`);
const alreadyExists = (what: string, name: string) => new AwsError('ValidationException', `${what} with name '${name}' already exists.`);

function repository<D extends Record<string, unknown>>(db: MetadataDb, kind: ExperimentEntityKind, nameOf: (d: D) => string, arnOf: (d: D) => string) {
  return new ResourceRepository<D>(db, kind, (d) => ({
    name: nameOf(d),
    arn: arnOf(d),
    creationTime: d.CreationTime as Date,
    lastModifiedTime: d.LastModifiedTime as Date,
  }));
}

/** Sorted by name or creation time (newest first unless asked otherwise), as List* sort. */
function sortByNameOrTime<T>(items: T[], name: (t: T) => string, created: (t: T) => Date, q: TimeRangeQuery): T[] {
  const sign = q.SortOrder === 'Ascending' ? 1 : -1;
  const byName = (a: T, b: T) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
  return items.sort((a, b) => sign * (q.SortBy === 'Name' ? byName(a, b) : created(a).getTime() - created(b).getTime() || byName(a, b)));
}

function inTimeRange(created: Date, q: TimeRangeQuery): boolean {
  return (!q.CreatedAfter || created > q.CreatedAfter) && (!q.CreatedBefore || created < q.CreatedBefore);
}

/** Applies a map update with removals; a key both set and removed is the caller's mistake. */
function mergeMap<V>(current: Record<string, V> | undefined, set: Record<string, V> | undefined, remove: string[] | undefined, what: string, max: number): Record<string, V> | undefined {
  if (!set && !remove?.length) return current;
  const both = Object.keys(set ?? {}).filter((k) => remove?.includes(k));
  if (both.length) throw new AwsError('ValidationException', `${what} '${both[0]}' cannot be both updated and removed in one request.`);
  const next = { ...current, ...set };
  for (const k of remove ?? []) delete next[k];
  if (Object.keys(next).length > max) {
    throw new AwsError('ResourceLimitExceeded', `A trial component can have at most ${max} ${what.toLowerCase()}s; this update would give it ${Object.keys(next).length}.`);
  }
  return next;
}

export class Experiments {
  readonly experiments: ResourceRepository<ExperimentDoc>;
  readonly trials: ResourceRepository<TrialDoc>;
  readonly components: ResourceRepository<TrialComponentDoc>;
  readonly metrics: MetricStore;
  readonly index: TrialComponentIndex;
  private readonly tags: TagRepository;
  /** Components known to exist, so metric writes (the hot path) skip the lookup. */
  private readonly metricTargets = new Set<string>();

  constructor(private readonly deps: ExperimentsDeps) {
    this.experiments = repository<ExperimentDoc>(deps.db, 'experiment', (d) => d.ExperimentName, (d) => d.ExperimentArn);
    this.trials = repository<TrialDoc>(deps.db, 'experiment-trial', (d) => d.TrialName, (d) => d.TrialArn);
    this.components = repository<TrialComponentDoc>(deps.db, 'experiment-trial-component', (d) => d.TrialComponentName, (d) => d.TrialComponentArn);
    this.metrics = new MetricStore(deps.db);
    this.index = new TrialComponentIndex(deps.db, this.components, this.metrics);
    this.tags = new TagRepository(deps.db);
  }

  arn(kind: ExperimentEntityKind, name: string): string {
    return entityArn(this.deps.region, this.deps.accountId, kind, name);
  }

  // ---- experiments

  async createExperiment(input: { ExperimentName: string; DisplayName?: string; Description?: string }, source?: Source): Promise<{ ExperimentArn: string }> {
    const now = new Date();
    const doc: ExperimentDoc = {
      ExperimentName: input.ExperimentName,
      ExperimentArn: this.arn('experiment', input.ExperimentName),
      DisplayName: input.DisplayName ?? input.ExperimentName,
      ...(input.Description !== undefined ? { Description: input.Description } : {}),
      ...(source ? { Source: source } : {}),
      CreationTime: now,
      LastModifiedTime: now,
    };
    if ((await this.experiments.getByArn(doc.ExperimentArn)) || !(await this.experiments.insert(doc))) throw alreadyExists('Experiment', input.ExperimentName);
    return { ExperimentArn: doc.ExperimentArn };
  }

  async describeExperiment(name: string): Promise<ExperimentDoc> {
    const doc = await this.experiments.get(name);
    if (!doc) throw notFound('Experiment', name);
    return doc;
  }

  async listExperiments(q: TimeRangeQuery): Promise<{ ExperimentSummaries: Record<string, unknown>[]; NextToken?: string }> {
    const { items, nextToken } = await this.experiments.list({
      creationTimeAfter: q.CreatedAfter,
      creationTimeBefore: q.CreatedBefore,
      sortBy: q.SortBy,
      sortOrder: q.SortOrder ?? 'Descending',
      maxResults: q.MaxResults,
      nextToken: q.NextToken,
    }).catch(listError);
    return {
      ExperimentSummaries: items.map((d) => ({
        ExperimentArn: d.ExperimentArn,
        ExperimentName: d.ExperimentName,
        DisplayName: d.DisplayName,
        ...(d.Source ? { ExperimentSource: d.Source } : {}),
        CreationTime: d.CreationTime,
        LastModifiedTime: d.LastModifiedTime,
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async updateExperiment(input: { ExperimentName: string; DisplayName?: string; Description?: string }): Promise<{ ExperimentArn: string }> {
    const doc = await this.experiments.update(input.ExperimentName, (d) => {
      if (input.DisplayName !== undefined) d.DisplayName = input.DisplayName;
      if (input.Description !== undefined) d.Description = input.Description;
      d.LastModifiedTime = new Date();
      return d;
    });
    if (!doc) throw notFound('Experiment', input.ExperimentName);
    return { ExperimentArn: doc.ExperimentArn };
  }

  async deleteExperiment(name: string): Promise<{ ExperimentArn: string }> {
    const doc = await this.describeExperiment(name);
    const trials = (await this.trials.all()).filter((t) => t.ExperimentName === name);
    if (trials.length) {
      throw new AwsError('ValidationException', `Experiment '${name}' has ${trials.length} trial(s) (${trials.slice(0, 3).map((t) => t.TrialName).join(', ')}${trials.length > 3 ? ', …' : ''}). Delete its trials before the experiment.`);
    }
    await this.experiments.delete(name);
    await this.tags.removeAll(doc.ExperimentArn);
    return { ExperimentArn: doc.ExperimentArn };
  }

  // ---- trials

  async createTrial(input: { TrialName: string; ExperimentName: string; DisplayName?: string; MetadataProperties?: Record<string, string> }, source?: Source): Promise<{ TrialArn: string }> {
    await this.describeExperiment(input.ExperimentName);
    const now = new Date();
    const doc: TrialDoc = {
      TrialName: input.TrialName,
      TrialArn: this.arn('experiment-trial', input.TrialName),
      DisplayName: input.DisplayName ?? input.TrialName,
      ExperimentName: input.ExperimentName,
      ...(source ? { Source: source } : {}),
      ...(input.MetadataProperties ? { MetadataProperties: input.MetadataProperties } : {}),
      CreationTime: now,
      LastModifiedTime: now,
    };
    if ((await this.trials.getByArn(doc.TrialArn)) || !(await this.trials.insert(doc))) throw alreadyExists('Trial', input.TrialName);
    return { TrialArn: doc.TrialArn };
  }

  async describeTrial(name: string): Promise<TrialDoc> {
    const doc = await this.trials.get(name);
    if (!doc) throw notFound('Trial', name);
    return doc;
  }

  async listTrials(q: TimeRangeQuery & { ExperimentName?: string; TrialComponentName?: string }): Promise<{ TrialSummaries: Record<string, unknown>[]; NextToken?: string }> {
    let inTrials: Set<string> | undefined;
    if (q.TrialComponentName) {
      const rows = await this.deps.db.selectFrom('trial_component_associations').select('trial_name').where('trial_component_name', '=', q.TrialComponentName).execute();
      inTrials = new Set(rows.map((r) => r.trial_name));
    }
    const matching = (await this.trials.all()).filter(
      (t) => (!q.ExperimentName || t.ExperimentName === q.ExperimentName) && (!inTrials || inTrials.has(t.TrialName)) && inTimeRange(t.CreationTime, q),
    );
    const { page, nextToken } = pageOf(sortByNameOrTime(matching, (t) => t.TrialName, (t) => t.CreationTime, q), q.MaxResults, q.NextToken);
    return {
      TrialSummaries: page.map((t) => ({
        TrialArn: t.TrialArn,
        TrialName: t.TrialName,
        DisplayName: t.DisplayName,
        ...(t.Source ? { TrialSource: t.Source } : {}),
        CreationTime: t.CreationTime,
        LastModifiedTime: t.LastModifiedTime,
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async updateTrial(input: { TrialName: string; DisplayName?: string }): Promise<{ TrialArn: string }> {
    const doc = await this.trials.update(input.TrialName, (d) => {
      if (input.DisplayName !== undefined) d.DisplayName = input.DisplayName;
      d.LastModifiedTime = new Date();
      return d;
    });
    if (!doc) throw notFound('Trial', input.TrialName);
    return { TrialArn: doc.TrialArn };
  }

  async deleteTrial(name: string): Promise<{ TrialArn: string }> {
    const doc = await this.describeTrial(name);
    const members = await this.deps.db.selectFrom('trial_component_associations').select('trial_component_name').where('trial_name', '=', name).execute();
    if (members.length) {
      throw new AwsError('ValidationException', `Trial '${name}' has ${members.length} trial component(s) associated with it. Disassociate them (DisassociateTrialComponent) before deleting the trial.`);
    }
    await this.trials.delete(name);
    await this.tags.removeAll(doc.TrialArn);
    return { TrialArn: doc.TrialArn };
  }

  /** The components of a trial, as Search shows them under TrialComponentSummaries. */
  async trialComponentSummaries(trialName: string): Promise<Record<string, unknown>[]> {
    const rows = await this.deps.db.selectFrom('trial_component_associations').select('trial_component_name').where('trial_name', '=', trialName).orderBy('associated_time').execute();
    const out: Record<string, unknown>[] = [];
    for (const r of rows) {
      const tc = (await this.index.get(r.trial_component_name))?.doc;
      if (!tc) continue;
      out.push({ TrialComponentName: tc.TrialComponentName, TrialComponentArn: tc.TrialComponentArn, ...(tc.Source ? { TrialComponentSource: tc.Source } : {}), CreationTime: tc.CreationTime });
    }
    return out;
  }

  // ---- trial components

  async createTrialComponent(
    input: {
      TrialComponentName: string;
      DisplayName?: string;
      Status?: TrialComponentDoc['Status'];
      StartTime?: Date;
      EndTime?: Date;
      Parameters?: Record<string, ParameterValue>;
      InputArtifacts?: Record<string, Artifact>;
      OutputArtifacts?: Record<string, Artifact>;
      MetadataProperties?: Record<string, string>;
    },
    extra: Partial<Pick<TrialComponentDoc, 'Source' | 'SourceDetail' | 'RunName'>> = {},
  ): Promise<{ TrialComponentArn: string }> {
    const now = new Date();
    const doc: TrialComponentDoc = {
      TrialComponentName: input.TrialComponentName,
      TrialComponentArn: this.arn('experiment-trial-component', input.TrialComponentName),
      DisplayName: input.DisplayName ?? input.TrialComponentName,
      ...extra,
      ...(input.Status ? { Status: input.Status } : {}),
      ...(input.StartTime ? { StartTime: input.StartTime } : {}),
      ...(input.EndTime ? { EndTime: input.EndTime } : {}),
      CreationTime: now,
      LastModifiedTime: now,
      ...(input.Parameters ? { Parameters: input.Parameters } : {}),
      ...(input.InputArtifacts ? { InputArtifacts: input.InputArtifacts } : {}),
      ...(input.OutputArtifacts ? { OutputArtifacts: input.OutputArtifacts } : {}),
      ...(input.MetadataProperties ? { MetadataProperties: input.MetadataProperties } : {}),
    };
    if ((await this.components.getByArn(doc.TrialComponentArn)) || !(await this.components.insert(doc))) throw alreadyExists('Trial component', input.TrialComponentName);
    this.index.invalidate(doc.TrialComponentName);
    return { TrialComponentArn: doc.TrialComponentArn };
  }

  /** A component by name or ARN, with its metric summaries. */
  async describeTrialComponent(nameOrArn: string): Promise<{ doc: TrialComponentDoc; metrics: Record<string, unknown>[] }> {
    const doc = nameOrArn.startsWith('arn:') ? await this.components.getByArn(nameOrArn) : await this.components.get(nameOrArn);
    if (!doc) throw notFound('Trial component', nameFromNameOrArn(nameOrArn));
    const metrics = (await this.metrics.summaries([doc.TrialComponentName])).get(doc.TrialComponentName) ?? [];
    return { doc, metrics };
  }

  async listTrialComponents(q: TimeRangeQuery & { ExperimentName?: string; TrialName?: string; SourceArn?: string }): Promise<{ TrialComponentSummaries: Record<string, unknown>[]; NextToken?: string }> {
    if (q.ExperimentName && (q.TrialName || q.SourceArn)) {
      throw new AwsError('ValidationException', 'ExperimentName cannot be combined with TrialName or SourceArn in ListTrialComponents.');
    }
    if (q.TrialName && q.SourceArn) throw new AwsError('ValidationException', 'TrialName cannot be combined with SourceArn in ListTrialComponents.');
    const matching = (await this.index.all()).filter(
      (e) =>
        (!q.ExperimentName || e.parents.some((p) => p.ExperimentName === q.ExperimentName)) &&
        (!q.TrialName || e.parents.some((p) => p.TrialName === q.TrialName)) &&
        (!q.SourceArn || e.doc.Source?.SourceArn === q.SourceArn) &&
        inTimeRange(e.doc.CreationTime, q),
    );
    const { page, nextToken } = pageOf(sortByNameOrTime(matching, (e) => e.doc.TrialComponentName, (e) => e.doc.CreationTime, q), q.MaxResults, q.NextToken);
    return {
      TrialComponentSummaries: page.map(({ doc: d }) => ({
        TrialComponentName: d.TrialComponentName,
        TrialComponentArn: d.TrialComponentArn,
        DisplayName: d.DisplayName,
        ...(d.Source ? { TrialComponentSource: d.Source } : {}),
        ...(d.Status ? { Status: d.Status } : {}),
        ...(d.StartTime ? { StartTime: d.StartTime } : {}),
        ...(d.EndTime ? { EndTime: d.EndTime } : {}),
        CreationTime: d.CreationTime,
        LastModifiedTime: d.LastModifiedTime,
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async updateTrialComponent(input: {
    TrialComponentName: string;
    DisplayName?: string;
    Status?: TrialComponentDoc['Status'];
    StartTime?: Date;
    EndTime?: Date;
    Parameters?: Record<string, ParameterValue>;
    ParametersToRemove?: string[];
    InputArtifacts?: Record<string, Artifact>;
    InputArtifactsToRemove?: string[];
    OutputArtifacts?: Record<string, Artifact>;
    OutputArtifactsToRemove?: string[];
  }): Promise<{ TrialComponentArn: string }> {
    const doc = await this.patchTrialComponent(input.TrialComponentName, (d) => {
      if (input.DisplayName !== undefined) d.DisplayName = input.DisplayName;
      if (input.Status) d.Status = input.Status;
      if (input.StartTime) d.StartTime = input.StartTime;
      if (input.EndTime) d.EndTime = input.EndTime;
      const parameters = mergeMap(d.Parameters, input.Parameters, input.ParametersToRemove, 'Parameter', MAX_PARAMETERS);
      const inputs = mergeMap(d.InputArtifacts, input.InputArtifacts, input.InputArtifactsToRemove, 'Input artifact', MAX_ARTIFACTS);
      const outputs = mergeMap(d.OutputArtifacts, input.OutputArtifacts, input.OutputArtifactsToRemove, 'Output artifact', MAX_ARTIFACTS);
      if (parameters) d.Parameters = parameters;
      if (inputs) d.InputArtifacts = inputs;
      if (outputs) d.OutputArtifacts = outputs;
    });
    return { TrialComponentArn: doc.TrialComponentArn };
  }

  /** Read-modify-write of a component, keeping the search index in step. */
  async patchTrialComponent(name: string, change: (d: TrialComponentDoc) => void): Promise<TrialComponentDoc> {
    const doc = await this.components.update(name, (d) => {
      change(d);
      d.LastModifiedTime = new Date();
      return d;
    });
    if (!doc) throw notFound('Trial component', name);
    this.index.invalidate(name);
    return doc;
  }

  async deleteTrialComponent(name: string): Promise<{ TrialComponentArn: string }> {
    const { doc } = await this.describeTrialComponent(name);
    const trials = await this.deps.db.selectFrom('trial_component_associations').select('trial_name').where('trial_component_name', '=', doc.TrialComponentName).execute();
    if (trials.length) {
      throw new AwsError('ValidationException', `Trial component '${doc.TrialComponentName}' is associated with trial(s) ${trials.map((t) => `'${t.trial_name}'`).join(', ')}. Disassociate it (DisassociateTrialComponent) before deleting it.`);
    }
    this.metricTargets.delete(doc.TrialComponentName);
    await this.components.delete(doc.TrialComponentName);
    await this.metrics.deleteFor(doc.TrialComponentName);
    await this.tags.removeAll(doc.TrialComponentArn);
    this.index.invalidate(doc.TrialComponentName);
    return { TrialComponentArn: doc.TrialComponentArn };
  }

  async associate(trialComponentName: string, trialName: string): Promise<{ TrialComponentArn: string; TrialArn: string }> {
    const { doc: tc } = await this.describeTrialComponent(trialComponentName);
    const trial = await this.describeTrial(trialName);
    await this.deps.db
      .insertInto('trial_component_associations')
      .values({ trial_name: trial.TrialName, trial_component_name: tc.TrialComponentName, experiment_name: trial.ExperimentName, associated_time: Date.now() })
      .onConflict((oc) => oc.columns(['trial_name', 'trial_component_name']).doNothing())
      .execute();
    this.index.invalidate(tc.TrialComponentName);
    return { TrialComponentArn: tc.TrialComponentArn, TrialArn: trial.TrialArn };
  }

  async disassociate(trialComponentName: string, trialName: string): Promise<{ TrialComponentArn: string; TrialArn: string }> {
    const { doc: tc } = await this.describeTrialComponent(trialComponentName);
    const trial = await this.describeTrial(trialName);
    const result = await this.deps.db
      .deleteFrom('trial_component_associations')
      .where('trial_name', '=', trial.TrialName)
      .where('trial_component_name', '=', tc.TrialComponentName)
      .executeTakeFirst();
    if (!Number(result.numDeletedRows)) throw new AwsError('ResourceNotFound', `Trial component '${tc.TrialComponentName}' is not associated with trial '${trial.TrialName}'.`);
    this.index.invalidate(tc.TrialComponentName);
    return { TrialComponentArn: tc.TrialComponentArn, TrialArn: trial.TrialArn };
  }

  // ---- metrics

  async putMetrics(trialComponentName: string, data: RawMetric[], sourceArn?: string): Promise<PutMetricsError[]> {
    if (!this.metricTargets.has(trialComponentName)) {
      const exists = await this.deps.db
        .selectFrom('sagemaker_resources')
        .select('name')
        .where('kind', '=', 'experiment-trial-component')
        .where('name', '=', trialComponentName)
        .executeTakeFirst();
      if (!exists) throw notFound('Trial component', trialComponentName);
      this.metricTargets.add(trialComponentName);
    }
    const { errors, summaries } = await this.metrics.put(trialComponentName, data, sourceArn);
    this.index.applyMetrics(trialComponentName, summaries);
    return errors;
  }
}
