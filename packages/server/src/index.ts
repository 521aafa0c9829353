/**
 * `@vanish/server`: the vanish HTTP server, for apps that start it in-process.
 *
 * @remarks Most people run the `vanish serve` command instead. Everything else in this
 * package is internal and may change in any release.
 * @packageDocumentation
 */
export { loadConfig, SETTINGS, type EngineChoice, type LogLevel, type ServerConfig, type StoreKind } from './config/index.js';
export type { EngineName } from './http/engines/index.js';
export type { HttpErrorCode } from './http/errors.js';
export { startServer, type RunningServer, type StartOptions } from './main.js';
