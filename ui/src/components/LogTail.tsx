/** Follows a job's log streams (CloudWatch-Logs-compatible) while the job runs. */
import { useEffect, useRef, useState } from 'react';
import { api } from '../api';

export interface LogLine {
  timestamp: number;
  message: string;
}

export function useLogTail(group: string, streamPrefix: string, live: boolean): { lines: LogLine[]; error?: string } {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<string>();
  const tokens = useRef(new Map<string, string | undefined>());
  const liveRef = useRef(live);
  liveRef.current = live;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    tokens.current = new Map();
    setLines([]);
    const poll = async () => {
      try {
        const { logStreams = [] } = await api.call('logs', 'DescribeLogStreams', { logGroupName: group, logStreamNamePrefix: streamPrefix });
        const fresh: LogLine[] = [];
        for (const s of logStreams) {
          for (let page = 0; page < 20; page++) {
            const token = tokens.current.get(s.logStreamName);
            const out = await api.call('logs', 'GetLogEvents', { logGroupName: group, logStreamName: s.logStreamName, startFromHead: true, ...(token ? { nextToken: token } : {}) });
            fresh.push(...out.events.map((e: LogLine) => ({ timestamp: e.timestamp, message: e.message })));
            const done = out.nextForwardToken === token || !out.events.length;
            tokens.current.set(s.logStreamName, out.nextForwardToken);
            if (done) break;
          }
        }
        if (!stopped && fresh.length) setLines((old) => [...old, ...fresh].sort((a, b) => a.timestamp - b.timestamp));
        setError(undefined);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ResourceNotFoundException') setError((e as Error).message);
      }
      if (!stopped && liveRef.current) timer = setTimeout(poll, 1500);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [group, streamPrefix, live]);
  return { lines, error };
}

export function LogView({ lines, error }: { lines: LogLine[]; error?: string }) {
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines.length]);
  return (
    <>
      {error && <p className="error">{error}</p>}
      <pre className="log" ref={box} aria-label="log">
        {lines.length ? lines.map((l) => `${new Date(l.timestamp).toISOString().slice(11, 23)}  ${l.message}`).join('\n') : 'No log lines yet.'}
      </pre>
    </>
  );
}
