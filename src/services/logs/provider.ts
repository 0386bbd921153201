/**
 * Amazon CloudWatch Logs (json-1.1): log groups, streams and events over the log store.
 * Inputs arrive parsed and validated against the API model; the domain lives in
 * engine/logs/log-store.ts.
 */
import { AwsError } from '../../server/errors.ts';
import type { Operation } from '../../server/api-model.ts';
import { EVENT_OVERHEAD_BYTES, LogErrors, RETENTION_DAYS, type LogGroupInfo, type LogStore, type LogStreamInfo } from '../../engine/logs/log-store.ts';
import type { Tag, TagRepository } from '../../store/metadata/tags.ts';
import type { OperationInput } from '../types.ts';

const MAX_BATCH_BYTES = 1_048_576;
const MAX_BATCH_SPAN_MS = 24 * 3_600_000;
const TOO_NEW_MS = 2 * 3_600_000;
const TOO_OLD_MS = 14 * 86_400_000;
const MAX_TAGS = 50;

const LOG_GROUP_ARN = /^arn:aws[a-z-]*:logs:[^:]*:\d*:log-group:([^:]+)(?::\*)?$/;

/** The log group an operation names, by logGroupName or logGroupIdentifier (name or ARN). */
function groupFrom(input: OperationInput, required = true): string | undefined {
  const { logGroupName, logGroupIdentifier } = input as { logGroupName?: string; logGroupIdentifier?: string };
  if (logGroupName !== undefined && logGroupIdentifier !== undefined) {
    throw LogErrors.invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  }
  if (logGroupIdentifier !== undefined) {
    const m = LOG_GROUP_ARN.exec(logGroupIdentifier);
    if (logGroupIdentifier.startsWith('arn:') && !m) throw LogErrors.invalidParameter(`Invalid logGroupIdentifier: ${logGroupIdentifier}`);
    return m ? m[1] : logGroupIdentifier;
  }
  if (logGroupName === undefined && required) {
    throw LogErrors.invalidParameter('Should provide either logGroupName or logGroupIdentifier.');
  }
  return logGroupName;
}

function groupFromArn(resourceArn: string): string {
  const m = LOG_GROUP_ARN.exec(resourceArn);
  if (!m) throw LogErrors.invalidParameter(`Invalid resourceArn: ${resourceArn}. Kiln tags log groups only (arn:aws:logs:<region>:<account>:log-group:<name>).`);
  return m[1]!;
}

/** The ARN IAM policies see for a CloudWatch Logs call. */
export function logsResourceArn(_operation: Operation, input: Record<string, any>, account: { region: string; accountId: string }): string {
  let group: string | undefined;
  try {
    group = typeof input.resourceArn === 'string' ? groupFromArn(input.resourceArn) : groupFrom(input, false);
  } catch {
    return '*';
  }
  if (group === undefined) return '*';
  const arn = `arn:aws:logs:${account.region}:${account.accountId}:log-group:${group}`;
  return typeof input.logStreamName === 'string' ? `${arn}:log-stream:${input.logStreamName}` : arn;
}

const groupShape = (g: LogGroupInfo) => ({
  logGroupName: g.name,
  creationTime: g.creationTime,
  retentionInDays: g.retentionInDays,
  metricFilterCount: 0,
  arn: `${g.arn}:*`,
  logGroupArn: g.arn,
  storedBytes: g.storedBytes,
  kmsKeyId: g.kmsKeyId,
  logGroupClass: g.logGroupClass,
  deletionProtectionEnabled: false,
});

const streamShape = (s: LogStreamInfo) => ({
  logStreamName: s.name,
  creationTime: s.creationTime,
  firstEventTimestamp: s.firstEventTimestamp,
  lastEventTimestamp: s.lastEventTimestamp,
  lastIngestionTime: s.lastIngestionTime,
  uploadSequenceToken: s.uploadSequenceToken,
  arn: s.arn,
  // Deprecated for streams: AWS reports zero since 2019.
  storedBytes: 0,
});

const tagList = (tags: Record<string, string>): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const tagMap = (tags: Tag[]) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

export class LogsProvider {
  constructor(
    private readonly logs: LogStore,
    private readonly tags: TagRepository,
    private readonly now: () => number = Date.now,
  ) {}

  // ---- log groups ---------------------------------------------------------------------

  async CreateLogGroup(input: { logGroupName: string; kmsKeyId?: string; tags?: Record<string, string>; logGroupClass?: string }) {
    if (input.logGroupName.startsWith('aws/')) {
      throw LogErrors.invalidParameter("Log group names cannot start with 'aws/'.");
    }
    if (input.tags && Object.keys(input.tags).length > MAX_TAGS) throw this.tooManyTags(input.logGroupName);
    const group = await this.logs.createGroup(input.logGroupName, { kmsKeyId: input.kmsKeyId, logGroupClass: input.logGroupClass });
    if (input.tags) await this.tags.put(group.arn, tagList(input.tags));
    return {};
  }

  async DeleteLogGroup(input: { logGroupName: string }) {
    const group = await this.logs.getGroup(input.logGroupName);
    await this.logs.deleteGroup(input.logGroupName);
    await this.tags.removeAll(group.arn);
    return {};
  }

  async DescribeLogGroups(input: {
    logGroupNamePrefix?: string;
    logGroupNamePattern?: string;
    logGroupIdentifiers?: string[];
    nextToken?: string;
    limit?: number;
  }) {
    if (input.logGroupNamePrefix !== undefined && input.logGroupNamePattern !== undefined) {
      throw LogErrors.invalidParameter('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
    }
    const names = input.logGroupIdentifiers?.map((id) => groupFrom({ logGroupIdentifier: id })!);
    const { groups, nextToken } = await this.logs.listGroups({
      prefix: input.logGroupNamePrefix,
      pattern: input.logGroupNamePattern || undefined,
      names,
      limit: input.limit,
      nextToken: input.nextToken,
    });
    return { logGroups: groups.map(groupShape), nextToken };
  }

  async PutRetentionPolicy(input: { logGroupName: string; retentionInDays: number }) {
    if (!(RETENTION_DAYS as readonly number[]).includes(input.retentionInDays)) {
      throw LogErrors.invalidParameter(
        `1 validation error detected: Value '${input.retentionInDays}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
      );
    }
    await this.logs.setRetention(input.logGroupName, input.retentionInDays);
    return {};
  }

  async DeleteRetentionPolicy(input: { logGroupName: string }) {
    await this.logs.setRetention(input.logGroupName, undefined);
    return {};
  }

  // ---- tags ---------------------------------------------------------------------------

  async TagLogGroup(input: { logGroupName: string; tags: Record<string, string> }) {
    await this.addTags(input.logGroupName, input.tags);
    return {};
  }

  async UntagLogGroup(input: { logGroupName: string; tags: string[] }) {
    const group = await this.logs.getGroup(input.logGroupName);
    await this.tags.remove(group.arn, input.tags);
    return {};
  }

  async ListTagsLogGroup(input: { logGroupName: string }) {
    const group = await this.logs.getGroup(input.logGroupName);
    return { tags: tagMap(await this.tags.list(group.arn)) };
  }

  async TagResource(input: { resourceArn: string; tags: Record<string, string> }) {
    await this.addTags(groupFromArn(input.resourceArn), input.tags);
    return {};
  }

  async UntagResource(input: { resourceArn: string; tagKeys: string[] }) {
    const group = await this.logs.getGroup(groupFromArn(input.resourceArn));
    await this.tags.remove(group.arn, input.tagKeys);
    return {};
  }

  async ListTagsForResource(input: { resourceArn: string }) {
    const group = await this.logs.getGroup(groupFromArn(input.resourceArn));
    return { tags: tagMap(await this.tags.list(group.arn)) };
  }

  // ---- log streams --------------------------------------------------------------------

  async CreateLogStream(input: { logGroupName: string; logStreamName: string }) {
    await this.logs.createStream(input.logGroupName, input.logStreamName);
    return {};
  }

  async DeleteLogStream(input: { logGroupName: string; logStreamName: string }) {
    await this.logs.deleteStream(input.logGroupName, input.logStreamName);
    return {};
  }

  async DescribeLogStreams(
    input: OperationInput & { logStreamNamePrefix?: string; orderBy?: 'LogStreamName' | 'LastEventTime'; descending?: boolean; nextToken?: string; limit?: number },
  ) {
    const group = groupFrom(input)!;
    const { streams, nextToken } = await this.logs.listStreams(group, {
      prefix: input.logStreamNamePrefix,
      orderBy: input.orderBy,
      descending: input.descending,
      limit: input.limit,
      nextToken: input.nextToken,
    });
    return { logStreams: streams.map(streamShape), nextToken };
  }

  // ---- events -------------------------------------------------------------------------

  /**
   * Sequence tokens are accepted and ignored, as AWS does since 2023. Events too far in
   * the future, older than 14 days, or older than the group's retention are returned as
   * rejected, and the rest are stored.
   */
  async PutLogEvents(input: { logGroupName: string; logStreamName: string; logEvents: { timestamp: number; message: string }[] }) {
    const events = input.logEvents;
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      bytes += Buffer.byteLength(events[i]!.message, 'utf8') + EVENT_OVERHEAD_BYTES;
      if (i > 0 && events[i]!.timestamp < events[i - 1]!.timestamp) {
        throw LogErrors.invalidParameter('Log events in a single PutLogEvents request must be in chronological order.');
      }
    }
    if (bytes > MAX_BATCH_BYTES) throw LogErrors.invalidParameter(`Upload too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
    if (events.length > 1 && events[events.length - 1]!.timestamp - events[0]!.timestamp > MAX_BATCH_SPAN_MS) {
      throw LogErrors.invalidParameter('The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
    }

    const group = await this.logs.getGroup(input.logGroupName);
    const now = this.now();
    const tooOld = now - TOO_OLD_MS;
    const expired = group.retentionInDays ? now - group.retentionInDays * 86_400_000 : -Infinity;
    const tooNew = now + TOO_NEW_MS;
    // Events are in time order, so the rejected ones are a prefix (old) and a suffix (new).
    let tooOldEnd = -1;
    let expiredEnd = -1;
    let tooNewStart = events.length;
    events.forEach((e, i) => {
      if (e.timestamp < tooOld) tooOldEnd = i;
      if (e.timestamp < expired) expiredEnd = i;
      if (e.timestamp > tooNew && tooNewStart === events.length) tooNewStart = i;
    });
    const accepted = events.slice(Math.max(tooOldEnd, expiredEnd) + 1, tooNewStart);
    const { sequenceToken } = await this.logs.put(input.logGroupName, input.logStreamName, accepted);
    const rejected =
      tooOldEnd >= 0 || expiredEnd >= 0 || tooNewStart < events.length
        ? {
            tooOldLogEventEndIndex: tooOldEnd >= 0 ? tooOldEnd : undefined,
            expiredLogEventEndIndex: expiredEnd >= 0 ? expiredEnd : undefined,
            tooNewLogEventStartIndex: tooNewStart < events.length ? tooNewStart : undefined,
          }
        : undefined;
    return { nextSequenceToken: sequenceToken, rejectedLogEventsInfo: rejected };
  }

  async GetLogEvents(
    input: OperationInput & { logStreamName: string; startTime?: number; endTime?: number; nextToken?: string; limit?: number; startFromHead?: boolean },
  ) {
    const group = groupFrom(input)!;
    return this.logs.readStream(group, input.logStreamName, {
      startTime: input.startTime,
      endTime: input.endTime,
      startFromHead: input.startFromHead,
      limit: input.limit,
      nextToken: input.nextToken,
    });
  }

  async FilterLogEvents(
    input: OperationInput & {
      logStreamNames?: string[];
      logStreamNamePrefix?: string;
      startTime?: number;
      endTime?: number;
      filterPattern?: string;
      nextToken?: string;
      limit?: number;
    },
  ) {
    const group = groupFrom(input)!;
    const page = await this.logs.filter(group, {
      logStreamNames: input.logStreamNames,
      logStreamNamePrefix: input.logStreamNamePrefix,
      startTime: input.startTime,
      endTime: input.endTime,
      filterPattern: input.filterPattern,
      limit: input.limit,
      nextToken: input.nextToken,
    });
    return { events: page.events, searchedLogStreams: [], nextToken: page.nextToken };
  }

  // ---- helpers ------------------------------------------------------------------------

  private async addTags(groupName: string, tags: Record<string, string>) {
    const group = await this.logs.getGroup(groupName);
    const existing = await this.tags.list(group.arn);
    const keys = new Set([...existing.map((t) => t.Key), ...Object.keys(tags)]);
    if (keys.size > MAX_TAGS) throw this.tooManyTags(groupName);
    await this.tags.put(group.arn, tagList(tags));
  }

  private tooManyTags(groupName: string) {
    return new AwsError('TooManyTagsException', `A resource can have no more than ${MAX_TAGS} tags.`, 400, {
      fields: { resourceName: groupName },
    });
  }
}
