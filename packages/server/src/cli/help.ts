import { DEFAULT_SERVER_URL } from './args.js';
import { EXIT_CODE_HELP } from './exit-codes.js';
import { GENERATED_PASSPHRASE_BITS, GENERATED_PASSPHRASE_CHARS } from './passphrase.js';

/**
 * The `--help` section of the client commands, `vanish share` and `vanish reveal`.
 *
 * @remarks Option lines are indented by four spaces so they never read as rows of the `serve`
 * settings table.
 */
export const CLIENT_HELP = `Client commands (talk to a vanish server; the secret and the passphrase never go in an argument):
  vanish share [flags] < FILE     store the secret read from stdin; print its link
    --file PATH                   read the secret from PATH instead of stdin
    --ttl DURATION                lifetime: 3600, 90s, 30m, 1h, 7d or 1h30m (default: the server's)
    --passphrase-file PATH        the passphrase is PATH's first line (default: asked twice, not shown)
    --generate                    make a random passphrase (${GENERATED_PASSPHRASE_CHARS} base64url characters, ${GENERATED_PASSPHRASE_BITS} bits) and print it
    --json                        print {"link","secret_key","expires_at","ttl","passphrase"?} on one line
  vanish reveal LINK [flags]      write the secret to stdout (nothing else, no newline added)
    LINK                          a share link (its own server is used), a bare key, or - (the link on stdin)
    --passphrase-file PATH        the passphrase is PATH's first line (default: asked, not shown)
  Both:
    --server URL                  the server (or VANISH_URL; default ${DEFAULT_SERVER_URL})
  The secret is every byte of the input, as UTF-8 text (use printf, not echo, to leave out the newline).
  Passphrase prompts are on the terminal (/dev/tty), so stdin and stdout may be pipes.
  --passphrase VALUE is refused: arguments land in shell history and in \`ps\`.

Exit codes of share and reveal:
${EXIT_CODE_HELP.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`).join('\n')}
`;
