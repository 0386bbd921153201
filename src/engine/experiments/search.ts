/**
 * The Search operation over training jobs, experiments, trials and trial components:
 * each resource becomes a record shaped as Search returns it, plus a view for filtering
 * in which keyed lists become maps (Metrics.loss.Min, Tags.team), then the
 * SearchExpression, the sort and the page apply.
 */
import { AwsError } from '../../server/errors.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import type { ResourceRepository } from '../../store/metadata/resources.ts';
import type { Tag } from '../../store/metadata/tags.ts';
import type { TrainingJobDoc } from '../jobs/training-job.ts';
import type { Experiments } from './experiments.ts';
import { pageOf } from './paging.ts';
import { compileSearchExpression, sortRecords, type SearchExpression, type SearchRecord } from './search-expression.ts';

export interface SearchInput {
  Resource: string;
  SearchExpression?: SearchExpression;
  SortBy?: string;
  SortOrder?: 'Ascending' | 'Descending';
  MaxResults?: number;
  NextToken?: string;
}

interface Candidate {
  /** What filters and SortBy see. */
  view: SearchRecord;
  name: string;
  arn: string;
  /** The SearchRecord member, built only for the page returned. */
  record: () => Promise<Record<string, unknown>>;
}

const withoutInternals = (doc: Record<string, unknown>): Record<string, unknown> => {
  const { _kiln: _omit, ...rest } = doc;
  return rest;
};

const tagMap = (tags: Tag[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));

function mentionsTags(e: SearchExpression | undefined, sortBy: string | undefined): boolean {
  const names = (x: SearchExpression): string[] => [
    ...(x.Filters ?? []).map((f) => f.Name),
    ...(x.NestedFilters ?? []).flatMap((n) => [n.NestedPropertyName, ...n.Filters.map((f) => f.Name)]),
    ...(x.SubExpressions ?? []).flatMap(names),
  ];
  return [...(e ? names(e) : []), sortBy ?? ''].some((n) => n === 'Tags' || n.startsWith('Tags.'));
}

export class SearchService {
  constructor(
    private readonly db: MetadataDb,
    private readonly experiments: Experiments,
    private readonly trainingJobs: ResourceRepository<TrainingJobDoc>,
  ) {}

  async search(input: SearchInput): Promise<{ Results: Record<string, unknown>[]; NextToken?: string }> {
    const predicate = compileSearchExpression(input.SearchExpression);
    const candidates = await this.candidates(input.Resource);
    const tags = mentionsTags(input.SearchExpression, input.SortBy) ? await this.tagsOf(candidates.map((c) => c.arn)) : undefined;
    if (tags) for (const c of candidates) c.view.Tags = tagMap(tags.get(c.arn));
    const matching = candidates.filter((c) => predicate(c.view));
    const sorted = sortRecords(matching, (c) => c.view, input.SortBy ?? 'LastModifiedTime', input.SortOrder ?? 'Descending', (c) => c.name);
    const { page, nextToken } = pageOf(sorted, input.MaxResults, input.NextToken);
    const pageTags = await this.tagsOf(page.map((c) => c.arn));
    const member = RESULT_MEMBER[input.Resource]!;
    const Results = await Promise.all(
      page.map(async (c) => {
        return { [member]: { ...(await c.record()), Tags: pageTags.get(c.arn) ?? [] } };
      }),
    );
    return { Results, ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  private async candidates(resource: string): Promise<Candidate[]> {
    switch (resource) {
      case 'ExperimentTrialComponent':
        return (await this.experiments.index.all()).map((e) => ({
          name: e.doc.TrialComponentName,
          arn: e.doc.TrialComponentArn,
          view: (e.searchView ??= { ...e.doc, Metrics: Object.fromEntries(e.metrics.map((m) => [m.MetricName as string, m])), Parents: e.parents }),
          record: async () => ({ ...e.doc, Metrics: e.metrics, Parents: e.parents, ...(await this.sourceDetail(e.doc.Source?.SourceArn)) }),
        }));
      case 'Experiment':
        return (await this.experiments.experiments.all()).map((d) => ({ name: d.ExperimentName, arn: d.ExperimentArn, view: { ...d }, record: async () => d }));
      case 'ExperimentTrial':
        return (await this.experiments.trials.all()).map((d) => ({
          name: d.TrialName,
          arn: d.TrialArn,
          view: { ...d },
          record: async () => ({ ...d, TrialComponentSummaries: await this.experiments.trialComponentSummaries(d.TrialName) }),
        }));
      case 'TrainingJob':
        return (await this.trainingJobs.all()).map((d) => ({
          name: d.TrainingJobName,
          arn: d.TrainingJobArn,
          // SageMaker searches a job's final metrics as Metrics.<name>.
          view: { ...d, Metrics: Object.fromEntries((d.FinalMetricDataList ?? []).map((m) => [m.MetricName, m.Value])) },
          record: async () => withoutInternals(d),
        }));
      default:
        throw new AwsError('NotImplemented', `Kiln's Search does not cover the resource type ${resource} yet; it covers TrainingJob, Experiment, ExperimentTrial and ExperimentTrialComponent.`, 501);
    }
  }

  /** What a job-created trial component shows under SourceDetail: the job as it is now. */
  private async sourceDetail(sourceArn: string | undefined): Promise<Record<string, unknown>> {
    if (!sourceArn?.includes(':training-job/')) return {};
    const job = await this.trainingJobs.getByArn(sourceArn);
    return job ? { SourceDetail: { SourceArn: sourceArn, TrainingJob: withoutInternals(job) } } : {};
  }

  private async tagsOf(arns: string[]): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>();
    for (let i = 0; i < arns.length; i += 500) {
      const rows = await this.db.selectFrom('resource_tags').selectAll().where('resource_arn', 'in', arns.slice(i, i + 500)).orderBy('tag_key').execute();
      for (const r of rows) out.set(r.resource_arn, [...(out.get(r.resource_arn) ?? []), { Key: r.tag_key, Value: r.tag_value }]);
    }
    return out;
  }
}

const RESULT_MEMBER: Record<string, string> = {
  ExperimentTrialComponent: 'TrialComponent',
  Experiment: 'Experiment',
  ExperimentTrial: 'Trial',
  TrainingJob: 'TrainingJob',
};
