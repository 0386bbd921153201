/** The `kiln` command. */
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig, DEFAULT_PORT, type KilnConfig } from '../config.ts';
import { startKiln } from '../app.ts';
import { rootCredentialsFile, type AccessKey } from '../iam/credentials.ts';
import { FLOW_USAGE, runDataCommand } from './flow-commands.ts';

const USAGE = `Usage: kiln <command>

Commands:
  serve         Start Kiln on one port (KILN_PORT, default ${DEFAULT_PORT}) with its data in KILN_DATA_DIR (default ./.kiln)
  credentials   Print the root credentials and endpoint as shell export lines
  flow, table   Data flows and the table catalog (kiln flow help)
  help          Show this help

Environment: KILN_PORT, KILN_HOST (default 127.0.0.1), KILN_DATA_DIR, KILN_REGION (default us-east-1),
KILN_ACCOUNT_ID (default 000000000000), KILN_ACCESS_KEY_ID / KILN_SECRET_ACCESS_KEY, KILN_LOG_LEVEL.`;

function endpointOf(config: KilnConfig, port = config.port): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function exportLines(key: AccessKey, config: KilnConfig, port?: number): string {
  return [
    `export AWS_ACCESS_KEY_ID=${key.accessKeyId}`,
    `export AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`,
    `export AWS_DEFAULT_REGION=${config.region}`,
    `export AWS_REGION=${config.region}`,
    `export AWS_ENDPOINT_URL=${endpointOf(config, port)}`,
  ].join('\n');
}

async function serve(): Promise<void> {
  const config = loadConfig();
  const kiln = await startKiln(config);
  if (kiln.rootKeyCreated) {
    process.stdout.write(
      `\nKiln generated root credentials (stored in ${rootCredentialsFile(config.dataDir)}, mode 0600).\n` +
        `They are printed only this once; \`npm run kiln credentials\` prints them again:\n\n${exportLines(kiln.rootKey, config, kiln.port)}\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'shutting down', signal })}\n`);
    kiln.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Only now: a supervisor that signals as soon as it reads this line must find the handlers in place.
  kiln.announceReady();
}

function credentials(): void {
  const config = loadConfig();
  if (config.rootAccessKeyId && config.rootSecretAccessKey) {
    console.log(exportLines({ accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey }, config));
    return;
  }
  const file = rootCredentialsFile(config.dataDir);
  if (!existsSync(file)) {
    console.error(`No credentials yet in ${config.dataDir}: run \`kiln serve\` once to create them.`);
    process.exit(1);
  }
  console.log(exportLines(JSON.parse(readFileSync(file, 'utf8')) as AccessKey, config));
}

const command = process.argv[2] ?? 'help';
switch (command) {
  case 'serve':
    await serve();
    break;
  case 'credentials':
    credentials();
    break;
  case 'flow':
  case 'table':
    if (['help', '--help', '-h', undefined].includes(process.argv[3])) console.log(FLOW_USAGE);
    else process.exitCode = await runDataCommand(command, process.argv.slice(3));
    break;
  case 'help':
  case '--help':
  case '-h':
    console.log(USAGE);
    break;
  default:
    console.error(`Unknown command '${command}'.\n\n${USAGE}`);
    process.exit(2);
}
