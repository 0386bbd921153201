/**
 * Checkpoints the embedded database's write-ahead log from a worker thread. SQLite's own
 * automatic checkpoint runs inside whichever commit crosses the threshold, on the server's
 * only thread, and it syncs the database file: on a slow disk that stalls every request in
 * flight. A passive checkpoint on a second connection copies committed pages back without
 * blocking writers, so commits stay appends to the log.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The worker: its own connection, a passive checkpoint each interval, closed on request. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file);
db.pragma('busy_timeout = 1000');
// A failed checkpoint (the database busy) is retried next tick; commits checkpoint themselves past a bound.
const tick = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  tick();
  db.close();
  parentPort.close();
});
`;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

export function startWalCheckpointer(file: string, intervalMs = 500): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
  worker.unref();
  // A worker that dies leaves the commit-time checkpoint as the backstop.
  worker.on('error', () => {});
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      // Held open until it has closed its connection; a worker that does not is ended.
      worker.ref();
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
