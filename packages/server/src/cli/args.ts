/**
 * Argument parsing for the client commands (`vanish share`, `vanish reveal`): flags, lifetimes
 * and the server address. Pure functions, no I/O.
 */

/** A mistake in how the command was called, or input it refuses before sending anything (exit 2). */
export class UsageError extends Error {
  /** @param message - a sentence for the user; never contains a secret, passphrase or key */
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The kind of each flag a command takes: `string` flags take a value, `boolean` flags stand alone. */
export type FlagSpec = Readonly<Record<string, 'string' | 'boolean'>>;

/** What {@link parseFlags} found. */
export interface ParsedFlags {
  /** flag values by name (without `--`): a string for value flags, `true` for boolean flags */
  flags: Record<string, string | true>;
  /** the arguments that are not flags, in order */
  positionals: string[];
}

/**
 * Refuses a passphrase given as a command-line argument, before anything else looks at the
 * arguments.
 *
 * @remarks `--passphrase VALUE`, `--passphrase=VALUE` and `-p` are refused with the reason: an
 * argument lands in the shell history and is visible to every local user in `ps` while the
 * command runs. The message never repeats the value.
 * @param args - the command's arguments
 * @throws {@link UsageError} when one of them is a passphrase flag
 */
export function refusePassphraseArgument(args: readonly string[]): void {
  for (const arg of args) {
    if (arg === '--') return;
    // -p, -pSECRET and -PSECRET too: the mysql habit of gluing the password to the flag
    if (/^--pass(phrase|word)?(=|$)/i.test(arg) || /^-p/i.test(arg)) {
      throw new UsageError(
        'vanish never takes a passphrase as a command-line argument: arguments land in your shell history ' +
          'and any local user can read them in `ps` while the command runs. Type it at the prompt (not shown), ' +
          'or give --passphrase-file PATH (its first line), or let `vanish share --generate` make one.',
      );
    }
  }
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name` flags; everything else is a positional.
 *
 * @remarks `--` ends the flags. A lone `-` is a positional. Error messages name the flag, never a value.
 * @param args - the command's arguments (after the command name)
 * @param spec - the flags the command knows
 * @returns the flags and positionals
 * @throws {@link UsageError} on an unknown flag, a value flag without value, a value given to a
 *   boolean flag, or a flag given twice
 */
export function parseFlags(args: readonly string[], spec: FlagSpec): ParsedFlags {
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const match = /^--([a-z][a-z0-9-]*)(?:=([\s\S]*))?$/.exec(arg);
    const name = match?.[1];
    const kind = name === undefined ? undefined : spec[name];
    if (match === null || name === undefined || kind === undefined) {
      throw new UsageError(`Unknown option "${unknownOptionName(arg, name)}". See \`vanish --help\`.`);
    }
    if (Object.hasOwn(flags, name)) throw new UsageError(`--${name} is given twice.`);
    const inline = match[2];
    if (kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value.`);
      flags[name] = true;
      continue;
    }
    if (inline !== undefined) {
      flags[name] = inline;
      continue;
    }
    const next = args[i + 1];
    if (next === undefined) throw new UsageError(`--${name} needs a value.`);
    flags[name] = next;
    i++;
  }
  return { flags, positionals };
}

/**
 * How an unknown option is named in its error: `--name` when it has that form, else its first
 * two characters (`-x…`), never more, since what follows may be a value glued to the flag.
 */
function unknownOptionName(arg: string, parsedName: string | undefined): string {
  if (parsedName !== undefined) return `--${parsedName}`;
  const name = arg.split('=')[0]!;
  if (/^--[A-Za-z][A-Za-z0-9-]{0,39}$/.test(name) || arg.length <= 2) return name;
  return `${arg.slice(0, 2)}…`;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parses a lifetime: whole seconds (`3600`), or numbers with units `s`, `m`, `h`, `d`, `w`,
 * alone or combined from the largest unit down (`90s`, `30m`, `1h`, `7d`, `1h30m`).
 *
 * @remarks The server checks the result against its own bounds (`GET /limits`); this only
 * refuses what is not a lifetime at all.
 * @param text - the `--ttl` value
 * @returns seconds, at least 1
 * @throws {@link UsageError} on anything else (empty, negative, fractions, unknown units, zero)
 */
export function parseTtl(text: string): number {
  const input = text.trim().toLowerCase();
  const explain = `Invalid --ttl "${text.slice(0, 40)}": give whole seconds (3600) or a number with a unit — s, m, h, d or w (90s, 30m, 1h, 7d, 1h30m).`;
  let seconds: number;
  if (/^\d+$/.test(input)) {
    seconds = Number(input);
  } else {
    const parts = [...input.matchAll(/(\d+)([smhdw])/gy)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== input) throw new UsageError(explain);
    const units = parts.map((p) => UNIT_SECONDS[p[2]!]!);
    if (units.some((u, i) => i > 0 && u >= units[i - 1]!)) throw new UsageError(explain);
    seconds = parts.reduce((sum, p, i) => sum + Number(p[1]) * units[i]!, 0);
  }
  if (!Number.isSafeInteger(seconds)) throw new UsageError(explain);
  if (seconds < 1) throw new UsageError(`Invalid --ttl "${text.slice(0, 40)}": a lifetime must be at least 1 second.`);
  return seconds;
}

/** Where the client commands send their requests when neither `--server` nor `VANISH_URL` says. */
export const DEFAULT_SERVER_URL = 'http://localhost:8000';

/** The address {@link resolveServer} settled on. */
export interface ResolvedServer {
  /** the server address as given (origin plus an optional path prefix) */
  url: string;
  /** a warning for stderr when the address is plain `http://` to a host other than this machine */
  warning: string | undefined;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
}

/**
 * Picks the server: `--server`, else `VANISH_URL`, else {@link DEFAULT_SERVER_URL}.
 *
 * @param flag - the `--server` value, if given
 * @param env - the environment (`VANISH_URL`)
 * @returns the address and, for plain HTTP to another machine, a warning
 * @throws {@link UsageError} when the address is not an `http://` or `https://` URL, or carries
 *   credentials, a query or a fragment
 */
export function resolveServer(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): ResolvedServer {
  const fromEnv = env['VANISH_URL'];
  const source = flag !== undefined ? '--server' : fromEnv !== undefined && fromEnv !== '' ? 'VANISH_URL' : undefined;
  const raw = source === '--server' ? flag! : source === 'VANISH_URL' ? fromEnv! : DEFAULT_SERVER_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`Invalid ${source}: not a URL. Give the server's address, e.g. https://vanish.example.com.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Invalid ${source}: only http:// and https:// addresses work.`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError(`Invalid ${source}: give the server's address without credentials, query or "#".`);
  }
  const warning =
    url.protocol === 'http:' && !isLoopback(url.hostname)
      ? `warning: ${url.origin} is plain HTTP: the secret and the passphrase cross the network unencrypted. Use https://.`
      : undefined;
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, warning };
}

/**
 * The server a share link names: `https://host/prefix/s#key` → `https://host/prefix`.
 *
 * @param linkOrKey - what was given to `vanish reveal`
 * @returns the server, or `undefined` for a bare key
 * @throws {@link UsageError} when it is a URL that is not `http://` or `https://`
 */
export function serverFromLink(linkOrKey: string): ResolvedServer | undefined {
  const input = linkOrKey.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) return undefined;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError('The link is not a valid URL. Paste the whole link, or only the key after "#".');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('The link must start with https:// or http://.');
  const base = `${url.origin}${url.pathname.replace(/\/s\/?$/, '').replace(/\/+$/, '')}`;
  return resolveServer(base, {});
}
