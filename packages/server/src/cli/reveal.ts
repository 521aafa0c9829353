import { createVanishClient, parseLink } from '@vanish/client';
import { parseFlags, refusePassphraseArgument, resolveServer, serverFromLink, UsageError } from './args.js';
import { describeFailure, EXIT } from './exit-codes.js';
import { readAll, type CliIo } from './io.js';
import { passphraseFromFile } from './passphrase.js';

const FLAGS = {
  'passphrase-file': 'string',
  server: 'string',
} as const;

/**
 * `vanish reveal <link|key>`: reads a secret once and writes it to stdout, exactly — no newline
 * added, nothing else on stdout.
 *
 * @remarks A link names its server, which is used; `--server`/`VANISH_URL` serve bare keys (an
 * explicit `--server` that contradicts the link is refused). `-` reads the link from stdin's
 * first line, so it stays out of shell history and `ps`. The key travels in the body of
 * `POST /reveal`, never in a URL. The passphrase comes from `--passphrase-file` or a prompt
 * without echo on the terminal. When stdout is a terminal and the secret does not end with a
 * newline, a newline goes to stderr so the shell prompt starts on its own line.
 * @param args - the arguments after `reveal`
 * @param io - streams, environment, prompt and files
 * @returns the exit code (see {@link EXIT})
 */
export async function runReveal(args: readonly string[], io: CliIo): Promise<number> {
  try {
    refusePassphraseArgument(args);
    const { flags, positionals } = parseFlags(args, FLAGS);
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'vanish reveal needs the link (or the key, or "-" to read the link from stdin).'
          : 'vanish reveal takes one link or key.',
      );
    }
    let target = positionals[0]!;
    if (target === '-') {
      const bytes = await readAll(io.stdin);
      target = bytes.toString('utf8').split(/\r?\n/)[0]!;
      bytes.fill(0);
    }
    const key = parseLink(target);
    const explicit = typeof flags['server'] === 'string' ? flags['server'] : undefined;
    const fromLink = serverFromLink(target);
    let server = resolveServer(explicit, io.env);
    if (fromLink !== undefined) {
      if (explicit !== undefined && server.url !== fromLink.url) {
        throw new UsageError(`The link is for ${fromLink.url} but --server says ${server.url}; drop --server, or give the key alone.`);
      }
      server = fromLink;
    }
    if (server.warning) io.stderr.write(`vanish: ${server.warning}\n`);

    const file = flags['passphrase-file'];
    let passphrase: string;
    if (typeof file === 'string') {
      const bytes = io.readFile(file, '--passphrase-file');
      try {
        passphrase = passphraseFromFile(bytes);
      } finally {
        bytes.fill(0);
      }
    } else {
      passphrase = await io.promptHidden('Passphrase (not shown): ');
      if (passphrase === '') throw new UsageError('No passphrase was typed.');
    }

    const client = createVanishClient({ baseUrl: server.url, ...(io.fetch ? { fetch: io.fetch } : {}) });
    const secret = await client.revealSecret(key, passphrase);
    io.stdout.write(secret);
    if (io.stdout.isTTY && !secret.endsWith('\n')) io.stderr.write('\n');
    if (io.stderr.isTTY) io.stderr.write('(The secret is now destroyed on the server.)\n');
    return EXIT.ok;
  } catch (err) {
    const failure = describeFailure(err);
    io.stderr.write(`vanish reveal: ${failure.message}\n`);
    return failure.code;
  }
}
