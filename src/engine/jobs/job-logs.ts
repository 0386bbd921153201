/**
 * Sends a job's output lines to the CloudWatch-Logs-compatible store in batches, escaped as
 * SageMaker's log agent escapes them, so tailing clients see what they see on AWS.
 */
import { escapeLogLine } from './metrics.ts';

/** The part of the log store a job needs. */
export interface LogSink {
  ensureStream(group: string, stream: string): Promise<void>;
  append(group: string, stream: string, events: { timestamp: number; message: string }[]): Promise<void>;
}

export class JobLogWriter {
  private pending: { timestamp: number; message: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: LogSink,
    readonly group: string,
    readonly stream: string,
    private readonly onError: (e: unknown) => void,
    private readonly maxDelayMs = 200,
  ) {}

  async open(): Promise<void> {
    await this.sink.ensureStream(this.group, this.stream);
  }

  /** Queues one line; returns the escaped text as stored. */
  write(line: string, at = Date.now()): string {
    const message = escapeLogLine(line);
    this.pending.push({ timestamp: at, message });
    if (this.pending.length >= 1000) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
    return message;
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length) {
      this.flushing = this.flushing.then(() => this.sink.append(this.group, this.stream, batch)).catch(this.onError);
    }
    return this.flushing;
  }
}
