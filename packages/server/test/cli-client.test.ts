// `vanish share` and `vanish reveal` as real child processes of the built command
// (packages/server/dist/cli.js; `npm run build` first) against real `vanish serve` processes:
// stdin pipes, files, every exit code, and a real TTY (util-linux `script` allocates a
// pseudo-terminal) for the passphrase prompt without echo.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_FLUSH_MS } from '../src/logger.js';
import { CLI, removeCliDirs, startCli, stopCli, tempDir, type Child } from './helpers/cli.js';

/** Waits until the servers' batched access lines for what came before are on their stdout. */
const logsSettled = () => new Promise((r) => setTimeout(r, LOG_FLUSH_MS * 3));

const PASS = 'correct horse battery staple';
const TTY_PASS = 'tty typed pässphrase ✓';
/** Every secret, passphrase and key the tests used: none may appear in a server's log. */
const sensitive = new Set<string>([PASS, TTY_PASS]);
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;
// `script` is in Debian's essential bsdutils; without it the TTY cases skip loudly, except in CI.
if (!HAS_SCRIPT && !process.env['CI']) console.warn('cli-client.test: SKIPPING the TTY prompt cases: util-linux `script` is not installed');

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `vanish <args>` with `input` on stdin (closed at once when undefined) and only `env` (plus PATH). */
function run(args: string[], options: { input?: string | Buffer; env?: Record<string, string>; detached?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      // A new session has no controlling terminal: /dev/tty cannot open, as under cron or CI.
      detached: options.detached ?? false,
    });
    const out: Buffer[] = [];
    let err = '';
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    proc.stdin.end(options.input ?? '');
  });
}

let server: Child;
let limited: Child;
let dir: string;
let passFile: string;
let url: string;

beforeAll(async () => {
  const base = { VANISH_STORE: 'memory', VANISH_KDF: 'insecure-test', VANISH_ALLOW_INSECURE_KDF: 'true', LOG_LEVEL: 'debug' };
  [server, limited] = await Promise.all([
    startCli({ ...base, VANISH_RATE_LIMIT: '0', VANISH_MAX_SECRET_BYTES: '256' }),
    startCli({ ...base, VANISH_RATE_LIMIT: '1' }),
  ]);
  url = `http://127.0.0.1:${server.port}`;
  dir = tempDir('vanish-cli-client-');
  passFile = join(dir, 'passphrase');
  writeFileSync(passFile, `${PASS}\nnotes below the first line are ignored\n`);
});

afterAll(async () => {
  await Promise.all([server && stopCli(server), limited && stopCli(limited)]);
  removeCliDirs();
});

async function share(secret: string | Buffer, extra: string[] = []): Promise<string> {
  const res = await run(['share', '--server', url, '--passphrase-file', passFile, ...extra], { input: secret });
  expect(res.stderr).toMatch(/Expires/);
  expect(res.code).toBe(0);
  const link = res.stdout.toString().trim();
  sensitive.add(link.split('#')[1]!);
  return link;
}

describe('vanish share | vanish reveal through pipes', () => {
  it.each([
    ['a one-line secret without newline', 'db password: hunter2'],
    ['a multi-line secret with its trailing newline', 'line 1\n  line 2\r\nline 3\n\n'],
    ['a non-ASCII secret', 'mot de passe : «pâté» — 秘密 🔑\n'],
  ])('round-trips %s, byte for byte, the secret alone on stdout', async (_, secret) => {
    sensitive.add(secret);
    const link = await share(secret, ['--ttl', '1h']);
    expect(link).toMatch(new RegExp(`^${url}/s#[A-Za-z0-9_-]{40,}$`));
    const res = await run(['reveal', link, '--passphrase-file', passFile]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout.equals(Buffer.from(secret, 'utf8'))).toBe(true);
  });

  it('reads the secret from --file, and reveal takes the bare key with VANISH_URL, or the link from stdin with "-"', async () => {
    const file = join(dir, 'secret.txt');
    const secret = 'from a file\nsecond line ✓';
    sensitive.add(secret);
    writeFileSync(file, secret);
    const res = await run(['share', '--file', file, '--server', url, '--passphrase-file', passFile], { input: 'stdin is ignored' });
    expect(res.code).toBe(0);
    const link = res.stdout.toString().trim();
    sensitive.add(link.split('#')[1]!);
    const viaKey = await run(['reveal', link.split('#')[1]!, '--passphrase-file', passFile], { env: { VANISH_URL: url } });
    expect(viaKey.code).toBe(0);
    expect(viaKey.stdout.toString()).toBe(secret);

    const again = await share('via stdin link');
    sensitive.add('via stdin link');
    const viaStdin = await run(['reveal', '-', '--passphrase-file', passFile], { input: `${again}\n` });
    expect(viaStdin.code).toBe(0);
    expect(viaStdin.stdout.toString()).toBe('via stdin link');
  });

  it('--generate prints the link and the passphrase, each on its own line, and they open the secret', async () => {
    sensitive.add('generated');
    const res = await run(['share', '--generate', '--server', url], { input: 'generated' });
    expect(res.code).toBe(0);
    const lines = res.stdout.toString().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const [link, passphrase] = lines as [string, string];
    expect(passphrase).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(res.stderr).toMatch(/144 random bits/);
    sensitive.add(passphrase).add(link.split('#')[1]!);
    const file = join(dir, 'generated');
    writeFileSync(file, passphrase);
    const revealed = await run(['reveal', link, '--passphrase-file', file]);
    expect(revealed.code).toBe(0);
    expect(revealed.stdout.toString()).toBe('generated');
  });

  it('--json prints one object {link, secret_key, expires_at, ttl, passphrase?} and nothing else', async () => {
    const res = await run(['share', '--json', '--generate', '--ttl', '30m', '--server', url], { input: 'json' });
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    const text = res.stdout.toString();
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(1);
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['link', 'secret_key', 'expires_at', 'ttl', 'passphrase']);
    sensitive.add(json['secret_key'] as string).add(json['passphrase'] as string);
    expect(json['link']).toBe(`${url}/s#${json['secret_key'] as string}`);
    expect(json['ttl']).toBe(1800);
    expect(Math.abs(Date.parse(json['expires_at'] as string) - Date.now() - 1_800_000)).toBeLessThan(60_000);
    const own = await run(['share', '--json', '--server', url, '--passphrase-file', passFile], { input: 'json 2' });
    const second = JSON.parse(own.stdout.toString()) as Record<string, unknown>;
    sensitive.add(second['secret_key'] as string);
    expect(Object.keys(second)).toEqual(['link', 'secret_key', 'expires_at', 'ttl']);
    expect(second['ttl']).toBe(7 * 86_400);
  });

  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['7d', 604_800],
    ['1h30m', 5400],
    ['600', 600],
  ])('--ttl %s is %d seconds on the server', async (ttl, seconds) => {
    const res = await run(['share', '--json', '--ttl', ttl, '--server', url, '--passphrase-file', passFile], { input: 'ttl' });
    expect(res.code).toBe(0);
    const json = JSON.parse(res.stdout.toString()) as { ttl: number; secret_key: string };
    sensitive.add(json.secret_key);
    expect(json.ttl).toBe(seconds);
  });
});

describe('exit codes', () => {
  it('2: --passphrase on the command line is refused, saying why, without repeating it', async () => {
    for (const args of [
      ['share', '--passphrase', 'hunter2hunter2'],
      ['share', '--passphrase=hunter2hunter2'],
      ['reveal', 'k', '--passphrase', 'hunter2hunter2'],
    ]) {
      const res = await run([...args, '--server', url], { input: 'x' });
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/shell history/);
      expect(res.stderr).toMatch(/`ps`/);
      expect(res.stderr).not.toContain('hunter2hunter2');
      expect(res.stdout.length).toBe(0);
    }
  });

  it.each([
    ['empty stdin', ['share', '--generate'], '', /secret is empty/],
    ['invalid UTF-8', ['share', '--generate'], Buffer.from([0x66, 0x6f, 0xff, 0x6f]), /not valid UTF-8/],
    ['a junk --ttl', ['share', '--generate', '--ttl', '1 week'], 'x', /Invalid --ttl "1 week": give whole seconds/],
    ['a --ttl the server refuses', ['share', '--generate', '--ttl', '5s'], 'x', /Refused by the server: .*ttl/i],
    ['an unknown flag', ['share', '--generate', '--colour'], 'x', /Unknown option "--colour"/],
    ['the secret as an argument', ['share', 'my secret'], 'x', /takes no arguments/],
    ['a link without key', ['reveal', 'http://127.0.0.1:9/s', '--passphrase-file', '/dev/null'], '', /no secret key/],
    ['a bad --server', ['share', '--generate', '--server', 'ftp://x'], 'x', /only http:\/\/ and https:\/\//],
  ])('2: %s', async (_, args, input, message) => {
    const res = await run(args.includes('--server') ? args : [...args, '--server', url], { input });
    expect(res.stderr).toMatch(message);
    expect(res.code).toBe(2);
    expect(res.stdout.length).toBe(0);
  });

  it('2: no terminal for the prompt (a new session) points to --passphrase-file; nothing is sent', async () => {
    await logsSettled();
    const before = server.out().split('"route":"/generate"').length;
    const res = await run(['share', '--server', url], { input: 'x', detached: true });
    expect(res.stderr).toMatch(/No terminal to ask for the passphrase on: give --passphrase-file/);
    expect(res.code).toBe(2);
    const reveal = await run(['reveal', `${url}/s#somekey`], { detached: true });
    expect(reveal.code).toBe(2);
    await logsSettled();
    expect(server.out().split('"route":"/generate"').length).toBe(before);
  });

  it('3: secret not found (already read)', async () => {
    sensitive.add('read once');
    const link = await share('read once');
    expect((await run(['reveal', link, '--passphrase-file', passFile])).code).toBe(0);
    const again = await run(['reveal', link, '--passphrase-file', passFile]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/Secret not found/);
    expect(again.stdout.length).toBe(0);
  });

  it('4: wrong passphrase, with the tries left on stderr; the last try says the secret is destroyed', async () => {
    sensitive.add('guarded');
    const link = await share('guarded');
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not the passphrase\n');
    const messages: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await run(['reveal', link, '--passphrase-file', wrong]);
      expect(res.code).toBe(4);
      expect(res.stdout.length).toBe(0);
      messages.push(res.stderr);
    }
    expect(messages[0]).toBe('vanish reveal: Wrong passphrase. 4 tries left.\n');
    expect(messages[3]).toBe('vanish reveal: Wrong passphrase. 1 try left.\n');
    expect(messages[4]).toMatch(/That was the last try: the secret is now destroyed/);
    expect((await run(['reveal', link, '--passphrase-file', passFile])).code).toBe(3);
  });

  it('5: rate limited (VANISH_RATE_LIMIT=1), with the retry delay on stderr', async () => {
    const limitedUrl = `http://127.0.0.1:${limited.port}`;
    const first = await run(['share', '--generate', '--json', '--server', limitedUrl], { input: 'one' });
    expect(first.code).toBe(0);
    const json = JSON.parse(first.stdout.toString()) as { secret_key: string; passphrase: string };
    sensitive.add(json.secret_key).add(json.passphrase);
    const second = await run(['share', '--generate', '--server', limitedUrl], { input: 'two' });
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(/Rate limited: too many requests from this address\. Retry in \d+ seconds?\./);
    expect(second.stdout.length).toBe(0);
  });

  it('6: server unavailable (nothing listens on the port)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise((r) => probe.close(r));
    for (const args of [
      ['share', '--generate'],
      ['reveal', 'somekey', '--passphrase-file', passFile],
    ]) {
      const res = await run(args, { input: 'x', env: { VANISH_URL: `http://127.0.0.1:${port}` } });
      expect(res.stderr).toBe(`vanish ${args[0]}: Could not reach the vanish server at http://127.0.0.1:${port}.\n`);
      expect(res.code).toBe(6);
    }
  });

  it('7: the secret is larger than the server accepts (VANISH_MAX_SECRET_BYTES=256)', async () => {
    const res = await run(['share', '--generate', '--server', url], { input: 'é'.repeat(200) });
    expect(res.stderr).toMatch(/Too large: .*256/);
    expect(res.code).toBe(7);
  });

  it('1: a server that is not vanish (an unknown path)', async () => {
    const res = await run(['share', '--generate', '--server', `${url}/elsewhere`], { input: 'x' });
    expect(res.stderr).toMatch(/no such endpoint/);
    expect(res.code).toBe(1);
  });

  it('--help documents share, reveal and every exit code; --version prints the version', async () => {
    const help = await run(['--help']);
    const text = help.stdout.toString();
    expect(help.code).toBe(0);
    for (const line of [
      /vanish share \[flags\]/,
      /vanish reveal LINK \[flags\]/,
      /LINK {2,}a share link .* a bare key, or - \(the link on stdin\)/,
      /--passphrase-file PATH/,
      /--ttl DURATION .*90s, 30m, 1h, 7d/,
      /--server URL .*VANISH_URL/,
      /--passphrase VALUE is refused: arguments land in shell history and in `ps`/,
      /^ {4}0 {2}done$/m,
      /^ {4}2 {2}usage/m,
      /^ {4}3 {2}secret not found/m,
      /^ {4}4 {2}wrong passphrase/m,
      /^ {4}5 {2}rate limited/m,
      /^ {4}6 {2}server unreachable/m,
      /^ {4}7 {2}the secret is larger/m,
      /^ {4}1 {2}another failure/m,
      /^ {2}130 {2}cancelled/m,
    ]) {
      expect(text).toMatch(line);
    }
    const shareHelp = await run(['share', '--help']);
    expect(shareHelp.stdout.toString()).toBe(text);
    const version = await run(['--version']);
    const { version: expected } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version.stdout.toString()).toBe(`${expected}\n`);
  });
});

/** `command` in a real pseudo-terminal (util-linux `script`), typed into through `write`. */
function inTty(command: string, env: Record<string, string>) {
  const proc = spawn('script', ['-qec', command, '/dev/null'], {
    env: { PATH: process.env['PATH'] ?? '', SHELL: '/bin/sh', TERM: 'dumb', CLI, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return {
    out: () => out,
    exited,
    /** waits until the terminal shows `text` `times` times in all (10 s at most) */
    async waitFor(text: string, times = 1) {
      const deadline = Date.now() + 10_000;
      while (out.split(text).length - 1 < times) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no "${text}" on the terminal:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    type(text: string) {
      proc.stdin.write(text);
    },
    async close() {
      proc.stdin.end();
      return exited;
    },
  };
}

describe.skipIf(!HAS_SCRIPT && !process.env['CI'])('the passphrase prompt in a real terminal (util-linux script)', () => {
  it('share (secret piped in) asks twice without echo; reveal (stdout to a file) asks once without echo', async () => {
    const secret = 'typed at a real terminal';
    sensitive.add(secret);
    const shareTty = inTty(`printf '%s' "$SECRET" | node "$CLI" share --server "$URL"`, { SECRET: secret, URL: url });
    await shareTty.waitFor('Passphrase for the secret (not shown): ');
    shareTty.type(`${TTY_PASS}\r`);
    await shareTty.waitFor('The same passphrase again: ');
    shareTty.type(`${TTY_PASS}\r`);
    expect(await shareTty.close()).toBe(0);
    const shown = shareTty.out();
    expect(shown).not.toContain(TTY_PASS);
    expect(shown).not.toContain('tty typed');
    const link = /http:\/\/127\.0\.0\.1:\d+\/s#[A-Za-z0-9_-]+/.exec(shown)?.[0];
    expect(link).toBeDefined();
    sensitive.add(link!.split('#')[1]!);

    const outFile = join(dir, 'revealed');
    const revealTty = inTty(`node "$CLI" reveal "$LINK" > "$OUT"`, { LINK: link!, OUT: outFile });
    await revealTty.waitFor('Passphrase (not shown): ');
    // Typed key by key, with a typo fixed by Backspace, like a person.
    for (const ch of `${TTY_PASS.slice(0, 5)}X\x7f${TTY_PASS.slice(5)}`) revealTty.type(ch);
    revealTty.type('\r');
    expect(await revealTty.close()).toBe(0);
    expect(revealTty.out()).not.toContain(TTY_PASS);
    expect(revealTty.out()).not.toContain(TTY_PASS.slice(0, 5));
    expect(readFileSync(outFile, 'utf8')).toBe(secret);
  });

  it('two different passphrases: exit 2, nothing sent; Ctrl-C at the prompt: exit 130', async () => {
    const mismatch = inTty(`printf x | node "$CLI" share --server "$URL"`, { URL: url });
    await mismatch.waitFor('(not shown): ');
    mismatch.type('first passphrase\r');
    await mismatch.waitFor('again: ');
    mismatch.type('second passphrase\r');
    expect(await mismatch.close()).toBe(2);
    expect(mismatch.out()).toMatch(/The two passphrases differ; nothing was sent/);
    expect(mismatch.out()).not.toMatch(/first passphrase|second passphrase/);

    const cancelled = inTty(`node "$CLI" reveal "$URL/s#somekey"`, { URL: url });
    await cancelled.waitFor('Passphrase (not shown): ');
    cancelled.type('half typed\x03');
    expect(await cancelled.close()).toBe(130);
    expect(cancelled.out()).toMatch(/Cancelled/);
    expect(cancelled.out()).not.toContain('half typed');
  });
});

describe('the servers', () => {
  it('logged no secret, passphrase or key', async () => {
    await logsSettled();
    const logs = `${server.out()}\n${limited.out()}`;
    expect(logs).toContain('"route":"/reveal"');
    expect(sensitive.size).toBeGreaterThan(15);
    for (const value of sensitive) expect(logs).not.toContain(value);
  });
});
