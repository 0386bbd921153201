import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  CloudWatchLogsClient,
  CloudWatchLogsServiceException,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  TagLogGroupCommand,
  paginateDescribeLogGroups,
  paginateFilterLogEvents,
  type FilteredLogEvent,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { startTestKiln, type TestKiln } from './helpers/kiln.ts';
import { PYTHON, type RunResult } from './helpers/processes.ts';

/** Runs a python script with boto3 pointed at Kiln, killed if it outlives the timeout. */
function python(k: TestKiln, script: string, timeoutMs = 60_000): Promise<RunResult> {
  const prelude =
    `import boto3, json, os, sys\n` +
    `from botocore.config import Config\n` +
    `from botocore.exceptions import ClientError\n` +
    `logs = boto3.client('logs', endpoint_url=os.environ['KILN_ENDPOINT'], config=Config(retries={'max_attempts': 1}, connect_timeout=5, read_timeout=30))\n`;
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', prelude + script], { env: k.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Asserts a rejection carries the AWS error code and exact message. */
async function rejectsWith(p: Promise<unknown>, name: string, message?: string | RegExp) {
  await assert.rejects(p, (e: CloudWatchLogsServiceException) => {
    assert.equal(e.name, name, e.message);
    assert.equal(e.$metadata.httpStatusCode, 400);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

describe('CloudWatch Logs through @aws-sdk/client-cloudwatch-logs and boto3', { timeout: 120_000 }, () => {
  let k: TestKiln;
  let logs: CloudWatchLogsClient;
  const now = Date.now();

  before(async () => {
    k = await startTestKiln();
    logs = new CloudWatchLogsClient({ endpoint: k.endpoint, region: k.region, credentials: k.credentials, maxAttempts: 1 });
  });
  after(async () => {
    logs?.destroy();
    await k?.stop();
  });

  test('log groups: create, duplicate, describe with prefix and pages, retention, tags, delete', async () => {
    for (const name of ['/kiln/a/one', '/kiln/a/two', '/kiln/a/three', '/kiln/b/one', 'other']) {
      await logs.send(new CreateLogGroupCommand({ logGroupName: name, tags: name === 'other' ? { team: 'ml' } : undefined }));
    }
    await rejectsWith(logs.send(new CreateLogGroupCommand({ logGroupName: '/kiln/a/one' })), 'ResourceAlreadyExistsException', 'The specified log group already exists');
    await rejectsWith(logs.send(new CreateLogGroupCommand({ logGroupName: 'bad:name' })), 'ValidationException', /logGroupName/);

    const pages = [];
    for await (const page of paginateDescribeLogGroups({ client: logs, pageSize: 2 }, { logGroupNamePrefix: '/kiln/a/' })) pages.push(page);
    assert.equal(pages.length, 2);
    assert.deepEqual(
      pages.flatMap((p) => p.logGroups!.map((g) => g.logGroupName)),
      ['/kiln/a/one', '/kiln/a/three', '/kiln/a/two'],
    );
    const [one] = pages[0]!.logGroups!;
    assert.equal(one!.arn, `arn:aws:logs:${k.region}:000000000000:log-group:/kiln/a/one:*`);
    assert.equal(one!.logGroupArn, `arn:aws:logs:${k.region}:000000000000:log-group:/kiln/a/one`);
    assert.ok(Math.abs(one!.creationTime! - now) < 60_000);
    assert.equal(one!.storedBytes, 0);

    const pattern = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'one' }));
    assert.deepEqual(pattern.logGroups!.map((g) => g.logGroupName), ['/kiln/a/one', '/kiln/b/one']);

    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/kiln/b/one', retentionInDays: 30 }));
    let b = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/kiln/b/' }));
    assert.equal(b.logGroups![0]!.retentionInDays, 30);
    await rejectsWith(logs.send(new PutRetentionPolicyCommand({ logGroupName: '/kiln/b/one', retentionInDays: 4 })), 'InvalidParameterException', /retentionInDays.*enum value set: \[1, 3, 5, 7/);
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: '/kiln/b/one' }));
    b = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/kiln/b/' }));
    assert.equal(b.logGroups![0]!.retentionInDays, undefined);
    await rejectsWith(logs.send(new PutRetentionPolicyCommand({ logGroupName: 'missing', retentionInDays: 1 })), 'ResourceNotFoundException', 'The specified log group does not exist.');

    await logs.send(new TagLogGroupCommand({ logGroupName: 'other', tags: { env: 'dev' } }));
    assert.deepEqual((await logs.send(new ListTagsLogGroupCommand({ logGroupName: 'other' }))).tags, { env: 'dev', team: 'ml' });
    const byArn = await logs.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:logs:${k.region}:000000000000:log-group:other` }));
    assert.deepEqual(byArn.tags, { env: 'dev', team: 'ml' });

    await logs.send(new DeleteLogGroupCommand({ logGroupName: 'other' }));
    await rejectsWith(logs.send(new DeleteLogGroupCommand({ logGroupName: 'other' })), 'ResourceNotFoundException', 'The specified log group does not exist.');
    await rejectsWith(logs.send(new ListTagsLogGroupCommand({ logGroupName: 'other' })), 'ResourceNotFoundException');
  });

  test('streams and events: errors, sequence tokens, rejected events', async () => {
    await rejectsWith(
      logs.send(new CreateLogStreamCommand({ logGroupName: 'nope', logStreamName: 's' })),
      'ResourceNotFoundException',
      'The specified log group does not exist.',
    );
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'events' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'events', logStreamName: 's' }));
    await rejectsWith(
      logs.send(new CreateLogStreamCommand({ logGroupName: 'events', logStreamName: 's' })),
      'ResourceAlreadyExistsException',
      'The specified log stream already exists',
    );
    await rejectsWith(
      logs.send(new PutLogEventsCommand({ logGroupName: 'events', logStreamName: 'missing', logEvents: [{ timestamp: now, message: 'x' }] })),
      'ResourceNotFoundException',
      'The specified log stream does not exist.',
    );
    await rejectsWith(
      logs.send(new GetLogEventsCommand({ logGroupName: 'events', logStreamName: 'missing' })),
      'ResourceNotFoundException',
      'The specified log stream does not exist.',
    );
    await rejectsWith(
      logs.send(new PutLogEventsCommand({ logGroupName: 'events', logStreamName: 's', logEvents: [{ timestamp: now, message: 'b' }, { timestamp: now - 1, message: 'a' }] })),
      'InvalidParameterException',
      'Log events in a single PutLogEvents request must be in chronological order.',
    );

    const first = await logs.send(new PutLogEventsCommand({ logGroupName: 'events', logStreamName: 's', logEvents: [{ timestamp: now, message: 'hello' }] }));
    assert.match(first.nextSequenceToken!, /^\d+$/);
    assert.equal(first.rejectedLogEventsInfo, undefined);
    // A stale sequence token is accepted and ignored, as AWS does now.
    const old = await logs.send(
      new PutLogEventsCommand({ logGroupName: 'events', logStreamName: 's', sequenceToken: '1', logEvents: [{ timestamp: now - 15 * 86_400_000, message: 'too old' }] }),
    );
    assert.deepEqual(old.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 0 });
    assert.equal(old.nextSequenceToken, first.nextSequenceToken, 'nothing stored, nothing counted');
    const second = await logs.send(
      new PutLogEventsCommand({
        logGroupName: 'events',
        logStreamName: 's',
        logEvents: [
          { timestamp: now + 1, message: 'fine' },
          { timestamp: now + 3 * 3_600_000, message: 'too new' },
        ],
      }),
    );
    assert.notEqual(second.nextSequenceToken, first.nextSequenceToken);
    assert.deepEqual(second.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 1 });
    await rejectsWith(
      logs.send(new PutLogEventsCommand({ logGroupName: 'events', logStreamName: 's', logEvents: [{ timestamp: now - 25 * 3_600_000, message: 'a' }, { timestamp: now, message: 'b' }] })),
      'InvalidParameterException',
      'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
    );
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: 'events', logStreamName: 's', startFromHead: true }));
    assert.deepEqual(got.events!.map((e) => e.message), ['hello', 'fine']);
    assert.ok(got.events!.every((e) => e.ingestionTime! >= now - 1000));

    const [stream] = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: 'events' }))).logStreams!;
    assert.equal(stream!.firstEventTimestamp, now);
    assert.equal(stream!.lastEventTimestamp, now + 1);
    assert.equal(stream!.uploadSequenceToken, second.nextSequenceToken);
    assert.equal(stream!.arn, `arn:aws:logs:${k.region}:000000000000:log-group:events:log-stream:s`);

    await logs.send(new DeleteLogStreamCommand({ logGroupName: 'events', logStreamName: 's' }));
    await rejectsWith(logs.send(new DeleteLogStreamCommand({ logGroupName: 'events', logStreamName: 's' })), 'ResourceNotFoundException', 'The specified log stream does not exist.');
  });

  test('GetLogEvents pages forward to the end the way SDK tailing does, and backward from the tail', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/sagemaker/TrainingJobs' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: 'job-1/algo-1-1700000000' }));
    const total = 2_500;
    const sent = Array.from({ length: total }, (_, i) => ({ timestamp: now - 60_000 + Math.floor(i / 3), message: `[${i}]#011train-rmse:${(1 / (i + 1)).toFixed(5)}` }));
    for (let i = 0; i < total; i += 1000) {
      await logs.send(new PutLogEventsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: 'job-1/algo-1-1700000000', logEvents: sent.slice(i, i + 1000) }));
    }
    const base = { logGroupName: '/aws/sagemaker/TrainingJobs', logStreamName: 'job-1/algo-1-1700000000' };

    // Forward from the head, 1000 at a time, until the same token comes back.
    const read: OutputLogEvent[] = [];
    let token: string | undefined;
    let calls = 0;
    for (;;) {
      const page = await logs.send(new GetLogEventsCommand({ ...base, startFromHead: true, limit: 1000, nextToken: token }));
      calls++;
      read.push(...page.events!);
      assert.ok(page.nextBackwardToken, 'tokens are never null');
      if (page.nextForwardToken === token) {
        assert.equal(page.events!.length, 0);
        break;
      }
      token = page.nextForwardToken;
      assert.ok(calls < 10, 'paging ends');
    }
    assert.equal(calls, 4);
    assert.deepEqual(read.map((e) => e.message), sent.map((e) => e.message));

    // New events appear through the last forward token.
    await logs.send(new PutLogEventsCommand({ ...base, logEvents: [{ timestamp: now, message: 'later' }] }));
    const more = await logs.send(new GetLogEventsCommand({ ...base, startFromHead: true, nextToken: token }));
    assert.deepEqual(more.events!.map((e) => e.message), ['later']);
    assert.notEqual(more.nextForwardToken, token);

    // Default (startFromHead false): the newest events, then backward until the token repeats.
    const tail = await logs.send(new GetLogEventsCommand({ ...base, limit: 100 }));
    assert.deepEqual(tail.events!.map((e) => e.message), [...sent.slice(-99).map((e) => e.message), 'later']);
    const backward: OutputLogEvent[] = [...tail.events!];
    let back = tail.nextBackwardToken!;
    for (let i = 0; ; i++) {
      const page = await logs.send(new GetLogEventsCommand({ ...base, limit: 1000, nextToken: back }));
      if (page.nextBackwardToken === back) break;
      backward.unshift(...page.events!);
      back = page.nextBackwardToken!;
      assert.ok(i < 10, 'backward paging ends');
    }
    assert.equal(backward.length, total + 1);
    assert.deepEqual(backward.slice(0, total).map((e) => e.message), sent.map((e) => e.message));

    // A time window: startTime inclusive, endTime exclusive.
    const window = await logs.send(new GetLogEventsCommand({ ...base, startFromHead: true, startTime: now - 60_000 + 10, endTime: now - 60_000 + 12 }));
    assert.deepEqual(window.events!.map((e) => e.message), sent.slice(30, 36).map((e) => e.message));

    await rejectsWith(logs.send(new GetLogEventsCommand({ ...base, nextToken: 'garbage' })), 'InvalidParameterException');
  });

  test('FilterLogEvents interleaves streams in time order, matches patterns and pages', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'filter' }));
    for (const s of ['algo-1', 'algo-2', 'other']) await logs.send(new CreateLogStreamCommand({ logGroupName: 'filter', logStreamName: s }));
    const put = (s: string, events: [number, string][]) =>
      logs.send(new PutLogEventsCommand({ logGroupName: 'filter', logStreamName: s, logEvents: events.map(([t, message]) => ({ timestamp: now + t, message })) }));
    await put('algo-1', [[0, 'INFO start'], [2, 'ERROR disk full'], [4, 'WARN slow epoch'], [6, 'INFO done']]);
    await put('algo-2', [[1, 'INFO start'], [3, 'ERROR out of memory'], [5, 'ERROR retrying later']]);
    await put('other', [[2, 'ERROR elsewhere']]);

    const all = await logs.send(new FilterLogEventsCommand({ logGroupName: 'filter', logStreamNamePrefix: 'algo-' }));
    assert.deepEqual(all.events!.map((e) => `${e.logStreamName} ${e.message}`), [
      'algo-1 INFO start',
      'algo-2 INFO start',
      'algo-1 ERROR disk full',
      'algo-2 ERROR out of memory',
      'algo-1 WARN slow epoch',
      'algo-2 ERROR retrying later',
      'algo-1 INFO done',
    ]);
    assert.ok(all.events!.every((e) => e.eventId && e.ingestionTime));
    assert.equal(new Set(all.events!.map((e) => e.eventId)).size, 7);
    assert.equal(all.nextToken, undefined);

    const f = async (filterPattern: string, extra: Record<string, unknown> = {}) =>
      (await logs.send(new FilterLogEventsCommand({ logGroupName: 'filter', filterPattern, ...extra }))).events!.map((e) => e.message);
    assert.deepEqual(await f('ERROR'), ['ERROR disk full', 'ERROR elsewhere', 'ERROR out of memory', 'ERROR retrying later']);
    assert.deepEqual(await f('ERROR -retrying', { logStreamNames: ['algo-1', 'algo-2'] }), ['ERROR disk full', 'ERROR out of memory']);
    assert.deepEqual(await f('"out of memory"'), ['ERROR out of memory']);
    assert.deepEqual(await f('?WARN ?memory'), ['ERROR out of memory', 'WARN slow epoch']);
    assert.deepEqual(await f('ERROR', { startTime: now + 3, endTime: now + 5 }), ['ERROR out of memory', 'ERROR retrying later']);
    await rejectsWith(
      logs.send(new FilterLogEventsCommand({ logGroupName: 'filter', logStreamNames: ['algo-1'], logStreamNamePrefix: 'algo' })),
      'InvalidParameterException',
    );
    await rejectsWith(logs.send(new FilterLogEventsCommand({ logGroupName: 'nope' })), 'ResourceNotFoundException', 'The specified log group does not exist.');

    const paged: FilteredLogEvent[] = [];
    let pages = 0;
    for await (const page of paginateFilterLogEvents({ client: logs, pageSize: 2 }, { logGroupName: 'filter', filterPattern: 'ERROR' })) {
      paged.push(...page.events!);
      pages++;
    }
    assert.ok(pages >= 2);
    assert.deepEqual(paged.map((e) => e.message), ['ERROR disk full', 'ERROR elsewhere', 'ERROR out of memory', 'ERROR retrying later']);
  });

  test('DescribeLogStreams orders by name or last event time, either way, a page at a time', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'order' }));
    const names = ['c-stream', 'a-stream', 'b-stream', 'd-empty'];
    for (const s of names) await logs.send(new CreateLogStreamCommand({ logGroupName: 'order', logStreamName: s }));
    // Last events: a (newest), c, b; d has none.
    await logs.send(new PutLogEventsCommand({ logGroupName: 'order', logStreamName: 'b-stream', logEvents: [{ timestamp: now - 3000, message: 'b' }] }));
    await logs.send(new PutLogEventsCommand({ logGroupName: 'order', logStreamName: 'c-stream', logEvents: [{ timestamp: now - 2000, message: 'c' }] }));
    await logs.send(new PutLogEventsCommand({ logGroupName: 'order', logStreamName: 'a-stream', logEvents: [{ timestamp: now - 1000, message: 'a' }] }));

    const list = async (input: Partial<ConstructorParameters<typeof DescribeLogStreamsCommand>[0]>) => {
      const out: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await logs.send(new DescribeLogStreamsCommand({ logGroupName: 'order', limit: 3, ...input, nextToken }));
        out.push(...page.logStreams!.map((s) => s.logStreamName!));
        nextToken = page.nextToken;
        assert.ok(++pages < 10);
      } while (nextToken);
      return out;
    };
    assert.deepEqual(await list({}), ['a-stream', 'b-stream', 'c-stream', 'd-empty']);
    assert.deepEqual(await list({ descending: true }), ['d-empty', 'c-stream', 'b-stream', 'a-stream']);
    assert.deepEqual(await list({ orderBy: 'LastEventTime', descending: true }), ['a-stream', 'c-stream', 'b-stream', 'd-empty']);
    assert.deepEqual(await list({ orderBy: 'LastEventTime' }), ['d-empty', 'b-stream', 'c-stream', 'a-stream']);
    assert.deepEqual(await list({ logStreamNamePrefix: 'b' }), ['b-stream']);
    await rejectsWith(
      logs.send(new DescribeLogStreamsCommand({ logGroupName: 'order', orderBy: 'LastEventTime', logStreamNamePrefix: 'a' })),
      'InvalidParameterException',
      'Cannot order by LastEventTime with a logStreamNamePrefix.',
    );
    await rejectsWith(logs.send(new DescribeLogStreamsCommand({ logGroupName: 'nope' })), 'ResourceNotFoundException', 'The specified log group does not exist.');
    const byArn = await logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: `arn:aws:logs:${k.region}:000000000000:log-group:order`, limit: 1 }));
    assert.deepEqual(byArn.logStreams!.map((s) => s.logStreamName), ['a-stream']);
  });

  test('boto3: SageMaker-style log tailing, paginators and ClientError codes', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/sagemaker/boto' }));
    for (const s of ['job/algo-1-1', 'job/algo-2-1']) {
      await logs.send(new CreateLogStreamCommand({ logGroupName: '/aws/sagemaker/boto', logStreamName: s }));
      const events = Array.from({ length: 1500 }, (_, i) => ({ timestamp: now - 10_000 + i, message: `${s} line ${i}${i % 500 === 0 ? ' checkpoint saved' : ''}` }));
      await logs.send(new PutLogEventsCommand({ logGroupName: '/aws/sagemaker/boto', logStreamName: s, logEvents: events }));
    }
    const r = await python(
      k,
      `
group = '/aws/sagemaker/boto'
# What sagemaker.logs.log_stream does: repeat with nextForwardToken until a page is empty.
def log_stream(stream, start_time=0):
    token, out, calls = None, [], 0
    while True:
        args = {'nextToken': token} if token else {}
        resp = logs.get_log_events(logGroupName=group, logStreamName=stream, startTime=start_time, startFromHead=True, limit=400, **args)
        calls += 1
        if not resp['events']:
            assert resp['nextForwardToken'] == token, 'the token repeats at the end'
            return out, calls
        out += [e['message'] for e in resp['events']]
        token = resp['nextForwardToken']

streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix='job/', orderBy='LogStreamName')['logStreams']
result = {'streams': [s['logStreamName'] for s in streams]}
for s in result['streams']:
    lines, calls = log_stream(s)
    result[s] = {'count': len(lines), 'first': lines[0], 'last': lines[-1], 'calls': calls}

pages = logs.get_paginator('filter_log_events').paginate(logGroupName=group, filterPattern='"checkpoint saved"', PaginationConfig={'PageSize': 2})
result['filtered'] = [(e['logStreamName'], e['message']) for p in pages for e in p['events']]

try:
    logs.get_log_events(logGroupName='/aws/sagemaker/none', logStreamName='x')
except ClientError as e:
    result['error'] = [e.response['Error']['Code'], e.response['Error']['Message'], e.response['ResponseMetadata']['HTTPStatusCode']]
print(json.dumps(result))
`,
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.streams, ['job/algo-1-1', 'job/algo-2-1']);
    for (const s of out.streams) {
      assert.deepEqual(out[s], { count: 1500, first: `${s} line 0 checkpoint saved`, last: `${s} line 1499`, calls: 5 });
    }
    assert.deepEqual(out.filtered, [
      ['job/algo-1-1', 'job/algo-1-1 line 0 checkpoint saved'],
      ['job/algo-2-1', 'job/algo-2-1 line 0 checkpoint saved'],
      ['job/algo-1-1', 'job/algo-1-1 line 500 checkpoint saved'],
      ['job/algo-2-1', 'job/algo-2-1 line 500 checkpoint saved'],
      ['job/algo-1-1', 'job/algo-1-1 line 1000 checkpoint saved'],
      ['job/algo-2-1', 'job/algo-2-1 line 1000 checkpoint saved'],
    ]);
    assert.deepEqual(out.error, ['ResourceNotFoundException', 'The specified log group does not exist.', 400]);
  });
});
