import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** `wal_checkpoint` modes the SQLite store uses. */
export type CheckpointMode = 'PASSIVE' | 'TRUNCATE';

/** How a checkpoint went: completed, kept from finishing by readers or a writer, or not run at all. */
export type CheckpointResult = 'done' | 'busy' | 'unavailable';

/** Runs `wal_checkpoint` on a connection of its own in a worker thread. */
export interface Checkpointer {
  /**
   * @param mode - checkpoint mode
   * @returns `"unavailable"` when the worker cannot run it (the caller may run it itself)
   */
  run(mode: CheckpointMode): Promise<CheckpointResult>;
  /** Stops the worker; later runs answer `"unavailable"`. */
  close(): Promise<void>;
}

// Plain CommonJS evaluated in the worker: one connection, one checkpoint per message. Its busy
// timeout may be long: waiting there blocks only the worker.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs));
parentPort.on('message', ({ id, mode }) => {
  let result = 'busy';
  try {
    const rows = db.pragma(mode === 'TRUNCATE' ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)');
    if (rows[0] && rows[0].busy === 0) result = 'done';
  } catch {}
  parentPort.postMessage({ id, result });
});
`;

/**
 * Starts a worker thread that checkpoints the SQLite file `file`, so the checkpoint's writes
 * and syncs never block the event loop. The worker keeps the process alive only while a
 * checkpoint is pending.
 *
 * @param file - the database file, as better-sqlite3's `Database.name` gives it
 * @param busyTimeoutMs - how long the worker's connection waits for locks
 * @returns the checkpointer (its runs answer `"unavailable"` if the worker cannot start)
 */
export function startCheckpointer(file: string, busyTimeoutMs: number): Checkpointer {
  const pending = new Map<number, (result: CheckpointResult) => void>();
  let nextId = 0;
  let worker: Worker | undefined;
  const failAll = () => {
    worker = undefined;
    for (const resolve of pending.values()) resolve('unavailable');
    pending.clear();
  };
  try {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const started = new Worker(SOURCE, { eval: true, workerData: { driver, file, busyTimeoutMs } });
    started.unref();
    started.on('message', ({ id, result }: { id: number; result: CheckpointResult }) => {
      pending.get(id)?.(result);
      pending.delete(id);
      if (pending.size === 0) started.unref();
    });
    started.on('error', failAll);
    started.on('exit', failAll);
    worker = started;
  } catch {
    worker = undefined;
  }
  return {
    run(mode) {
      const w = worker;
      if (!w) return Promise.resolve('unavailable');
      return new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        w.ref();
        w.postMessage({ id, mode });
      });
    },
    async close() {
      const w = worker;
      failAll();
      if (w) await w.terminate();
    },
  };
}
