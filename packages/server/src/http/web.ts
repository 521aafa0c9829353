import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { ACCESS_MESSAGE, type Logger } from '../logger.js';
import { HttpError } from './errors.js';
import { SECURITY_HEADERS } from './headers.js';
import { standaloneErrorReply } from './pipeline.js';
import type { ApiReply, ApiRequest } from './types.js';

/**
 * The Content-Security-Policy of the web pages: scripts, styles, images and API calls from the
 * page's own origin only; no inline script or style, no framing, no `<base>`, forms post home.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** `Cache-Control` of the hashed static assets: their names change whenever their content does. */
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** Media types of the files a web build contains; other files are not served. */
const TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
});

interface WebFile {
  body: string;
  type: string;
}

/** The built web page, held in memory: the two pages and the hashed assets. */
export interface WebSite {
  /** `/` (send) and `/s` (read) */
  readonly pages: ReadonlyMap<string, WebFile>;
  /** by request path, e.g. `/assets/send-3f9a.js` */
  readonly assets: ReadonlyMap<string, WebFile>;
}

/**
 * Finds the `dist/` folder of the `@vanish/web` package.
 *
 * @returns the folder, or `undefined` when the package is not installed
 */
export function webDistDir(): string | undefined {
  // In the CJS build `import.meta` is empty; `__filename` exists there instead.
  const here = (import.meta as { url?: string }).url ?? pathToFileURL(__filename).href;
  try {
    return join(dirname(createRequire(here).resolve('@vanish/web/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/**
 * Reads a web build into memory, once.
 *
 * @param dir - the build folder (default: `@vanish/web`'s `dist/`)
 * @returns the site, or `undefined` when there is no build (no `index.html` and `s/index.html`)
 */
export function loadWebSite(dir: string | undefined = webDistDir()): WebSite | undefined {
  if (!dir) return undefined;
  let files: string[];
  try {
    files = walk(dir);
  } catch {
    return undefined;
  }
  const pages = new Map<string, WebFile>();
  const assets = new Map<string, WebFile>();
  for (const file of files) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    const path = relative(dir, file).split(sep).join('/');
    const body = readFileSync(file, 'utf8');
    if (path === 'index.html') pages.set('/', { body, type });
    else if (path === 's/index.html') pages.set('/s', { body, type });
    else if (path.startsWith('assets/')) assets.set(`/${path}`, { body, type });
  }
  return pages.size === 2 ? { pages, assets } : undefined;
}

/**
 * Builds the handler for the web routes: `GET /` (send), `GET /s` (read; the key travels in the
 * fragment, which no request carries) and `GET /assets/<hashed name>`.
 *
 * @param site - the build, or `undefined` when it is missing: the pages then answer a JSON 404
 *   that says how to build them
 * @param logger - access log (paths only; a web path never holds a key)
 * @returns a function that answers a web request, or returns `undefined` for any other path
 */
export function createWebHandler(site: WebSite | undefined, logger: Logger): (req: ApiRequest) => ApiReply | undefined {
  if (!site) logger.warn('VANISH_WEB is on but the web page (@vanish/web) is not built; / and /s answer 404 until it is.');
  const isPage = (path: string) => path === '/' || path === '/s';
  return (req) => {
    const page = isPage(req.path);
    const asset = req.path.startsWith('/assets/') ? site?.assets.get(req.path) : undefined;
    if (!page && !asset) return undefined;
    const requestId = uuidv7();
    let reply: ApiReply;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply = standaloneErrorReply(new HttpError('method_not_allowed', 'Use GET, HEAD for this path.', { Allow: 'GET, HEAD' }), requestId);
    } else if (page && !site) {
      reply = standaloneErrorReply(
        new HttpError(
          'not_found',
          'The web page is not built: its files come with the @vanish/web package; in a checkout of vanish, run "npm run build". The JSON API works without it.',
        ),
        requestId,
      );
    } else {
      const file = page ? site!.pages.get(req.path)! : asset!;
      const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': file.type, 'X-Request-Id': requestId };
      if (page) {
        headers['Content-Security-Policy'] = PAGE_CSP;
      } else {
        headers['Cache-Control'] = ASSET_CACHE_CONTROL;
        delete headers['Pragma'];
      }
      reply = { status: 200, headers, body: req.method === 'HEAD' ? '' : file.body };
    }
    logger.info({ requestId, method: req.method, route: page ? req.path : '/assets/{name}', status: reply.status }, ACCESS_MESSAGE);
    return reply;
  };
}
