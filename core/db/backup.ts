import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

// Plain CommonJS for an eval'd worker: no loader needed, from the sources or from dist/.
const SNAPSHOT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.source, { readonly: true, fileMustExist: true });
try {
  db.prepare('VACUUM INTO ?').run(workerData.target);
} finally {
  db.close();
}
parentPort.postMessage('done');
`;

/**
 * Writes a consistent copy of the live SQLite database to a new file in
 * `<dataDir>/backups/` and returns its path; the caller deletes it.
 * VACUUM INTO reads one snapshot, so writers carry on (WAL), and it runs on
 * its own connection in a worker thread, so chargers are answered meanwhile.
 */
export async function snapshotSqlite(source: string, dataDir: string, name: string): Promise<string> {
  const dir = join(dataDir, 'backups');
  mkdirSync(dir, { recursive: true });
  const target = join(dir, name);
  rmSync(target, { force: true });
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(SNAPSHOT_WORKER, { eval: true, workerData: { driver, source, target } });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`snapshot worker exited with ${code}`))));
    });
  } catch (err) {
    rmSync(target, { force: true });
    throw err;
  }
  return target;
}
