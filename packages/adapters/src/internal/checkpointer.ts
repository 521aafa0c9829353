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
// timeout may be long: waiting there blocks only the worker. It runs SQL through db.exec() only,
// never a prepared statement: better-sqlite3 12's Statement destructor aborts the whole process
// on Node 22 and later when it runs after the worker's environment is gone (seen here on Node
// 24: "RemoveEnvironmentCleanupHook … Assertion failed: (env) != nullptr"). exec() gives no
// result row, so a TRUNCATE counts as done when it left the -wal file empty.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.exec('PRAGMA busy_timeout = ' + Number(workerData.busyTimeoutMs));
const walSize = () => { try { return statSync(workerData.file + '-wal').size; } catch { return 0; } };
parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.close();
    return;
  }
  const { id, mode } = message;
  let result = 'busy';
  try {
    db.exec(mode === 'TRUNCATE' ? 'PRAGMA wal_checkpoint(TRUNCATE)' : 'PRAGMA wal_checkpoint(PASSIVE)');
    if (mode !== 'TRUNCATE' || walSize() === 0) result = 'done';
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
      if (!w) return;
      // The worker closes its connection and ends by itself; terminate() only if it does not.
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.ref();
      w.postMessage({ close: true });
      const timer = setTimeout(() => void w.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
