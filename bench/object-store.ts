/**
 * Object-store benchmark: PutObject and GetObject of 4 KiB and 8 MiB objects through the
 * AWS SDK for JavaScript at concurrency 16 against a `kiln serve` child process. Reports
 * throughput, p50/p99 latency and the server's resident memory, and writes
 * bench/results/object-store.json.
 *
 *   npm run bench:objects            (BENCH_SCALE=0.25 for a quick run)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawnKiln } from '../test/helpers/child-server.ts';

const CONCURRENCY = 16;
const scale = Number(process.env.BENCH_SCALE ?? 1);
const cases = [
  { name: '4KiB', size: 4 * 1024, ops: Math.round(4000 * scale) },
  { name: '8MiB', size: 8 * 1024 * 1024, ops: Math.round(128 * scale) },
];

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function runPhase(ops: number, op: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ops) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { ops, seconds, opsPerSec: ops / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-'));
const credentials = { accessKeyId: 'AKIAKILNBENCH0000001', secretAccessKey: 'kiln-bench-secret' };
const kiln = await spawnKiln({ KILN_DATA_DIR: dataDir, KILN_LOG_LEVEL: 'warn', KILN_ACCESS_KEY_ID: credentials.accessKeyId, KILN_SECRET_ACCESS_KEY: credentials.secretAccessKey });
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const s3 = new S3Client({ endpoint: kiln.url, region: 'us-east-1', credentials, forcePathStyle: true, requestHandler: new NodeHttpHandler({ httpAgent: agent }) });
const results: Record<string, unknown> = {};
try {
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const idle = rssMiB(kiln.child.pid!);
  for (const c of cases) {
    const body = randomBytes(c.size);
    const put = await runPhase(c.ops, async (i) => {
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `${c.name}/${i}`, Body: body }));
    });
    const get = await runPhase(c.ops, async (i) => {
      const out = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `${c.name}/${i}` }));
      const bytes = await out.Body!.transformToByteArray();
      if (bytes.length !== c.size) throw new Error('short read');
    });
    const mem = rssMiB(kiln.child.pid!);
    for (const [phase, r] of [['PutObject', put], ['GetObject', get]] as const) {
      results[`${phase} ${c.name}`] = { ...r, MiBPerSec: (r.opsPerSec * c.size) / 1024 / 1024 };
    }
    results[`server memory after ${c.name}`] = mem;
  }
  results['server memory idle'] = idle;
  results.config = { concurrency: CONCURRENCY, scale, node: process.version, cpus: os.cpus().length };
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'object-store.json'), `${JSON.stringify(results, null, 2)}\n`);
  for (const [name, r] of Object.entries(results)) {
    const v = r as Record<string, number>;
    if ('opsPerSec' in v) {
      console.log(`${name.padEnd(16)} ${v.opsPerSec!.toFixed(0).padStart(6)} ops/s ${v.MiBPerSec!.toFixed(1).padStart(7)} MiB/s  p50 ${v.p50Ms!.toFixed(1)} ms  p99 ${v.p99Ms!.toFixed(1)} ms`);
    } else console.log(name, JSON.stringify(v));
  }
} finally {
  s3.destroy();
  agent.destroy();
  kiln.child.kill('SIGTERM');
  await kiln.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
