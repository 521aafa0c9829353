// Durability of SqliteStore writes, shown with the system calls themselves: a child process
// (fixtures/durable-writes.mjs, on the built package) runs create, group creates, reserve,
// claim and delete under strace, and every one of them must resolve only after the
// write-ahead log frames it wrote were synced (fdatasync or fsync on the -wal file, started
// after the last frame was written, completed with 0). It holds whoever makes the sync:
// SQLite inside the commit (synchronous=FULL) or the store on the thread pool.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/durable-writes.mjs', import.meta.url));
const probe = spawnSync('strace', ['-qq', '-e', 'trace=none', 'true']);
const strace = probe.status === 0 ? null : probe.error ? 'strace is not installed' : 'strace cannot trace here (ptrace refused)';
if (strace) console.warn(`\n!!! SKIPPED the SQLite durability trace: ${strace} (apt-get install strace; .ci/run installs it)\n`);

interface Call {
  index: number;
  pid: string;
  name: string;
  args: string;
  /** index of the line where the call returned, and its result */
  end?: { index: number; result: string };
}

/** Parses `strace -f` output into calls, joining `<unfinished ...>` with their `resumed` lines. */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, Call>();
  text.split('\n').forEach((line, index) => {
    const resumed = /^(\d+)\s+<\.\.\. (\w+) resumed>.*\)\s+=\s+(-?\d+)/.exec(line);
    if (resumed) {
      const call = open.get(`${resumed[1]}:${resumed[2]}`);
      if (call) call.end = { index, result: resumed[3]! };
      return;
    }
    const m = /^(\d+)\s+(\w+)\((.*)$/.exec(line);
    if (!m) return;
    const call: Call = { index, pid: m[1]!, name: m[2]!, args: m[3]! };
    if (m[3]!.endsWith('<unfinished ...>')) open.set(`${call.pid}:${call.name}`, call);
    else {
      const r = /\)\s+=\s+(-?\d+)/.exec(m[3]!);
      if (r) call.end = { index, result: r[1]! };
    }
    calls.push(call);
  });
  return calls;
}

/**
 * Runs the fixture under strace (cwd `cwd`, args `args`) and checks, for every write, that a sync
 * of a -wal file under `walDir` began after the last frame the write put there and returned 0
 * before the write resolved.
 */
function traceAndCheck(traceFile: string, cwd: string, args: string[], walDir: string): Record<string, number> {
  const run = spawnSync(
    'strace',
    [
      '-f',
      '-qq',
      '-e',
      'trace=openat,pwrite64,write,fdatasync,fsync',
      '-e',
      'signal=none',
      '-o',
      traceFile,
      process.execPath,
      FIXTURE,
      ...args,
    ],
    { cwd, encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  const calls = parseTrace(readFileSync(traceFile, 'utf8'));

  // Which descriptors name the database's -wal file at each point (a closed number may be reused).
  const walFdsAt = new Map<number, Set<string>>();
  const walFds = new Set<string>();
  for (const c of calls) {
    if (c.name === 'openat' && c.end && Number(c.end.result) >= 0) {
      const path = /"([^"]*)"/.exec(c.args)?.[1] ?? '';
      if (path.startsWith(walDir) && path.endsWith('-wal')) walFds.add(c.end.result);
      else walFds.delete(c.end.result);
    }
    walFdsAt.set(c.index, new Set(walFds));
  }
  const onWal = (c: Call) => walFdsAt.get(c.index)!.has(/^(\d+)/.exec(c.args)?.[1] ?? '');
  const marker = (text: string) => calls.find((c) => c.name === 'write' && c.args.startsWith(`1, "${text}\\n"`));

  const names = ['create', ...Array.from({ length: 8 }, (_, i) => `group-create-${i}`), 'reserve', 'claim', 'delete'];
  for (const name of names) {
    const begin = marker(`BEGIN ${name}`);
    const resolved = marker(`RESOLVED ${name}`);
    expect(begin && resolved, name).toBeTruthy();
    const frames = calls.filter((c) => c.name === 'pwrite64' && onWal(c) && c.index > begin!.index && c.index < resolved!.index);
    expect(frames.length, `${name} wrote -wal frames`).toBeGreaterThan(0);
    const lastFrame = frames.at(-1)!.index;
    const synced = calls.some(
      (c) =>
        (c.name === 'fdatasync' || c.name === 'fsync') &&
        onWal(c) &&
        c.index > lastFrame &&
        c.end !== undefined &&
        c.end.result === '0' &&
        c.end.index < resolved!.index,
    );
    expect(synced, `${name}: a sync of the -wal file began after its last frame and ended before it resolved`).toBe(true);
  }
  return JSON.parse(/STATS (.*)/.exec(run.stdout)![1]!) as Record<string, number>;
}

describe.skipIf(strace !== null)('SQLite durability, traced (issue 9 item 1, issue 10 target 4)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vanish-durable-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every write resolves only after its -wal frames were synced to disk', () => {
    const stats = traceAndCheck(join(dir, 'trace'), dir, [join(dir, 'd.db')], dir);
    // One sync covered the group of eight creates.
    expect(stats).toMatchObject({ commits: 5, operations: 12, syncs: 5 });
  });

  it('syncs the file SQLite opened: a database opened by a relative name through a symlink, then a chdir to a look-alike', () => {
    const real = join(dir, 'real');
    const decoy = join(dir, 'decoy');
    mkdirSync(real);
    mkdirSync(decoy);
    symlinkSync(real, join(dir, 'link'));
    // what "d.db" means after the chdir: a different file, with a -wal of its own
    writeFileSync(join(decoy, 'd.db'), '');
    writeFileSync(join(decoy, 'd.db-wal'), '');
    traceAndCheck(join(dir, 'trace-chdir'), join(dir, 'link'), ['d.db', decoy], real);
  });
});
