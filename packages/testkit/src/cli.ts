import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The built `vanish` command, found through the installed @vanish/server package. */
export const CLI = join(dirname(createRequire(import.meta.url).resolve('@vanish/server/package.json')), 'dist', 'cli.js');

const dirs: string[] = [];
/** Everything each child process printed, collected when it exits (for the log scans). */
export const cliOutputs: string[] = [];

/** Removes the temporary folders of every child started so far. */
export function removeCliDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A temporary folder removed by {@link removeCliDirs}. */
export function tempDir(prefix = 'vanish-proc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export interface SpawnedCli {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  dbPath: string;
}

export interface Child extends SpawnedCli {
  port: number;
}

/** Runs `vanish <args>` in a child process with a fresh SQLite path and only `env` (plus PATH). */
export function spawnCli(env: Record<string, string>, args: string[] = ['serve']): SpawnedCli {
  const dbPath = join(tempDir(), 'data', 'vanish.db');
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', VANISH_SQLITE_PATH: dbPath, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      cliOutputs.push(out);
      resolve(code);
    }),
  );
  return { proc, out: () => out, exited, dbPath };
}

/** Starts `vanish serve` and waits for its `listening` line (30 s at most: a loaded CI machine starts processes slowly). */
export async function startCli(env: Record<string, string> = {}): Promise<Child> {
  const child = spawnCli(env);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const line = child
      .out()
      .split('\n')
      .find((l) => l.includes('"msg":"listening"'));
    if (line) return { ...child, port: (JSON.parse(line) as { port: number }).port };
    if (child.proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  child.proc.kill('SIGKILL');
  throw new Error(`server did not start:\n${child.out()}`);
}

/** POSTs JSON to a child server. */
export async function post(port: number, path: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** SIGTERM, then wait for the exit code. */
export async function stopCli(child: SpawnedCli): Promise<number | null> {
  if (child.proc.exitCode === null) child.proc.kill('SIGTERM');
  return child.exited;
}
