/**
 * Keeps the last DuckDB session of each flow revision for a while, so previewing node after node
 * does not re-read the source each time. Work on one session runs one request at a time.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '../../store/objects/types.ts';
import type { Catalog } from '../../engine/data/catalog.ts';
import type { StoredFlow } from '../../engine/data/flow-store.ts';
import { FlowSession } from '../../engine/data/session.ts';

interface Entry {
  revision: number;
  session: Promise<FlowSession>;
  tail: Promise<unknown>;
  timer?: NodeJS.Timeout;
}

const IDLE_MS = 5 * 60_000;

export class FlowSessions {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: { objects: ObjectStore; catalog: Catalog; scratchRoot: string }) {}

  async with<T>(stored: StoredFlow, work: (s: FlowSession) => Promise<T>): Promise<T> {
    let entry = this.entries.get(stored.name);
    if (!entry || entry.revision !== stored.revision) {
      if (entry) void this.drop(stored.name);
      const session = FlowSession.open(stored.flow, { objects: this.deps.objects, catalog: this.deps.catalog, scratchDir: path.join(this.deps.scratchRoot, `${stored.name}-${randomUUID().slice(0, 8)}`) });
      entry = { revision: stored.revision, session, tail: Promise.resolve() };
      this.entries.set(stored.name, entry);
    }
    const e = entry;
    if (e.timer) clearTimeout(e.timer);
    e.timer = setTimeout(() => this.entries.get(stored.name) === e && void this.drop(stored.name), IDLE_MS);
    e.timer.unref();
    const result = e.tail.then(async () => work(await e.session));
    e.tail = result.catch(() => undefined);
    return result;
  }

  /** Forgets a flow's session (after an edit or delete); it closes once its pending work ends. */
  drop(name: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return Promise.resolve();
    this.entries.delete(name);
    if (e.timer) clearTimeout(e.timer);
    return e.tail
      .then(() => e.session)
      .then((s) => s.close())
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((n) => this.drop(n)));
  }
}
