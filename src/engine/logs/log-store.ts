/**
 * The CloudWatch-Logs-compatible log store: log groups, their streams and the events of
 * every stream, kept in the metadata database. Used by the `logs` wire service and by Kiln
 * itself (job runners append their processes' output here).
 *
 * Events of a stream are ordered by (timestamp, id), where id is a monotonically increasing
 * event number. Paging positions are places in that order, so tokens stay valid while new
 * events arrive.
 *
 * Appends are group-committed: every `append` called while a write is in flight joins the
 * next transaction, so many concurrent small appends cost one transaction, and each caller's
 * promise resolves once its events are durable and visible.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { AwsError } from '../../server/errors.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import type { MetadataSchema } from '../../store/metadata/schema.ts';
import { compileFilterPattern } from './filter-pattern.ts';

export interface LogGroupInfo {
  name: string;
  /** The log group's ARN without the trailing `:*` (AWS's `logGroupArn`). */
  arn: string;
  creationTime: number;
  retentionInDays?: number;
  storedBytes: number;
  kmsKeyId?: string;
  logGroupClass: string;
}

export interface LogStreamInfo {
  groupName: string;
  name: string;
  arn: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  uploadSequenceToken: string;
  storedBytes: number;
}

export interface LogEventInput {
  /** Epoch milliseconds. */
  timestamp: number;
  message: string;
}

export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

export interface FilteredEvent extends LogEvent {
  logStreamName: string;
  eventId: string;
}

export interface AppendResult {
  /** Events written. */
  accepted: number;
  /** The stream's upload sequence token after this append. */
  sequenceToken: string;
}

export interface ReadStreamQuery {
  /** Inclusive, epoch milliseconds. */
  startTime?: number;
  /** Exclusive, epoch milliseconds. */
  endTime?: number;
  /** Without a token: the first events of the range when true, the last ones when false (the default). */
  startFromHead?: boolean;
  /** 1..10000, default 10000; a page also stops at 1 MB of events. */
  limit?: number;
  /** A nextForwardToken or nextBackwardToken from an earlier page. */
  nextToken?: string;
}

export interface ReadStreamPage {
  events: LogEvent[];
  /** Reads on after this page; comes back unchanged when nothing newer exists yet. */
  nextForwardToken: string;
  /** Reads on before this page; comes back unchanged when nothing older exists. */
  nextBackwardToken: string;
}

export interface FilterQuery {
  logStreamNames?: string[];
  logStreamNamePrefix?: string;
  /** Inclusive, epoch milliseconds. */
  startTime?: number;
  /** Inclusive, epoch milliseconds. */
  endTime?: number;
  /** A CloudWatch Logs filter pattern (see filter-pattern.ts). */
  filterPattern?: string;
  /** 1..10000, default 10000. */
  limit?: number;
  nextToken?: string;
}

export interface FilterPage {
  events: FilteredEvent[];
  /** Present when the search stopped before the end of the range (limit, size or scan budget). */
  nextToken?: string;
}

export interface ListGroupsQuery {
  prefix?: string;
  /** Case-sensitive substring of the name. */
  pattern?: string;
  /** Only these names. */
  names?: string[];
  /** 1..50, default 50. */
  limit?: number;
  nextToken?: string;
}

export interface ListStreamsQuery {
  prefix?: string;
  orderBy?: 'LogStreamName' | 'LastEventTime';
  descending?: boolean;
  /** 1..50, default 50. */
  limit?: number;
  nextToken?: string;
}

/** The errors of the log store, worded as CloudWatch Logs words them. */
export const LogErrors = {
  groupNotFound: () => new AwsError('ResourceNotFoundException', 'The specified log group does not exist.'),
  streamNotFound: () => new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.'),
  groupExists: () => new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists'),
  streamExists: () => new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists'),
  invalidToken: () => new AwsError('InvalidParameterException', 'The specified nextToken is invalid.'),
  invalidParameter: (message: string) => new AwsError('InvalidParameterException', message),
} as const;

/** Retention periods CloudWatch Logs accepts, in days. */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** What every event costs in a response or a PutLogEvents batch besides its message. */
export const EVENT_OVERHEAD_BYTES = 26;
const PAGE_BYTES = 1_048_576;
const MAX_EVENTS = 10_000;
const DAY_MS = 86_400_000;
/** Rows one FilterLogEvents call examines before it answers with a nextToken. */
const FILTER_SCAN_BUDGET = 100_000;
/** Events one append transaction writes at most (more wait for the next one). */
const MAX_EVENTS_PER_TRANSACTION = 20_000;
const INSERT_CHUNK = 500;

type Db = Kysely<MetadataSchema> | Transaction<MetadataSchema>;

interface GroupRow {
  id: number;
  name: string;
  arn: string;
  creation_time: number;
  retention_days: number | null;
  stored_bytes: number;
  kms_key_id: string | null;
  log_group_class: string;
}

interface StreamRow {
  id: number;
  group_id: number;
  name: string;
  creation_time: number;
  first_event_timestamp: number | null;
  last_event_timestamp: number | null;
  last_ingestion_time: number | null;
  upload_sequence: number;
  stored_bytes: number;
}

interface PendingAppend {
  group: string;
  stream: string;
  events: LogEventInput[];
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

interface Position {
  timestamp: number;
  id: number;
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const sequenceToken = (n: number) => String(n).padStart(56, '0');
const clampLimit = (limit: number | undefined, max: number) => Math.max(1, Math.min(max, limit ?? max));

/** The smallest string above every string that starts with `prefix` (code point order), if any. */
function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** Opaque page tokens: base64url of a small JSON value. */
const encodeToken = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function decodeToken<T>(token: string, valid: (v: any) => boolean): T {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (valid(value)) return value as T;
  } catch {
    // fall through
  }
  throw LogErrors.invalidToken();
}

/** GetLogEvents tokens: direction, then the position as two 20-digit numbers. */
const positionToken = (direction: 'f' | 'b', p: Position) =>
  `${direction}/${String(Math.max(0, p.timestamp)).padStart(20, '0')}${String(p.id).padStart(20, '0')}`;
function parsePositionToken(token: string): { direction: 'f' | 'b'; position: Position } {
  const m = /^([fb])\/(\d{20})(\d{20})$/.exec(token);
  if (!m) throw LogErrors.invalidToken();
  return { direction: m[1] as 'f' | 'b', position: { timestamp: Number(m[2]), id: Number(m[3]) } };
}

export class LogStore {
  private static readonly instances = new WeakMap<object, LogStore>();

  /** The one LogStore of a metadata database, shared by the wire service and Kiln internals. */
  static for(db: MetadataDb, account: { region: string; accountId: string }): LogStore {
    let store = LogStore.instances.get(db);
    if (!store) LogStore.instances.set(db, (store = new LogStore(db, account)));
    return store;
  }

  private pending: PendingAppend[] = [];
  private writing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly db: MetadataDb,
    private readonly account: { region: string; accountId: string },
    opts: { now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  groupArn(name: string): string {
    return `arn:aws:logs:${this.account.region}:${this.account.accountId}:log-group:${name}`;
  }

  streamArn(group: string, stream: string): string {
    return `${this.groupArn(group)}:log-stream:${stream}`;
  }

  // ---- groups -------------------------------------------------------------------------

  /** Creates the group; ResourceAlreadyExistsException when it exists. */
  async createGroup(name: string, opts: { kmsKeyId?: string; logGroupClass?: string } = {}): Promise<LogGroupInfo> {
    const inserted = await this.insertGroup(name, opts);
    if (!inserted) throw LogErrors.groupExists();
    return this.getGroup(name);
  }

  /** Creates the group unless it exists. */
  async ensureGroup(name: string): Promise<void> {
    await this.insertGroup(name, {});
  }

  /** ResourceNotFoundException when the group does not exist. */
  async getGroup(name: string): Promise<LogGroupInfo> {
    return this.groupInfo(await this.requireGroup(this.db, name));
  }

  async hasGroup(name: string): Promise<boolean> {
    return (await this.findGroup(this.db, name)) !== undefined;
  }

  /** Deletes the group with all its streams and events. */
  async deleteGroup(name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const group = await this.requireGroup(trx, name);
      await trx.deleteFrom('log_events').where('group_id', '=', group.id).execute();
      await trx.deleteFrom('log_streams').where('group_id', '=', group.id).execute();
      await trx.deleteFrom('log_groups').where('id', '=', group.id).execute();
    });
  }

  /** Sets (days) or removes (undefined) the group's retention, and drops events it expires. */
  async setRetention(name: string, days: number | undefined): Promise<void> {
    const result = await this.db.updateTable('log_groups').set({ retention_days: days ?? null }).where('name', '=', name).executeTakeFirst();
    if (!result.numUpdatedRows) throw LogErrors.groupNotFound();
    if (days !== undefined) await this.purgeExpired(name);
  }

  /** Groups in name order, a page at a time. */
  async listGroups(query: ListGroupsQuery = {}): Promise<{ groups: LogGroupInfo[]; nextToken?: string }> {
    const limit = clampLimit(query.limit, 50);
    let cursor = query.nextToken ? decodeToken<string>(query.nextToken, (v) => typeof v === 'string') : undefined;
    let q = this.db.selectFrom('log_groups').selectAll().orderBy('name');
    if (query.prefix) {
      q = q.where('name', '>=', query.prefix);
      const end = prefixEnd(query.prefix);
      if (end !== undefined) q = q.where('name', '<', end);
    }
    if (query.names) q = q.where('name', 'in', query.names.length ? query.names : ['']);
    // Everything but the substring pattern is exact in SQL; the pattern filters in memory.
    const matches: GroupRow[] = [];
    const chunk = 500;
    for (;;) {
      const rows = (await (cursor === undefined ? q : q.where('name', '>', cursor)).limit(chunk).execute()) as GroupRow[];
      for (const row of rows) {
        if (!query.pattern || row.name.includes(query.pattern)) matches.push(row);
        if (matches.length > limit) break;
      }
      if (matches.length > limit || rows.length < chunk) break;
      cursor = rows[rows.length - 1]!.name;
    }
    const groups = matches.slice(0, limit);
    const more = matches.length > limit;
    return {
      groups: groups.map((g) => this.groupInfo(g)),
      nextToken: more ? encodeToken(groups[groups.length - 1]!.name) : undefined,
    };
  }

  // ---- streams ------------------------------------------------------------------------

  /** Creates the stream; ResourceNotFoundException without the group, ResourceAlreadyExistsException when it exists. */
  async createStream(group: string, stream: string): Promise<LogStreamInfo> {
    const g = await this.requireGroup(this.db, group);
    const inserted = await this.insertStream(g.id, stream);
    if (!inserted) throw LogErrors.streamExists();
    return this.getStream(group, stream);
  }

  /** Creates the group and the stream unless they exist. */
  async ensureStream(group: string, stream: string): Promise<void> {
    await this.insertGroup(group, {});
    const g = await this.requireGroup(this.db, group);
    await this.insertStream(g.id, stream);
  }

  async getStream(group: string, stream: string): Promise<LogStreamInfo> {
    const g = await this.requireGroup(this.db, group);
    const row = await this.findStream(this.db, g.id, stream);
    if (!row) throw LogErrors.streamNotFound();
    return this.streamInfo(group, row);
  }

  async deleteStream(group: string, stream: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const g = await this.requireGroup(trx, group);
      const s = await this.findStream(trx, g.id, stream);
      if (!s) throw LogErrors.streamNotFound();
      await trx.deleteFrom('log_events').where('stream_id', '=', s.id).execute();
      await trx.deleteFrom('log_streams').where('id', '=', s.id).execute();
      await trx
        .updateTable('log_groups')
        .set((eb) => ({ stored_bytes: eb('stored_bytes', '-', s.stored_bytes) }))
        .where('id', '=', g.id)
        .execute();
    });
  }

  /** A group's streams by name or by last event time, a page at a time. */
  async listStreams(group: string, query: ListStreamsQuery = {}): Promise<{ streams: LogStreamInfo[]; nextToken?: string }> {
    const orderBy = query.orderBy ?? 'LogStreamName';
    if (orderBy === 'LastEventTime' && query.prefix) {
      throw LogErrors.invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
    }
    const g = await this.requireGroup(this.db, group);
    const limit = clampLimit(query.limit, 50);
    const desc = query.descending === true;
    const dir = desc ? 'desc' : 'asc';
    const cmp = desc ? '<' : '>';
    let q = this.db.selectFrom('log_streams').selectAll().where('group_id', '=', g.id);
    if (query.prefix) {
      q = q.where('name', '>=', query.prefix);
      const end = prefixEnd(query.prefix);
      if (end !== undefined) q = q.where('name', '<', end);
    }
    let rows: StreamRow[];
    if (orderBy === 'LogStreamName') {
      if (query.nextToken) {
        const after = decodeToken<{ n: string }>(query.nextToken, (v) => typeof v?.n === 'string' && v.t === undefined);
        q = q.where('name', cmp, after.n);
      }
      rows = (await q.orderBy('name', dir).limit(limit + 1).execute()) as StreamRow[];
    } else {
      // Streams without events sort as if their last event were at time 0.
      const lastEvent = sql<number>`coalesce(last_event_timestamp, 0)`;
      if (query.nextToken) {
        const after = decodeToken<{ n: string; t: number }>(query.nextToken, (v) => typeof v?.n === 'string' && Number.isSafeInteger(v.t));
        q = q.where((eb) => eb.or([eb(lastEvent, cmp, after.t), eb.and([eb(lastEvent, '=', after.t), eb('name', cmp, after.n)])]));
      }
      rows = (await q
        .orderBy(lastEvent, dir)
        .orderBy('name', dir)
        .limit(limit + 1)
        .execute()) as StreamRow[];
    }
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      streams: page.map((r) => this.streamInfo(group, r)),
      nextToken:
        rows.length > limit && last
          ? encodeToken(orderBy === 'LogStreamName' ? { n: last.name } : { n: last.name, t: last.last_event_timestamp ?? 0 })
          : undefined,
    };
  }

  // ---- events -------------------------------------------------------------------------

  /**
   * Appends events to a stream (which must exist; see ensureStream). Safe to call
   * concurrently and often: calls made while a write is in flight share the next
   * transaction. Resolves when the events are stored; rejects with
   * ResourceNotFoundException when the group or stream does not exist.
   */
  async append(group: string, stream: string, events: readonly LogEventInput[]): Promise<void> {
    await this.put(group, stream, events);
  }

  /** `append`, answering the stream's new upload sequence token (PutLogEvents). */
  put(group: string, stream: string, events: readonly LogEventInput[]): Promise<AppendResult> {
    const copy = events.map((e) => ({ timestamp: Math.max(0, Math.floor(Number(e.timestamp) || 0)), message: String(e.message) }));
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ group, stream, events: copy, resolve, reject });
      this.startWriting();
    });
  }

  /** Resolves once every append made before the call is written. */
  async flush(): Promise<void> {
    while (this.writing || this.pending.length) {
      if (!this.writing) this.startWriting();
      await this.writing;
    }
  }

  /** One page of a stream's events, with GetLogEvents' token semantics. */
  async readStream(group: string, stream: string, query: ReadStreamQuery = {}): Promise<ReadStreamPage> {
    const g = await this.requireGroup(this.db, group);
    const s = await this.findStream(this.db, g.id, stream);
    if (!s) throw LogErrors.streamNotFound();
    const token = query.nextToken ? parsePositionToken(query.nextToken) : undefined;
    const limit = clampLimit(query.limit, MAX_EVENTS);
    const from = Math.max(query.startTime ?? 0, this.retentionCutoff(g));

    let base = this.db
      .selectFrom('log_events')
      .select(['id', 'timestamp', 'message', 'ingestion_time'])
      .where('stream_id', '=', s.id)
      .where('timestamp', '>=', from);
    if (query.endTime !== undefined) base = base.where('timestamp', '<', query.endTime);

    const forward = token ? token.direction === 'f' : query.startFromHead === true;
    let q = base;
    if (token) {
      const { timestamp, id } = token.position;
      q = q.where((eb) => eb(eb.refTuple('timestamp', 'id'), forward ? '>=' : '<', eb.tuple(timestamp, id)));
    }
    q = q.orderBy('timestamp', forward ? 'asc' : 'desc').orderBy('id', forward ? 'asc' : 'desc');

    // Fetch in chunks so a page of large events stops at 1 MB without loading 10,000 of them.
    const rows: { id: number; timestamp: number; message: string; ingestion_time: number }[] = [];
    let bytes = 0;
    for (;;) {
      const want = Math.min(1000, limit - rows.length);
      if (want <= 0) break;
      const lastRow = rows[rows.length - 1];
      const chunk = await (lastRow
        ? q.where((eb) => eb(eb.refTuple('timestamp', 'id'), forward ? '>' : '<', eb.tuple(lastRow.timestamp, lastRow.id)))
        : q
      )
        .limit(want)
        .execute();
      let full = false;
      for (const row of chunk) {
        const size = utf8Bytes(row.message) + EVENT_OVERHEAD_BYTES;
        if (bytes + size > PAGE_BYTES && rows.length > 0) {
          full = true;
          break;
        }
        bytes += size;
        rows.push(row);
      }
      if (full || chunk.length < want) break;
    }
    if (!forward) rows.reverse();

    const first = rows[0];
    const last = rows[rows.length - 1];
    let nextForwardToken: string;
    let nextBackwardToken: string;
    if (first && last) {
      nextForwardToken = positionToken('f', { timestamp: last.timestamp, id: last.id + 1 });
      nextBackwardToken = positionToken('b', { timestamp: first.timestamp, id: first.id });
    } else if (token && query.nextToken) {
      // Nothing further in that direction: the same token comes back, which ends tailing loops.
      const here = token.position;
      nextForwardToken = token.direction === 'f' ? query.nextToken : positionToken('f', here);
      nextBackwardToken = token.direction === 'b' ? query.nextToken : positionToken('b', here);
    } else {
      const here = { timestamp: from, id: 0 };
      nextForwardToken = positionToken('f', here);
      nextBackwardToken = positionToken('b', here);
    }
    return {
      events: rows.map((r) => ({ timestamp: r.timestamp, message: r.message, ingestionTime: r.ingestion_time })),
      nextForwardToken,
      nextBackwardToken,
    };
  }

  /** Events of a group's streams in time order that match a filter pattern, with FilterLogEvents' paging. */
  async filter(group: string, query: FilterQuery = {}): Promise<FilterPage> {
    if (query.logStreamNames && query.logStreamNamePrefix !== undefined) {
      throw LogErrors.invalidParameter('logStreamNames and logStreamNamePrefix are mutually exclusive. Specify only one of them.');
    }
    const match = compileFilterPattern(query.filterPattern);
    const g = await this.requireGroup(this.db, group);
    const limit = clampLimit(query.limit, MAX_EVENTS);
    const from = Math.max(query.startTime ?? 0, this.retentionCutoff(g));
    let after: Position | undefined;
    if (query.nextToken) {
      const [timestamp, id] = decodeToken<[number, number]>(
        query.nextToken,
        (v) => Array.isArray(v) && v.length === 2 && v.every((n) => Number.isSafeInteger(n)),
      );
      after = { timestamp: timestamp!, id: id! };
    }

    let q = this.db
      .selectFrom('log_events')
      .innerJoin('log_streams', 'log_streams.id', 'log_events.stream_id')
      .select(['log_events.id as id', 'log_events.timestamp as timestamp', 'log_events.message as message', 'log_events.ingestion_time as ingestion_time', 'log_streams.name as stream'])
      .where('log_events.group_id', '=', g.id)
      .where('log_events.timestamp', '>=', from);
    if (query.endTime !== undefined) q = q.where('log_events.timestamp', '<=', query.endTime);
    if (query.logStreamNames) q = q.where('log_streams.name', 'in', query.logStreamNames);
    if (query.logStreamNamePrefix !== undefined) {
      q = q.where('log_streams.name', '>=', query.logStreamNamePrefix);
      const end = prefixEnd(query.logStreamNamePrefix);
      if (end !== undefined) q = q.where('log_streams.name', '<', end);
    }
    q = q.orderBy('log_events.timestamp').orderBy('log_events.id');

    const events: FilteredEvent[] = [];
    let bytes = 0;
    let scanned = 0;
    let cursor = after;
    let stoppedEarly = false;
    scan: for (;;) {
      const at = cursor;
      const chunk = await (at
        ? q.where((eb) => eb(eb.refTuple('log_events.timestamp', 'log_events.id'), '>', eb.tuple(at.timestamp, at.id)))
        : q
      )
        .limit(1000)
        .execute();
      for (const row of chunk) {
        if (events.length >= limit || scanned >= FILTER_SCAN_BUDGET) {
          stoppedEarly = true;
          break scan;
        }
        scanned++;
        if (match(row.message)) {
          const size = utf8Bytes(row.message) + EVENT_OVERHEAD_BYTES;
          if (bytes + size > PAGE_BYTES && events.length > 0) {
            stoppedEarly = true;
            break scan;
          }
          bytes += size;
          events.push({
            logStreamName: row.stream,
            timestamp: row.timestamp,
            message: row.message,
            ingestionTime: row.ingestion_time,
            eventId: String(row.id),
          });
        }
        cursor = { timestamp: row.timestamp, id: row.id };
      }
      if (chunk.length < 1000) break;
    }
    return { events, nextToken: stoppedEarly && cursor ? encodeToken([cursor.timestamp, cursor.id]) : undefined };
  }

  /** Deletes events older than their group's retention (one group, or all); returns how many. */
  async purgeExpired(group?: string): Promise<number> {
    let q = this.db.selectFrom('log_groups').selectAll().where('retention_days', 'is not', null);
    if (group !== undefined) q = q.where('name', '=', group);
    const groups = (await q.execute()) as GroupRow[];
    let removed = 0;
    for (const g of groups) {
      const cutoff = this.retentionCutoff(g);
      await this.db.transaction().execute(async (trx) => {
        const expired = await trx
          .selectFrom('log_events')
          .select(['stream_id', 'message'])
          .where('group_id', '=', g.id)
          .where('timestamp', '<', cutoff)
          .execute();
        if (!expired.length) return;
        const perStream = new Map<number, number>();
        let total = 0;
        for (const e of expired) {
          const b = utf8Bytes(e.message);
          total += b;
          perStream.set(e.stream_id, (perStream.get(e.stream_id) ?? 0) + b);
        }
        await trx.deleteFrom('log_events').where('group_id', '=', g.id).where('timestamp', '<', cutoff).execute();
        for (const [streamId, b] of perStream) {
          await trx
            .updateTable('log_streams')
            .set((eb) => ({ stored_bytes: eb('stored_bytes', '-', b) }))
            .where('id', '=', streamId)
            .execute();
        }
        await trx
          .updateTable('log_groups')
          .set((eb) => ({ stored_bytes: eb('stored_bytes', '-', total) }))
          .where('id', '=', g.id)
          .execute();
        removed += expired.length;
      });
    }
    return removed;
  }

  // ---- internals ----------------------------------------------------------------------

  private startWriting(): void {
    if (this.writing) return;
    this.writing = (async () => {
      // Let appends made in the same turn of the event loop join this transaction.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.pending.length) {
        let count = 0;
        let take = 0;
        while (take < this.pending.length && (take === 0 || count + this.pending[take]!.events.length <= MAX_EVENTS_PER_TRANSACTION)) {
          count += this.pending[take]!.events.length;
          take++;
        }
        await this.writeBatch(this.pending.splice(0, take));
      }
    })().finally(() => {
      this.writing = undefined;
      if (this.pending.length) this.startWriting();
    });
  }

  /** Writes a batch of appends in one transaction; settles every append's promise. */
  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    const byStream = new Map<string, PendingAppend[]>();
    for (const entry of batch) {
      const key = `${entry.group}\u0000${entry.stream}`;
      const list = byStream.get(key);
      if (list) list.push(entry);
      else byStream.set(key, [entry]);
    }
    const settled: { entry: PendingAppend; result?: AppendResult; error?: AwsError }[] = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        settled.length = 0;
        const ingestionTime = this.now();
        for (const entries of byStream.values()) {
          const { group, stream } = entries[0]!;
          const g = await this.findGroup(trx, group);
          const s = g && (await this.findStream(trx, g.id, stream));
          if (!g || !s) {
            const error = g ? LogErrors.streamNotFound() : LogErrors.groupNotFound();
            for (const entry of entries) settled.push({ entry, error });
            continue;
          }
          const rows: { group_id: number; stream_id: number; timestamp: number; ingestion_time: number; message: string }[] = [];
          let bytes = 0;
          let first = s.first_event_timestamp;
          let last = s.last_event_timestamp;
          let sequence = s.upload_sequence;
          for (const entry of entries) {
            for (const e of entry.events) {
              rows.push({ group_id: g.id, stream_id: s.id, timestamp: e.timestamp, ingestion_time: ingestionTime, message: e.message });
              bytes += utf8Bytes(e.message);
              if (first === null || e.timestamp < first) first = e.timestamp;
              if (last === null || e.timestamp > last) last = e.timestamp;
            }
            if (entry.events.length) sequence++;
            settled.push({ entry, result: { accepted: entry.events.length, sequenceToken: sequenceToken(sequence) } });
          }
          if (!rows.length) continue;
          for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
            await trx.insertInto('log_events').values(rows.slice(i, i + INSERT_CHUNK)).execute();
          }
          await trx
            .updateTable('log_streams')
            .set((eb) => ({
              first_event_timestamp: first,
              last_event_timestamp: last,
              last_ingestion_time: ingestionTime,
              upload_sequence: sequence,
              stored_bytes: eb('stored_bytes', '+', bytes),
            }))
            .where('id', '=', s.id)
            .execute();
          await trx
            .updateTable('log_groups')
            .set((eb) => ({ stored_bytes: eb('stored_bytes', '+', bytes) }))
            .where('id', '=', g.id)
            .execute();
        }
      });
    } catch (e) {
      for (const entry of batch) entry.reject(e);
      return;
    }
    for (const { entry, result, error } of settled) {
      if (error) entry.reject(error);
      else entry.resolve(result!);
    }
  }

  private async insertGroup(name: string, opts: { kmsKeyId?: string; logGroupClass?: string }): Promise<boolean> {
    const result = await this.db
      .insertInto('log_groups')
      .values({
        name,
        arn: this.groupArn(name),
        creation_time: this.now(),
        retention_days: null,
        kms_key_id: opts.kmsKeyId ?? null,
        log_group_class: opts.logGroupClass ?? 'STANDARD',
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  private async insertStream(groupId: number, name: string): Promise<boolean> {
    const result = await this.db
      .insertInto('log_streams')
      .values({ group_id: groupId, name, creation_time: this.now(), first_event_timestamp: null, last_event_timestamp: null, last_ingestion_time: null })
      .onConflict((oc) => oc.columns(['group_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  private async findGroup(db: Db, name: string): Promise<GroupRow | undefined> {
    return (await db.selectFrom('log_groups').selectAll().where('name', '=', name).executeTakeFirst()) as GroupRow | undefined;
  }

  private async requireGroup(db: Db, name: string): Promise<GroupRow> {
    const group = await this.findGroup(db, name);
    if (!group) throw LogErrors.groupNotFound();
    return group;
  }

  private async findStream(db: Db, groupId: number, name: string): Promise<StreamRow | undefined> {
    return (await db.selectFrom('log_streams').selectAll().where('group_id', '=', groupId).where('name', '=', name).executeTakeFirst()) as
      | StreamRow
      | undefined;
  }

  private retentionCutoff(group: GroupRow): number {
    return group.retention_days ? this.now() - group.retention_days * DAY_MS : 0;
  }

  private groupInfo(row: GroupRow): LogGroupInfo {
    return {
      name: row.name,
      arn: row.arn,
      creationTime: row.creation_time,
      retentionInDays: row.retention_days ?? undefined,
      storedBytes: row.stored_bytes,
      kmsKeyId: row.kms_key_id ?? undefined,
      logGroupClass: row.log_group_class,
    };
  }

  private streamInfo(group: string, row: StreamRow): LogStreamInfo {
    return {
      groupName: group,
      name: row.name,
      arn: this.streamArn(group, row.name),
      creationTime: row.creation_time,
      firstEventTimestamp: row.first_event_timestamp ?? undefined,
      lastEventTimestamp: row.last_event_timestamp ?? undefined,
      lastIngestionTime: row.last_ingestion_time ?? undefined,
      uploadSequenceToken: sequenceToken(row.upload_sequence),
      storedBytes: row.stored_bytes,
    };
  }
}
