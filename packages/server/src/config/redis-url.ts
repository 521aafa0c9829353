import { ConfigurationError } from '@vanish/core';

/** A Redis deployment parsed from `REDIS_URL`. */
export type RedisTarget =
  | { kind: 'standalone'; url: string }
  | {
      kind: 'sentinel' | 'cluster';
      tls: boolean;
      hosts: { host: string; port: number }[];
      username?: string;
      password?: string;
      name?: string;
      db?: number;
    };

const MULTI_HOST = /^(rediss?)\+(sentinel|cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^?#]*))?$/;

/**
 * Reads `REDIS_URL`.
 *
 * @remarks Accepted forms:
 * - `redis://[user:password@]host:port[/db]` and `rediss://…` (TLS): one server
 * - `redis+sentinel://[user:password@]host:port,host:port/master-name[/db]`: Sentinel; the
 *   credentials are those of the Redis servers
 * - `redis+cluster://[user:password@]host:port,host:port`: Cluster seed nodes
 *
 * (`rediss+sentinel` and `rediss+cluster` use TLS.)
 * @param url - the setting's value
 * @returns the parsed target
 * @throws {@link ConfigurationError} naming `REDIS_URL` (without echoing the URL, which may hold a password)
 */
export function parseRedisUrl(url: string): RedisTarget {
  const invalid = (why: string) =>
    new ConfigurationError(
      `Invalid REDIS_URL: ${why}. Expected redis://host:port[/db], rediss://…, redis+sentinel://host:port,…/master or redis+cluster://host:port,…`,
    );
  if (/^rediss?:\/\/[^,]*$/.test(url)) {
    try {
      new URL(url);
    } catch {
      throw invalid('it is not a URL');
    }
    return { kind: 'standalone', url };
  }
  const m = MULTI_HOST.exec(url);
  if (!m) throw invalid('unknown scheme or form');
  const [, scheme, kind, user, password, hostList, path] = m;
  const hosts = hostList!.split(',').map((h) => {
    const hm = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(h);
    const port = hm ? Number(hm[2]) : 0;
    if (!hm || port < 1 || port > 65535) throw invalid('every host needs a host:port');
    return { host: hm[1]!.replace(/^\[|\]$/g, ''), port };
  });
  const parts = (path ?? '').split('/').filter(Boolean);
  const target: RedisTarget = { kind: kind as 'sentinel' | 'cluster', tls: scheme === 'rediss', hosts };
  if (user) target.username = decodeURIComponent(user);
  if (password) target.password = decodeURIComponent(password);
  if (kind === 'sentinel') {
    if (parts.length < 1 || parts.length > 2) throw invalid('a Sentinel URL ends in /master-name or /master-name/db');
    target.name = decodeURIComponent(parts[0]!);
    if (parts[1] !== undefined) {
      if (!/^\d{1,2}$/.test(parts[1])) throw invalid('the database is a number');
      target.db = Number(parts[1]);
    }
  } else if (parts.length > 0) {
    throw invalid('a Cluster URL has no path (Cluster has only database 0)');
  }
  return target;
}
