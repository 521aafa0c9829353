// The pure parts of `vanish share` / `vanish reveal` in-process (so coverage sees them), and the
// two commands driven through injected streams against a real in-process server. The same
// commands as real child processes, with real pipes and a real TTY: cli-client.test.ts.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EndpointNotFoundError,
  InternalServerError,
  InvalidLinkError,
  InvalidPassphraseError,
  InvalidRequestError,
  PayloadTooLargeError,
  RateLimitedError,
  SecretNotFoundError,
  UnavailableError,
  VanishApiError,
  VanishNetworkError,
  VanishProtocolError,
} from '@vanish/client';
import { parseFlags, parseTtl, refusePassphraseArgument, resolveServer, serverFromLink, UsageError } from '../src/cli/args.js';
import { CancelledError, describeFailure, EXIT, EXIT_CODE_HELP } from '../src/cli/exit-codes.js';
import { CLIENT_HELP } from '../src/cli/help.js';
import { askHidden, decodeSecret, HiddenLine, promptHiddenOnTty, readAll, readFileForFlag, processIo, type CliIo } from '../src/cli/io.js';
import { generatePassphrase, GENERATED_PASSPHRASE_BITS, passphraseFromFile } from '../src/cli/passphrase.js';
import { runReveal } from '../src/cli/reveal.js';
import { formatDuration, runShare, type ShareJson } from '../src/cli/share.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const init = { status: 400, requestId: 'req-1', message: 'server says' };

describe('parseTtl', () => {
  it.each([
    ['3600', 3600],
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['7d', 604_800],
    ['2w', 1_209_600],
    ['1h30m', 5400],
    ['1d12h', 129_600],
    [' 1H ', 3600],
    ['1', 1],
  ])('%j is %d seconds', (text, seconds) => {
    expect(parseTtl(text)).toBe(seconds);
  });

  it.each(['', 'abc', '1.5h', '-5', '5x', 'h', '1h 30m', '30m1h', '1h1h', '1e3', '0', '0s', '99999999999999999999', '1hour'])(
    'refuses %j with a message that shows the accepted forms',
    (text) => {
      expect(() => parseTtl(text)).toThrow(UsageError);
      expect(() => parseTtl(text)).toThrow(/--ttl/);
    },
  );
});

describe('parseFlags and the passphrase-argument refusal', () => {
  const spec = { file: 'string', json: 'boolean' } as const;

  it('reads --name value, --name=value, boolean flags, positionals, "-" and "--"', () => {
    expect(parseFlags(['--file', 'a', 'x', '--json', '-', '--', '--file'], spec)).toEqual({
      flags: { file: 'a', json: true },
      positionals: ['x', '-', '--file'],
    });
    expect(parseFlags(['--file=a=b'], spec).flags).toEqual({ file: 'a=b' });
    expect(parseFlags(['--file='], spec).flags).toEqual({ file: '' });
  });

  it.each([
    [['--nope'], /Unknown option "--nope"/],
    [['--nope=hunter22'], /Unknown option "--nope"/],
    [['-x'], /Unknown option "-x"/],
    [['-xhunter22'], /Unknown option "-x…"/],
    [['---hunter22=x'], /Unknown option "--…"/],
    [['--file'], /--file needs a value/],
    [['--json=yes'], /--json takes no value/],
    [['--json', '--json'], /--json is given twice/],
  ])('refuses %j', (args, message) => {
    expect(() => parseFlags(args, spec)).toThrow(message);
    try {
      parseFlags(args, spec);
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter22');
    }
  });

  it.each([
    ['--passphrase', 'hunter22'],
    ['--passphrase=hunter22'],
    ['-p', 'hunter22'],
    ['--password=hunter22'],
    ['--pass', 'hunter22'],
    ['-phunter22'],
    ['-Phunter22'],
    ['--Passphrase=hunter22'],
  ])('refuses %j, says why (history, ps), and never repeats the value', (...args) => {
    expect(() => refusePassphraseArgument(args)).toThrow(UsageError);
    try {
      refusePassphraseArgument(args);
    } catch (err) {
      expect((err as Error).message).toMatch(/shell history/);
      expect((err as Error).message).toMatch(/`ps`/);
      expect((err as Error).message).not.toContain('hunter22');
    }
  });

  it('lets --passphrase-file through, and anything after "--"', () => {
    expect(() => refusePassphraseArgument(['--passphrase-file', 'p', '--', '--passphrase'])).not.toThrow();
  });
});

describe('resolveServer and serverFromLink', () => {
  it('takes --server, else VANISH_URL, else http://localhost:8000, and drops a trailing slash', () => {
    expect(resolveServer('https://a.example/x/', { VANISH_URL: 'https://b.example' })).toEqual({
      url: 'https://a.example/x',
      warning: undefined,
    });
    expect(resolveServer(undefined, { VANISH_URL: 'https://b.example' }).url).toBe('https://b.example');
    expect(resolveServer(undefined, { VANISH_URL: '' }).url).toBe('http://localhost:8000');
    expect(resolveServer(undefined, {}).url).toBe('http://localhost:8000');
  });

  it('warns about plain HTTP to another machine only', () => {
    for (const local of ['http://localhost:1', 'http://127.0.0.2', 'http://[::1]:8000', 'http://a.localhost']) {
      expect(resolveServer(local, {}).warning).toBeUndefined();
    }
    expect(resolveServer('http://vanish.example.com', {}).warning).toMatch(/plain HTTP.*unencrypted/);
    expect(resolveServer('https://vanish.example.com', {}).warning).toBeUndefined();
  });

  it.each([
    ['not a url', /Invalid --server: not a URL/],
    ['ftp://x', /only http:\/\/ and https:\/\//],
    ['https://u:hunter22@x', /without credentials/],
    ['https://x/?a=1', /without credentials, query/],
    ['https://x/#k', /without credentials, query or "#"/],
  ])('refuses --server %j', (value, message) => {
    expect(() => resolveServer(value, {})).toThrow(message);
  });

  it('names VANISH_URL when the environment is wrong', () => {
    expect(() => resolveServer(undefined, { VANISH_URL: 'nope' })).toThrow(/Invalid VANISH_URL/);
  });

  it('finds the server of a link, keeping a path prefix', () => {
    expect(serverFromLink('https://v.example/s#k')?.url).toBe('https://v.example');
    expect(serverFromLink(' https://v.example/vanish/s/#k ')?.url).toBe('https://v.example/vanish');
    expect(serverFromLink('AbCdEf')).toBeUndefined();
    expect(() => serverFromLink('ftp://v.example/s#k')).toThrow(/https:\/\//);
    expect(() => serverFromLink('http://[bad/s#k')).toThrow(/not a valid URL/);
  });
});

describe('describeFailure: one exit code per error class', () => {
  it.each([
    [new UsageError('bad flag'), EXIT.usage, /bad flag/],
    [new InvalidLinkError('no key'), EXIT.usage, /no key/],
    [new CancelledError(), EXIT.cancelled, /Cancelled/],
    [new InvalidRequestError(init), EXIT.usage, /Refused by the server: server says/],
    [new SecretNotFoundError({ ...init, status: 404 }), EXIT.notFound, /not found/],
    [new InvalidPassphraseError({ ...init, status: 401, attemptsLeft: 3 }), EXIT.wrongPassphrase, /^Wrong passphrase\. 3 tries left\.$/],
    [new InvalidPassphraseError({ ...init, status: 401, attemptsLeft: 1 }), EXIT.wrongPassphrase, /1 try left/],
    [new InvalidPassphraseError({ ...init, status: 401, attemptsLeft: 0 }), EXIT.wrongPassphrase, /last try: the secret is now destroyed/],
    [new InvalidPassphraseError({ ...init, status: 401 }), EXIT.wrongPassphrase, /^Wrong passphrase\.$/],
    [new RateLimitedError({ ...init, status: 429, retryAfterSeconds: 42 }), EXIT.rateLimited, /Retry in 42 seconds/],
    [new RateLimitedError({ ...init, status: 429, retryAfterSeconds: 1 }), EXIT.rateLimited, /Retry in 1 second\./],
    [new RateLimitedError({ ...init, status: 429 }), EXIT.rateLimited, /Try again later/],
    [
      new UnavailableError({ ...init, status: 503, retryAfterSeconds: 1 }),
      EXIT.unavailable,
      /unavailable.*Retry in 1 second.*request id req-1/,
    ],
    [new VanishNetworkError('Could not reach'), EXIT.unavailable, /Could not reach/],
    [new PayloadTooLargeError({ ...init, status: 413 }), EXIT.tooLarge, /Too large: server says/],
    [new EndpointNotFoundError({ ...init, status: 404 }), EXIT.other, /is --server .* a vanish server/],
    [new InternalServerError({ ...init, status: 500 }), EXIT.other, /500 internal/],
    [
      new VanishApiError('teapot', { ...init, status: 418, requestId: undefined }),
      EXIT.other,
      /^The server answered 418 teapot: server says$/,
    ],
    [new VanishProtocolError('not JSON', 200), EXIT.other, /not JSON/],
    [new TypeError('boom hunter22'), EXIT.other, /^Unexpected failure \(TypeError\)\.$/],
    ['a string', EXIT.other, /Unexpected failure \(string\)/],
  ])('%s → its exit code and message', (err, code, message) => {
    const failure = describeFailure(err);
    expect(failure.code).toBe(code);
    expect(failure.message).toMatch(message);
  });

  it('the codes are distinct and all in the help', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    expect(EXIT_CODE_HELP.map(([c]) => c).sort()).toEqual([...codes].sort());
    for (const [code, text] of EXIT_CODE_HELP) expect(CLIENT_HELP).toContain(`${String(code).padStart(3)}  ${text}`);
  });
});

describe('passphrases and input', () => {
  it('generates 24 base64url characters (144 bits), different each time', () => {
    const seen = new Set(Array.from({ length: 200 }, generatePassphrase));
    expect(seen.size).toBe(200);
    for (const p of seen) expect(p).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(GENERATED_PASSPHRASE_BITS).toBe(144);
    // Every one of the 64 characters turns up: the alphabet is the whole base64url set.
    expect(new Set([...seen].join('')).size).toBe(64);
  });

  it('takes the first line of a passphrase file, without its line ending, spaces kept', () => {
    expect(passphraseFromFile(Buffer.from('correct horse \r\nnotes'))).toBe('correct horse ');
    expect(passphraseFromFile(Buffer.from('only line'))).toBe('only line');
    expect(passphraseFromFile(Buffer.from('pässwört ✓\n'))).toBe('pässwört ✓');
    expect(() => passphraseFromFile(Buffer.from('\nsecond'))).toThrow(/empty/);
    expect(() => passphraseFromFile(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => passphraseFromFile(Buffer.from([0xff, 0xfe, 0x41]))).toThrow(/not valid UTF-8/);
  });

  it('decodes a secret exactly, refusing empty input and invalid UTF-8', () => {
    expect(decodeSecret(Buffer.from('\uFEFFa\r\nb\n'), 'stdin')).toBe('\uFEFFa\r\nb\n');
    expect(() => decodeSecret(Buffer.alloc(0), 'stdin')).toThrow(/empty: nothing came from stdin/);
    expect(() => decodeSecret(Buffer.from([0x61, 0xc3]), 'stdin')).toThrow(/not valid UTF-8/);
  });

  it('reads a stream of strings and bytes to the end, zeroing the chunks it was handed', async () => {
    const chunk = Buffer.from('ab');
    const view = new Uint8Array(new Uint8Array([0x78, 0x65, 0x78]).buffer, 1, 1);
    expect((await readAll(Readable.from([chunk, 'cd', view]))).toString()).toBe('abcde');
    expect([...chunk]).toEqual([0, 0]);
    expect([...new Uint8Array(view.buffer)]).toEqual([0x78, 0, 0x78]);
  });

  it('names the flag and the reason when a file cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vanish-cli-unit-'));
    try {
      expect(() => readFileForFlag(join(dir, 'missing'), '--file')).toThrow(/Cannot read --file .*missing: no such file/);
      expect(() => readFileForFlag(dir, '--file')).toThrow(/it is a folder/);
      if (process.getuid?.() !== 0) {
        writeFileSync(join(dir, 'locked'), 'x', { mode: 0o000 });
        expect(() => readFileForFlag(join(dir, 'locked'), '--passphrase-file')).toThrow(/permission denied/);
      }
      mkdirSync(join(dir, 'sub'));
      expect(() => readFileForFlag(join(dir, 'sub', 'x', 'y'), '--file')).toThrow(/no such file/);
      expect(() => readFileForFlag(join(dir, 'sub', 'x\0'), '--file')).toThrow(/Cannot read --file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(90)).toBe('1 min 30 s');
    expect(formatDuration(93_784)).toBe('1 d 2 h 3 min 4 s');
  });
});

describe('HiddenLine: the hidden prompt line editor', () => {
  it('collects typed and pasted text, multi-byte included, until Enter', () => {
    const line = new HiddenLine();
    expect(line.feed('pä')).toBe('more');
    expect(line.feed('ss ✓')).toBe('more');
    expect(line.feed('\r')).toBe('done');
    expect(line.value).toBe('päss ✓');
    const pasted = new HiddenLine();
    expect(pasted.feed('whole paste\nignored')).toBe('done');
    expect(pasted.value).toBe('whole paste');
  });

  it('handles Backspace (by character), Ctrl-U, arrow keys and other control characters', () => {
    const line = new HiddenLine();
    line.feed('ab✓\x7f');
    expect(line.value).toBe('ab');
    line.feed('\b');
    expect(line.value).toBe('a');
    line.feed('\x1b[D\x1b[A\x1bOB\t\x01z');
    expect(line.value).toBe('az');
    line.feed('\x15');
    expect(line.value).toBe('');
    line.feed('new');
    line.clear();
    expect(line.value).toBe('');
  });

  it('cancels at Ctrl-C, and at Ctrl-D on an empty line; Ctrl-D after text ends the line', () => {
    expect(new HiddenLine().feed('abc\x03')).toBe('cancel');
    expect(new HiddenLine().feed('\x04')).toBe('cancel');
    const line = new HiddenLine();
    expect(line.feed('abc\x04')).toBe('done');
    expect(line.value).toBe('abc');
  });

  /** A terminal double that records raw-mode switches and writes in one timeline. */
  function fakeTerminal() {
    const events: string[] = [];
    const input = Object.assign(new EventEmitter(), {
      setRawMode: (mode: boolean) => void events.push(`raw:${mode}`),
      setEncoding: (encoding: string) => void events.push(`encoding:${encoding}`),
    });
    const output = { write: (text: string) => void events.push(`write:${text}`) };
    return { input, output, events };
  }

  it('askHidden turns echo off before writing the question, and back on after Enter', async () => {
    const t = fakeTerminal();
    const answer = askHidden('Passphrase: ', t.input, t.output);
    t.input.emit('data', 'hunter');
    t.input.emit('data', '22\r');
    expect(await answer).toBe('hunter22');
    expect(t.events).toEqual(['raw:true', 'write:Passphrase: ', 'encoding:utf8', 'write:\n', 'raw:false']);
  });

  it('askHidden: Ctrl-C rejects with CancelledError and restores the terminal; a read error too', async () => {
    const t = fakeTerminal();
    const answer = askHidden('Q: ', t.input, t.output);
    t.input.emit('data', 'abc\x03');
    await expect(answer).rejects.toBeInstanceOf(CancelledError);
    expect(t.events.at(-1)).toBe('raw:false');
    const broken = fakeTerminal();
    const failing = askHidden('Q: ', broken.input, broken.output);
    broken.input.emit('error', new Error('EIO'));
    await expect(failing).rejects.toThrow('EIO');
    expect(broken.events.at(-1)).toBe('raw:false');
    expect(describeFailure(new CancelledError()).code).toBe(130);
  });

  it('refuses to prompt without a terminal (a process with no controlling terminal), pointing to --passphrase-file', async () => {
    // vitest's workers have no controlling terminal when the suite runs under CI or a pipe;
    // where one exists this case proves nothing, so it says so.
    let hasTty = true;
    try {
      (await import('node:fs')).closeSync((await import('node:fs')).openSync('/dev/tty', 'r'));
    } catch {
      hasTty = false;
    }
    if (hasTty)
      return void console.warn('cli-client-unit: a controlling terminal exists; the no-terminal case is covered by cli-client.test.ts');
    await expect(promptHiddenOnTty('Passphrase: ')).rejects.toThrow(/No terminal.*--passphrase-file/);
  });

  it('processIo wires the real process', () => {
    const io = processIo();
    expect(io.stdout).toBe(process.stdout);
    expect(io.promptHidden).toBe(promptHiddenOnTty);
  });
});

// ---------------------------------------------------------------------------------------------

interface FakeIo extends CliIo {
  out: () => string;
  err: () => string;
  prompts: string[];
}

function fakeIo(
  options: {
    stdin?: string | Buffer;
    answers?: string[];
    env?: Record<string, string>;
    tty?: boolean;
    files?: Record<string, string | Buffer>;
  } = {},
): FakeIo {
  let out = '';
  let err = '';
  const prompts: string[] = [];
  const answers = [...(options.answers ?? [])];
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), {
    isTTY: options.tty ?? false,
  });
  return {
    env: options.env ?? {},
    stdin,
    stdout: {
      write: (c: string | Uint8Array) => {
        out += String(c);
      },
      isTTY: options.tty ?? false,
    },
    stderr: {
      write: (c: string | Uint8Array) => {
        err += String(c);
      },
      isTTY: options.tty ?? false,
    },
    async promptHidden(question: string) {
      prompts.push(question);
      const answer = answers.shift();
      if (answer === undefined) throw new UsageError('No terminal to ask for the passphrase on: give --passphrase-file PATH.');
      return answer;
    },
    readFile(path: string, what: string) {
      const content = options.files?.[path];
      if (content === undefined) return readFileForFlag(path, what);
      return Buffer.from(content);
    },
    out: () => out,
    err: () => err,
    prompts,
  };
}

describe('share and reveal in-process, against a real server', () => {
  let server: TestServer;
  let limited: TestServer;
  const PASS = 'correct horse battery';

  beforeAll(async () => {
    server = await startTestServer({ VANISH_STORE: 'memory', VANISH_MAX_SECRET_BYTES: '64', VANISH_MAX_ATTEMPTS: '3' });
    limited = await startTestServer({ VANISH_STORE: 'memory', VANISH_RATE_LIMIT: '1' });
  });
  afterAll(async () => {
    await server?.close();
    await limited?.close();
  });

  const share = async (args: string[], io: FakeIo) => ({ code: await runShare(['--server', server.url, ...args], io), io });

  it('shares stdin with a prompted passphrase (asked twice) and reveals it exactly', async () => {
    const secret = 'line one\nligne deux — ✓\n';
    const { code, io } = await share(['--ttl', '1h'], fakeIo({ stdin: secret, answers: [PASS, PASS] }));
    expect(io.err()).toMatch(/Expires .*\(in 1 h\).*read once\.\nSend the passphrase by another channel/s);
    expect(code).toBe(0);
    expect(io.prompts).toHaveLength(2);
    const lines = io.out().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${server.url}/s#[A-Za-z0-9_-]{40,}$`));
    const reader = fakeIo({ answers: [PASS] });
    expect(await runReveal([lines[0]!], reader)).toBe(0);
    expect(reader.out()).toBe(secret);
    expect(reader.err()).toBe('');
    expect(server.logs.join('')).not.toContain(lines[0]!.split('#')[1]!);
  });

  it('with a terminal: hints how to end the secret, and after the secret puts a newline on stderr, then a note', async () => {
    const { code, io } = await share(['--passphrase-file', 'pp'], fakeIo({ stdin: 'no newline', tty: true, files: { pp: `${PASS}\n` } }));
    expect(code).toBe(0);
    expect(io.err()).toMatch(/^Type or paste the secret, then press Ctrl-D/);
    const reader = fakeIo({ tty: true, answers: [PASS], env: { VANISH_URL: server.url } });
    expect(await runReveal([io.out().trim().split('#')[1]!], reader)).toBe(0);
    expect(reader.out()).toBe('no newline');
    expect(reader.err()).toBe('\n(The secret is now destroyed on the server.)\n');
  });

  it('--generate prints the passphrase on line 2; --json prints one object', async () => {
    const { code, io } = await share(['--generate'], fakeIo({ stdin: 'x' }));
    expect(code).toBe(0);
    const [link, passphrase, rest] = io.out().split('\n');
    expect(passphrase).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(rest).toBe('');
    expect(io.err()).toContain('144 random bits');
    const reader = fakeIo({ answers: [passphrase!] });
    expect(await runReveal([link!], reader)).toBe(0);
    expect(reader.out()).toBe('x');

    const json = await share(['--json', '--ttl', '90s'], fakeIo({ stdin: 'y', answers: ['another passphrase', 'another passphrase'] }));
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.io.out()) as ShareJson;
    expect(Object.keys(parsed)).toEqual(['link', 'secret_key', 'expires_at', 'ttl']);
    expect(parsed.ttl).toBe(90);
    expect(parsed.link).toBe(`${server.url}/s#${parsed.secret_key}`);
    expect(json.io.err()).toBe('');
    const generated = await share(['--json', '--generate'], fakeIo({ stdin: 'z' }));
    expect((JSON.parse(generated.io.out()) as ShareJson).passphrase).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('reads the secret from --file, and the link from stdin with "-"', async () => {
    const { code, io } = await share(
      ['--file', 'secret.txt', '--passphrase-file', 'pp'],
      fakeIo({ files: { 'secret.txt': 'from a file', pp: PASS } }),
    );
    expect(code).toBe(0);
    const reader = fakeIo({ stdin: `${io.out()}`, files: { pp: PASS } });
    expect(await runReveal(['-', '--passphrase-file', 'pp'], reader)).toBe(0);
    expect(reader.out()).toBe('from a file');
  });

  it.each([
    [['--passphrase', PASS], {}, /never takes a passphrase/],
    [['extra'], {}, /takes no arguments/],
    [['--ttl', 'soon'], {}, /Invalid --ttl/],
    [['--generate', '--passphrase-file', 'pp'], {}, /either --generate or --passphrase-file/],
    [[], { stdin: '' }, /empty/],
    [[], { stdin: Buffer.from([0xc3, 0x28]) }, /not valid UTF-8/],
    [['--file', '/nonexistent/secret'], {}, /Cannot read --file/],
    [[], { stdin: 'x', answers: [PASS, 'something else'] }, /differ; nothing was sent/],
    [[], { stdin: 'x', answers: [''] }, /No passphrase was typed/],
    [[], { stdin: 'x' }, /No terminal/],
    [[], { stdin: 'x', answers: ['short', 'short'] }, /Refused by the server: .*passphrase/],
    [['--ttl', '10'], { stdin: 'x', answers: [PASS, PASS] }, /Refused by the server: .*ttl/i],
  ] as const)('share %j exits 2 (usage/invalid input)', async (args, options, message) => {
    const { code, io } = await share([...args], fakeIo(options as Parameters<typeof fakeIo>[0]));
    expect(io.err()).toMatch(message);
    expect(code).toBe(EXIT.usage);
    expect(io.out()).toBe('');
    expect(io.err()).not.toContain(PASS);
  });

  it('share: a secret over the server limit exits 7; an unknown server path exits 1', async () => {
    const big = await share(['--generate'], fakeIo({ stdin: 'x'.repeat(65) }));
    expect(big.code).toBe(EXIT.tooLarge);
    expect(big.io.err()).toMatch(/Too large/);
    const wrong = await runShare(['--server', `${server.url}/not-vanish`, '--generate'], fakeIo({ stdin: 'x' }));
    expect(wrong).toBe(EXIT.other);
  });

  it('reveal: wrong passphrase exits 4 with tries left, then destroyed; not found exits 3', async () => {
    const { io } = await share(['--passphrase-file', 'pp'], fakeIo({ stdin: 's', files: { pp: PASS } }));
    const link = io.out().trim();
    const tries: string[] = [];
    for (let i = 0; i < 3; i++) {
      const reader = fakeIo({ answers: ['wrong passphrase'] });
      expect(await runReveal([link], reader)).toBe(EXIT.wrongPassphrase);
      expect(reader.out()).toBe('');
      tries.push(reader.err());
    }
    expect(tries[0]).toBe('vanish reveal: Wrong passphrase. 2 tries left.\n');
    expect(tries[1]).toBe('vanish reveal: Wrong passphrase. 1 try left.\n');
    expect(tries[2]).toMatch(/last try: the secret is now destroyed/);
    const reader = fakeIo({ answers: [PASS] });
    expect(await runReveal([link], reader)).toBe(EXIT.notFound);
    expect(reader.err()).toMatch(/Secret not found/);
  });

  it.each([
    [[], /needs the link/],
    [['a', 'b'], /one link or key/],
    [['https://h.example/s'], /no secret key/],
    [['https://h.example/s#k', '--server', 'https://other.example'], /link is for https:\/\/h.example but --server says/],
    [['k', '--passphrase-file', '/nonexistent/pp'], /Cannot read --passphrase-file/],
    [['k'], /No passphrase was typed/, ['']],
    [['k', '-p', PASS], /never takes a passphrase/],
  ] as const)('reveal %j exits 2', async (args, message, answers: readonly string[] = []) => {
    const reader = fakeIo({ answers: [...answers], env: { VANISH_URL: server.url } });
    expect(await runReveal([...args], reader)).toBe(EXIT.usage);
    expect(reader.err()).toMatch(message);
    expect(reader.err()).not.toContain(PASS);
  });

  it('reveal: a link to the same server as --server is fine; plain HTTP elsewhere warns; a closed port exits 6', async () => {
    const { io } = await share(['--passphrase-file', 'pp'], fakeIo({ stdin: 'same', files: { pp: PASS } }));
    const reader = fakeIo({ files: { pp: PASS } });
    expect(await runReveal([io.out().trim(), '--server', `${server.url}/`, '--passphrase-file', 'pp'], reader)).toBe(0);
    expect(reader.out()).toBe('same');
    const far = fakeIo({ files: { pp: PASS } });
    const code = await runReveal(['http://vanish.invalid/s#key', '--passphrase-file', 'pp'], far);
    expect(far.err()).toMatch(/warning: http:\/\/vanish.invalid is plain HTTP/);
    expect(code).toBe(EXIT.unavailable);
    const closed = fakeIo({ stdin: 'x', files: { pp: PASS } });
    expect(await runShare(['--server', 'http://127.0.0.1:1', '--passphrase-file', 'pp'], closed)).toBe(EXIT.unavailable);
    expect(closed.err()).toMatch(/Could not reach the vanish server at http:\/\/127.0.0.1:1/);
  });

  it('rate limited exits 5 and says when to retry', async () => {
    const first = fakeIo({ stdin: 'x' });
    expect(await runShare(['--server', limited.url, '--generate'], first)).toBe(0);
    const second = fakeIo({ stdin: 'x' });
    expect(await runShare(['--server', limited.url, '--generate'], second)).toBe(EXIT.rateLimited);
    expect(second.err()).toMatch(/Rate limited: .* Retry in \d+ seconds?\./);
  });

  it('uses an injected fetch when given one', async () => {
    let calls = 0;
    const io = fakeIo({ stdin: 'x' });
    io.fetch = (input, requestInit) => {
      calls++;
      return fetch(input, requestInit);
    };
    expect(await runShare(['--server', server.url, '--generate'], io)).toBe(0);
    expect(calls).toBe(1);
  });
});
