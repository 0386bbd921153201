import type { LogLevel } from '../config.ts';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Structured logs: one JSON object per line on stdout (errors on stderr). */
export class Logger {
  constructor(private readonly level: LogLevel, private readonly fields: Record<string, unknown> = {}) {}

  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.level, { ...this.fields, ...fields });
  }

  debug(msg: string, fields?: Record<string, unknown>) { this.write('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>) { this.write('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>) { this.write('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>) { this.write('error', msg, fields); }

  /** Lifecycle lines (ready, stopped) that supervisors wait for: written at every level but silent. */
  lifecycle(msg: string, fields?: Record<string, unknown>) { this.write('info', msg, fields, this.level !== 'silent'); }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>, force = false) {
    if (!force && ORDER[level] < ORDER[this.level]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...this.fields, ...fields });
    (level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
  }
}
