/** Starts a real Kiln server on a free port with a temporary data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig, type KilnConfig } from '../../src/config.ts';
import { startKiln, type RunningKiln } from '../../src/app.ts';

export interface TestKiln {
  kiln: RunningKiln;
  endpoint: string;
  dataDir: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** Environment for child processes (boto3, aws CLI) pointing at this server. */
  env: NodeJS.ProcessEnv;
  s3(overrides?: Partial<ConstructorParameters<typeof S3Client>[0]>): S3Client;
  stop(): Promise<void>;
}

export async function startTestKiln(overrides: Partial<KilnConfig> = {}): Promise<TestKiln> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-test-'));
  const config = loadConfig({}, { port: 0, dataDir, logLevel: (process.env.KILN_TEST_LOG_LEVEL as 'warn') ?? 'warn', ...overrides });
  const kiln = await startKiln(config);
  const credentials = { accessKeyId: kiln.rootKey.accessKeyId, secretAccessKey: kiln.rootKey.secretAccessKey };
  const endpoint = kiln.url;
  const region = config.region;
  return {
    kiln,
    endpoint,
    dataDir,
    credentials,
    region,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_DEFAULT_REGION: region,
      AWS_REGION: region,
      AWS_ENDPOINT_URL: endpoint,
      KILN_ENDPOINT: endpoint,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
    },
    s3: (overrides = {}) => new S3Client({ endpoint, region, credentials, forcePathStyle: true, ...overrides }),
    async stop() {
      await kiln.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
