/** Append-only audit log of mutating calls: one JSON object per line. */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface AuditEntry {
  time: string;
  principal: string;
  action: string;
  resource: string;
  result: 'success' | 'failure';
  errorCode?: string;
  requestId: string;
  sourceIp: string;
}

export class AuditLog {
  private fd: number | undefined;

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o600);
  }

  /** Written synchronously so an entry is on disk before the response leaves. */
  record(entry: AuditEntry): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
