/**
 * Every trial component with its parents and metric summaries, held in memory so Search
 * and ListTrialComponents over tens of thousands of runs answer in milliseconds. Every
 * write to a component goes through the Experiments engine, which marks it stale here;
 * a stale entry is read again from the database on the next query. (One server process
 * owns the index; several processes over one database would need a change feed instead.)
 */
import type { MetadataDb } from '../../store/metadata/database.ts';
import type { ResourceRepository } from '../../store/metadata/resources.ts';
import type { TrialComponentDoc } from './entities.ts';
import type { MetricStore } from './metrics.ts';

export interface Parent {
  TrialName: string;
  ExperimentName: string;
}

export interface TrialComponentEntry {
  doc: TrialComponentDoc;
  parents: Parent[];
  metrics: Record<string, unknown>[];
  /** What Search filters see, built on first use and dropped when the entry changes. */
  searchView?: Record<string, unknown>;
}

export class TrialComponentIndex {
  private entries: Map<string, TrialComponentEntry> | undefined;
  private readonly stale = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private refreshing = false;

  constructor(
    private readonly db: MetadataDb,
    private readonly repo: ResourceRepository<TrialComponentDoc>,
    private readonly metrics: MetricStore,
  ) {}

  invalidate(name: string): void {
    this.stale.add(name);
    this.refreshSoon();
  }

  private refreshTimer: NodeJS.Timeout | undefined;

  /** Reads changed components back in the background, so a burst of writes does not leave the next Search to do it. */
  private refreshSoon(): void {
    if (this.refreshTimer || !this.entries) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh().catch(() => undefined);
    }, 200);
    this.refreshTimer.unref();
  }

  /** New summaries of some metrics of a component, written by the metric store just now. */
  applyMetrics(name: string, summaries: Record<string, unknown>[]): void {
    const entry = this.entries?.get(name);
    // A refresh in flight may have read the summaries before this write: read them again.
    if (!entry || this.refreshing) return this.invalidate(name);
    if (this.stale.has(name)) return;
    const byName = new Map(entry.metrics.map((m) => [m.MetricName, m]));
    for (const m of summaries) byName.set(m.MetricName, m);
    entry.searchView = undefined;
    entry.metrics = [...byName.values()].sort((a, b) => (String(a.MetricName) < String(b.MetricName) ? -1 : 1));
  }

  async all(): Promise<TrialComponentEntry[]> {
    await this.refresh();
    return [...this.entries!.values()];
  }

  async get(name: string): Promise<TrialComponentEntry | undefined> {
    await this.refresh();
    return this.entries!.get(name);
  }

  /** Refreshes run one after another, so a query never overtakes the refresh of an earlier write. */
  private refresh(): Promise<void> {
    const next = this.queue.then(() => this.refreshNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async refreshNow(): Promise<void> {
    this.refreshing = true;
    try {
      await this.reload();
    } finally {
      this.refreshing = false;
    }
  }

  private async reload(): Promise<void> {
    if (!this.entries) {
      this.stale.clear();
      this.entries = await this.load(undefined);
      return;
    }
    if (!this.stale.size) return;
    const names = [...this.stale];
    this.stale.clear();
    const loaded = await this.load(names);
    for (const name of names) {
      const entry = loaded.get(name);
      if (entry) this.entries.set(name, entry);
      else this.entries.delete(name);
    }
  }

  /** Entries for these names (every component when undefined), read in three queries. */
  private async load(names: string[] | undefined): Promise<Map<string, TrialComponentEntry>> {
    const docs: TrialComponentDoc[] = [];
    if (names) {
      for (const n of names) {
        const d = await this.repo.get(n);
        if (d) docs.push(d);
      }
    } else {
      docs.push(...(await this.repo.all()));
    }
    let q = this.db.selectFrom('trial_component_associations').select(['trial_component_name', 'trial_name', 'experiment_name']);
    if (names) q = q.where('trial_component_name', 'in', names);
    const parents = new Map<string, Parent[]>();
    for (const r of await q.orderBy('associated_time').execute()) {
      parents.set(r.trial_component_name, [...(parents.get(r.trial_component_name) ?? []), { TrialName: r.trial_name, ExperimentName: r.experiment_name }]);
    }
    const metrics = await this.metrics.summaries(names);
    return new Map(docs.map((doc) => [doc.TrialComponentName, { doc, parents: parents.get(doc.TrialComponentName) ?? [], metrics: metrics.get(doc.TrialComponentName) ?? [] }]));
  }
}
