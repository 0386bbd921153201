import path from 'node:path';

/** Everything `kiln serve` reads from its environment, with the documented defaults. */
export interface KilnConfig {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  accountId: string;
  /** Root credentials from the environment; when absent they are generated at first start. */
  rootAccessKeyId?: string;
  rootSecretAccessKey?: string;
  logLevel: LogLevel;
  /** Largest non-streaming request body accepted, in bytes. */
  maxBodyBytes: number;
  /**
   * How long an invocation waits for a model that is still starting or loading (a variant's
   * replacement worker, a multi-model target being fetched) before ModelNotReadyException.
   */
  modelReadyWaitMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const DEFAULT_PORT = 9555;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<KilnConfig> = {}): KilnConfig {
  const port = Number(env.KILN_PORT ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`KILN_PORT must be a port number, got '${env.KILN_PORT}'`);
  const accountId = env.KILN_ACCOUNT_ID ?? '000000000000';
  if (!/^\d{12}$/.test(accountId)) throw new Error(`KILN_ACCOUNT_ID must be 12 digits, got '${accountId}'`);
  return {
    host: env.KILN_HOST ?? '127.0.0.1',
    port,
    dataDir: path.resolve(env.KILN_DATA_DIR ?? '.kiln'),
    region: env.KILN_REGION ?? 'us-east-1',
    accountId,
    rootAccessKeyId: env.KILN_ACCESS_KEY_ID || undefined,
    rootSecretAccessKey: env.KILN_SECRET_ACCESS_KEY || undefined,
    logLevel: (env.KILN_LOG_LEVEL as LogLevel | undefined) ?? 'info',
    maxBodyBytes: Number(env.KILN_MAX_BODY_BYTES ?? 64 * 1024 * 1024),
    modelReadyWaitMs: nonNegative(env, 'KILN_MODEL_READY_WAIT_MS', 10_000),
    ...overrides,
  };
}

function nonNegative(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of milliseconds, got '${raw}'`);
  return n;
}
