import { closeSync, openSync, readFileSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import type { FetchLike } from '@vanish/client';
import { UsageError } from './args.js';
import { CancelledError } from './exit-codes.js';

/** A stream the commands write to (`process.stdout`, `process.stderr`, or a test's collector). */
export interface Output {
  /** writes text or bytes */
  write(chunk: string | Uint8Array): unknown;
  /** whether it is a terminal */
  isTTY?: boolean | undefined;
}

/**
 * Everything a client command touches outside itself, so it runs the same in the `vanish`
 * process and in a test.
 */
export interface CliIo {
  /** the environment (`VANISH_URL`) */
  env: Readonly<Record<string, string | undefined>>;
  /** where the secret comes from when there is no `--file` */
  stdin: AsyncIterable<Uint8Array | string> & { isTTY?: boolean | undefined };
  /** the command's result: the link, or the secret */
  stdout: Output;
  /** messages */
  stderr: Output;
  /** asks on the terminal without echo; throws {@link UsageError} when there is no terminal */
  promptHidden(question: string): Promise<string>;
  /** reads a whole file; throws {@link UsageError} when it cannot */
  readFile(path: string, what: string): Buffer;
  /** the `fetch` the client uses; default: the global one */
  fetch?: FetchLike | undefined;
}

/**
 * Reads a stream to its end.
 *
 * @remarks The chunks are zeroed once copied into the result; the caller zeroes the result.
 * @param stream - the stream
 * @returns all its bytes
 */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // A view of each chunk, not a copy, so zeroing below clears the bytes the stream handed over.
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return all;
}

/**
 * Decodes a secret's bytes as UTF-8, exactly: every byte kept, a leading BOM too.
 *
 * @param bytes - the secret as read
 * @param source - where it came from, for the message (`stdin`, `the file`)
 * @returns the text
 * @throws {@link UsageError} when the bytes are empty or not valid UTF-8
 */
export function decodeSecret(bytes: Uint8Array, source: string): string {
  if (bytes.length === 0) throw new UsageError(`The secret is empty: nothing came from ${source}.`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UsageError(
      `The secret from ${source} is not valid UTF-8 text; vanish shares text only (encode binary data, e.g. with base64).`,
    );
  }
}

/**
 * Reads a file given by a flag.
 *
 * @param path - the path
 * @param what - what it is, for the message (`--file`, `--passphrase-file`)
 * @returns its bytes
 * @throws {@link UsageError} naming the flag and the reason (no such file, a folder, no permission)
 */
export function readFileForFlag(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES'
            ? 'permission denied'
            : (code ?? 'unreadable');
    throw new UsageError(`Cannot read ${what} ${path}: ${reason}.`);
  }
}

/** The outcome of a key press at a hidden prompt. */
export type KeyResult = 'more' | 'done' | 'cancel';

/**
 * The line editor of a hidden prompt: collects what is typed or pasted, with Backspace, Ctrl-U
 * (clear), Enter (done), Ctrl-C and Ctrl-D on an empty line (cancel). Other control characters
 * and terminal escape sequences (arrow keys) are ignored, never added to the passphrase.
 */
export class HiddenLine {
  private chars: string[] = [];

  /**
   * Takes what the terminal sent.
   *
   * @param input - one chunk, decoded as UTF-8 (raw mode: one key, or a whole paste)
   * @returns `done` at Enter, `cancel` at Ctrl-C (or Ctrl-D on an empty line), else `more`
   */
  feed(input: string): KeyResult {
    // Terminal escape sequences (arrow keys and the like) are dropped, not typed.
    const text = input.replace(new RegExp(`${String.fromCharCode(0x1b)}(\\[[0-9;?]*[ -/]*[@-~]|O.|.)?`, 'g'), '');
    for (const ch of text) {
      if (ch === '\r' || ch === '\n') return 'done';
      if (ch === '\x03') return 'cancel';
      if (ch === '\x04') {
        if (this.chars.length === 0) return 'cancel';
        return 'done';
      }
      if (ch === '\x7f' || ch === '\b') this.chars.pop();
      else if (ch === '\x15') this.chars = [];
      else if (ch >= ' ') this.chars.push(ch);
    }
    return 'more';
  }

  /** what was typed so far */
  get value(): string {
    return this.chars.join('');
  }

  /** forgets what was typed */
  clear(): void {
    this.chars.fill('');
    this.chars = [];
  }
}

/** The terminal side of a hidden prompt: what {@link askHidden} needs of a `tty.ReadStream`. */
export interface RawInput {
  /** turns raw mode (no echo, no line editing, no signals) on or off */
  setRawMode(mode: boolean): unknown;
  /** decodes input as text */
  setEncoding(encoding: 'utf8'): unknown;
  /** listens for input (text, after `setEncoding`) */
  on(event: 'data', listener: (chunk: string) => void): unknown;
  /** listens for a read error */
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Asks a question with echo off and reads the answer with {@link HiddenLine}.
 *
 * @remarks Raw mode (echo off) is set before the question is written, so nothing typed after
 * the question can be echoed; it is turned off again before this returns or throws.
 * @param question - the prompt
 * @param input - the terminal's input (raw mode capable)
 * @param output - the terminal's output
 * @returns what was typed before Enter
 * @throws {@link CancelledError} at Ctrl-C, or Ctrl-D on an empty line
 */
export async function askHidden(question: string, input: RawInput, output: { write(text: string): unknown }): Promise<string> {
  const line = new HiddenLine();
  input.setRawMode(true);
  try {
    output.write(question);
    const result = await new Promise<KeyResult>((resolve, reject) => {
      input.setEncoding('utf8');
      input.on('error', reject);
      input.on('data', (chunk: string) => {
        const r = line.feed(chunk);
        if (r !== 'more') resolve(r);
      });
    });
    output.write('\n');
    if (result === 'cancel') throw new CancelledError();
    return line.value;
  } finally {
    line.clear();
    input.setRawMode(false);
  }
}

/**
 * Asks a question on the controlling terminal (`/dev/tty`) with echo off (see {@link askHidden}),
 * so it works while stdin and stdout are pipes (`… | vanish share`, `vanish reveal … > file`).
 *
 * @param question - the prompt, e.g. `Passphrase: `
 * @returns what was typed before Enter
 * @throws {@link UsageError} when the process has no terminal; {@link CancelledError} at Ctrl-C
 */
export async function promptHiddenOnTty(question: string): Promise<string> {
  const noTerminal = () =>
    new UsageError('No terminal to ask for the passphrase on: give --passphrase-file PATH (or, for share, --generate).');
  let inFd: number;
  let outFd: number;
  try {
    inFd = openSync('/dev/tty', 'r');
  } catch {
    throw noTerminal();
  }
  try {
    outFd = openSync('/dev/tty', 'w');
  } catch {
    closeSync(inFd);
    throw noTerminal();
  }
  const input = new ReadStream(inFd);
  const output = new WriteStream(outFd);
  try {
    return await askHidden(question, input, output);
  } finally {
    input.destroy();
    await new Promise<void>((resolve) => output.end(resolve));
  }
}

/**
 * The real process: `process.env`, the standard streams, `/dev/tty` and the file system.
 *
 * @returns the io of the `vanish` process
 */
export function processIo(): CliIo {
  return {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    promptHidden: promptHiddenOnTty,
    readFile: readFileForFlag,
  };
}
