import { createVanishClient } from '@vanish/client';
import { parseFlags, parseTtl, refusePassphraseArgument, resolveServer, UsageError } from './args.js';
import { describeFailure, EXIT } from './exit-codes.js';
import { decodeSecret, readAll, type CliIo } from './io.js';
import { generatePassphrase, GENERATED_PASSPHRASE_BITS, passphraseFromFile } from './passphrase.js';

const FLAGS = {
  file: 'string',
  ttl: 'string',
  'passphrase-file': 'string',
  generate: 'boolean',
  json: 'boolean',
  server: 'string',
} as const;

/** What `vanish share --json` prints: one JSON object on one line. */
export interface ShareJson {
  /** the share link, `<server>/s#<secret_key>` */
  link: string;
  /** the key alone */
  secret_key: string;
  /** expiry, ISO 8601 UTC */
  expires_at: string;
  /** the lifetime the server applied, seconds */
  ttl: number;
  /** the passphrase, only with `--generate` */
  passphrase?: string;
}

async function passphraseFor(flags: Record<string, string | true>, io: CliIo): Promise<{ passphrase: string; generated: boolean }> {
  const file = flags['passphrase-file'];
  if (flags['generate'] === true) {
    return { passphrase: generatePassphrase(), generated: true };
  }
  if (typeof file === 'string') {
    const bytes = io.readFile(file, '--passphrase-file');
    try {
      return { passphrase: passphraseFromFile(bytes), generated: false };
    } finally {
      bytes.fill(0);
    }
  }
  const first = await io.promptHidden('Passphrase for the secret (not shown): ');
  if (first === '') throw new UsageError('No passphrase was typed.');
  const again = await io.promptHidden('The same passphrase again: ');
  if (again !== first) throw new UsageError('The two passphrases differ; nothing was sent.');
  return { passphrase: first, generated: false };
}

/**
 * `vanish share`: stores a secret read from stdin (or `--file`) and prints its link.
 *
 * @remarks The secret is every byte of the input, decoded as UTF-8 (a trailing newline is kept:
 * use `printf` rather than `echo` to leave it out). The passphrase comes from
 * `--passphrase-file` (its first line), `--generate`, or a prompt without echo on the terminal,
 * asked twice — never from an argument. stdout gets the link and, with `--generate`, the
 * passphrase, each on its own line, or with `--json` one object ({@link ShareJson}); everything
 * else goes to stderr.
 * @param args - the arguments after `share`
 * @param io - streams, environment, prompt and files
 * @returns the exit code (see {@link EXIT})
 */
export async function runShare(args: readonly string[], io: CliIo): Promise<number> {
  try {
    refusePassphraseArgument(args);
    const { flags, positionals } = parseFlags(args, FLAGS);
    if (positionals.length > 0) {
      throw new UsageError(
        'vanish share takes no arguments: the secret comes from stdin or --file PATH, never from the command line (shell history, `ps`).',
      );
    }
    const ttl = typeof flags['ttl'] === 'string' ? parseTtl(flags['ttl']) : undefined;
    const server = resolveServer(typeof flags['server'] === 'string' ? flags['server'] : undefined, io.env);
    if (server.warning) io.stderr.write(`vanish: ${server.warning}\n`);
    if (flags['generate'] === true && flags['passphrase-file'] !== undefined) {
      throw new UsageError('Give either --generate or --passphrase-file, not both.');
    }

    const file = flags['file'];
    let bytes: Buffer;
    if (typeof file === 'string') {
      bytes = io.readFile(file, '--file');
    } else {
      if (io.stdin.isTTY) io.stderr.write('Type or paste the secret, then press Ctrl-D on an empty line:\n');
      bytes = await readAll(io.stdin);
    }
    let secret: string;
    try {
      secret = decodeSecret(bytes, typeof file === 'string' ? file : 'stdin');
    } finally {
      bytes.fill(0);
    }

    const { passphrase, generated } = await passphraseFor(flags, io);
    const client = createVanishClient({ baseUrl: server.url, ...(io.fetch ? { fetch: io.fetch } : {}) });
    const created = await client.createSecret({ secret, passphrase, ...(ttl !== undefined ? { ttl } : {}) });

    if (flags['json'] === true) {
      const out: ShareJson = {
        link: created.link,
        secret_key: created.secretKey,
        expires_at: created.expiresAt.toISOString(),
        ttl: created.ttl,
      };
      if (generated) out.passphrase = passphrase;
      io.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      io.stdout.write(`${created.link}\n`);
      if (generated) io.stdout.write(`${passphrase}\n`);
      io.stderr.write(
        `Expires ${created.expiresAt.toISOString()} (in ${formatDuration(created.ttl)}); it can be read once.\n` +
          (generated ? `Line 2 is the generated passphrase (${GENERATED_PASSPHRASE_BITS} random bits). ` : '') +
          'Send the passphrase by another channel than the link.\n',
      );
    }
    return EXIT.ok;
  } catch (err) {
    const failure = describeFailure(err);
    io.stderr.write(`vanish share: ${failure.message}\n`);
    return failure.code;
  }
}

/**
 * Writes a lifetime in words, largest units first (`1 d 2 h`, `90 s` → `1 min 30 s`).
 *
 * @param seconds - whole seconds
 * @returns the text
 */
export function formatDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n} ${unit}`);
  }
  return parts.length === 0 ? '0 s' : parts.join(' ');
}
