import { ConfigurationError } from '@vanish/core';

/** The optional packages a store may need, with the version range the server is tested with. */
const DRIVERS = {
  'better-sqlite3': { range: '12', store: 'sqlite' },
  ioredis: { range: '6', store: 'redis' },
  mongodb: { range: '7', store: 'mongodb' },
} as const;

/** A store driver package the server loads only when the configured store needs it. */
export type DriverName = keyof typeof DRIVERS;

function isMissing(err: unknown, name: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes(name);
}

/**
 * Loads a store's driver on first use, so choosing one store never loads another's
 * (choosing Redis does not load the better-sqlite3 binding).
 *
 * @param name - the package
 * @param load - the dynamic import (written out by the caller so bundlers see it)
 * @returns the module
 * @throws {@link ConfigurationError} naming the package to install when it is missing
 */
export async function loadDriver<T>(name: DriverName, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (!isMissing(err, name)) throw err;
    const { range, store } = DRIVERS[name];
    throw new ConfigurationError(
      `VANISH_STORE=${store} needs the "${name}" package, which is not installed. Add it to the app: npm install ${name}@${range}`,
    );
  }
}
