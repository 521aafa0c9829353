import { errorForCode, VanishNetworkError, VanishProtocolError } from './errors.js';
import { buildLink, parseLink } from './links.js';

/** A `fetch` function: the global one, or any compatible (a test double, undici's, a proxy agent's). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** How to reach a vanish server. */
export interface VanishClientOptions {
  /** the server's address, e.g. `https://vanish.example.com` (a path prefix is kept) */
  baseUrl: string | URL;
  /** the `fetch` to use; default: the global `fetch` of the runtime */
  fetch?: FetchLike;
}

/** Per-call options. */
export interface CallOptions {
  /** aborts the request; the call then rejects with {@link VanishNetworkError} */
  signal?: AbortSignal;
}

/** What {@link VanishClient.createSecret} sends. */
export interface CreateSecretInput {
  /** the secret, at most the server's `maxSecretBytes` UTF-8 bytes */
  secret: string;
  /** 8 to 256 characters; the reader needs it, so send it by another channel than the link */
  passphrase: string;
  /** lifetime in whole seconds within the server's bounds; default: the server's default */
  ttl?: number;
}

/** A created secret. */
export interface CreatedSecret {
  /** the key that, with the passphrase, reads the secret once */
  secretKey: string;
  /** when the secret expires */
  expiresAt: Date;
  /** the lifetime the server applied, in seconds */
  ttl: number;
  /** the share link, `<baseUrl>/s#<secretKey>` (see {@link buildLink}) */
  link: string;
}

/** The server's bounds, from `GET /limits`. */
export interface ServerLimits {
  /** shortest lifetime, seconds */
  minTtl: number;
  /** longest lifetime, seconds */
  maxTtl: number;
  /** lifetime when none is given, seconds */
  defaultTtl: number;
  /** largest secret, UTF-8 bytes */
  maxSecretBytes: number;
  /** wrong passphrases before a secret is destroyed */
  maxAttempts: number;
  /** shortest passphrase, characters */
  passphraseMinChars: number;
  /** longest passphrase, characters */
  passphraseMaxChars: number;
}

/** A client bound to one vanish server. */
export interface VanishClient {
  /** the normalized server address */
  readonly baseUrl: string;
  /**
   * Stores a secret (`POST /generate`).
   *
   * @param input - secret, passphrase, optional TTL
   * @param options - abort signal
   * @returns the key, expiry, effective TTL and share link
   * @throws {@link InvalidRequestError}, {@link PayloadTooLargeError}, {@link RateLimitedError},
   *   {@link UnavailableError}, another {@link VanishApiError}, {@link VanishNetworkError} or {@link VanishProtocolError}
   */
  createSecret(input: CreateSecretInput, options?: CallOptions): Promise<CreatedSecret>;
  /**
   * Reads a secret once (`POST /reveal`: the key travels in the body, never in a URL).
   *
   * @param keyOrLink - a share link or a bare key (see {@link parseLink})
   * @param passphrase - the passphrase
   * @param options - abort signal
   * @returns the secret; it is destroyed on the server
   * @throws {@link InvalidPassphraseError} (with `attemptsLeft`), {@link SecretNotFoundError},
   *   {@link InvalidRequestError}, {@link RateLimitedError}, {@link UnavailableError},
   *   {@link InvalidLinkError} (nothing sent), {@link VanishNetworkError} or {@link VanishProtocolError}
   */
  revealSecret(keyOrLink: string, passphrase: string, options?: CallOptions): Promise<string>;
  /**
   * Reads the server's bounds (`GET /limits`).
   *
   * @param options - abort signal
   * @returns TTL bounds, secret size limit, attempts, passphrase length bounds
   */
  getLimits(options?: CallOptions): Promise<ServerLimits>;
  /**
   * The share link for a key on this server.
   *
   * @param secretKey - the key
   * @returns `<baseUrl>/s#<secretKey>`
   */
  buildLink(secretKey: string): string;
}

function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Creates a client for one vanish server.
 *
 * @example
 * ```ts
 * const vanish = createVanishClient({ baseUrl: 'https://vanish.example.com' });
 * const { link } = await vanish.createSecret({ secret: 'db password', passphrase: 'correct horse battery', ttl: 3600 });
 * const secret = await vanish.revealSecret(link, 'correct horse battery');
 * ```
 * @param options - the server address and, optionally, a `fetch`
 * @returns the client
 * @throws TypeError when `baseUrl` is not an absolute URL
 */
export function createVanishClient(options: VanishClientOptions): VanishClient {
  const base = new URL(String(options.baseUrl));
  const baseUrl = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  const call = async (method: 'GET' | 'POST', path: string, body: unknown, callOptions: CallOptions | undefined) => {
    const init: RequestInit = {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      // A redirect would carry a passphrase to wherever it points; a vanish server never redirects.
      redirect: 'error',
      // The API sets no cookies and needs none.
      credentials: 'omit',
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (callOptions?.signal) init.signal = callOptions.signal;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${baseUrl}${path}`, init);
      text = await response.text();
    } catch (err) {
      throw new VanishNetworkError(`Could not reach the vanish server at ${base.origin}.`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new VanishProtocolError(
        `The server at ${base.origin} did not answer with JSON (HTTP ${response.status}); is baseUrl a vanish server?`,
        response.status,
      );
    }
    if (!isRecord(json)) throw new VanishProtocolError('The server answered JSON that is not an object.', response.status);
    if (response.ok) return json;
    const error = json['error'];
    if (!isRecord(error) || typeof error['code'] !== 'string') {
      throw new VanishProtocolError(`The server answered HTTP ${response.status} without a vanish error body.`, response.status);
    }
    const attempts = error['attempts_left'];
    throw errorForCode(error['code'], {
      status: response.status,
      requestId: response.headers.get('x-request-id') ?? undefined,
      message: typeof error['message'] === 'string' ? error['message'] : `HTTP ${response.status}`,
      retryAfterSeconds: retryAfter(response.headers.get('retry-after')),
      attemptsLeft: typeof attempts === 'number' ? attempts : undefined,
    });
  };

  const field = <T>(json: Record<string, unknown>, name: string, type: 'string' | 'number', status = 200): T => {
    const value = json[name];
    if (typeof value !== type) throw new VanishProtocolError(`The server's answer has no "${name}".`, status);
    return value as T;
  };

  return {
    baseUrl,
    async createSecret(input, callOptions) {
      const body: Record<string, unknown> = { secret: input.secret, passphrase: input.passphrase };
      if (input.ttl !== undefined) body['ttl'] = input.ttl;
      const json = await call('POST', '/generate', body, callOptions);
      const secretKey = field<string>(json, 'secret_key', 'string', 201);
      return {
        secretKey,
        expiresAt: new Date(field<string>(json, 'expires_at', 'string', 201)),
        ttl: field<number>(json, 'ttl', 'number', 201),
        link: buildLink(baseUrl, secretKey),
      };
    },
    async revealSecret(keyOrLink, passphrase, callOptions) {
      const json = await call('POST', '/reveal', { secret_key: parseLink(keyOrLink), passphrase }, callOptions);
      return field<string>(json, 'secret', 'string');
    },
    async getLimits(callOptions) {
      const json = await call('GET', '/limits', undefined, callOptions);
      const n = (name: string) => field<number>(json, name, 'number');
      return {
        minTtl: n('min_ttl'),
        maxTtl: n('max_ttl'),
        defaultTtl: n('default_ttl'),
        maxSecretBytes: n('max_secret_bytes'),
        maxAttempts: n('max_attempts'),
        passphraseMinChars: n('passphrase_min_chars'),
        passphraseMaxChars: n('passphrase_max_chars'),
      };
    },
    buildLink: (secretKey) => buildLink(baseUrl, secretKey),
  };
}
