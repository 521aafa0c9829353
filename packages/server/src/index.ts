export { loadConfig, parseRedisUrl, SETTINGS, type RedisTarget, type EngineChoice, type LogLevel, type ServerConfig, type StoreKind } from './config.js';
export { checkNativeUws, startHyperExpress, startNodeHttp, type EngineName, type HttpEngine, type NativeCheck } from './engines.js';
export { errorBody, HTTP_STATUS, HttpError, toErrorReply, type ErrorReply, type HttpErrorCode } from './http-errors.js';
export { createLogger, type Logger } from './logger.js';
export { startServer, type RunningServer, type StartOptions } from './main.js';
export { createApiHandler, createBodyLimit, JSON_HEADERS, standaloneErrorReply, REVEAL_BODY_LIMIT, SECURITY_HEADERS, type ApiOptions, type ApiReply, type ApiRequest } from './routes.js';
export { createBackendFromConfig, createMemoryRateLimiter, createRedisClient, createStoreFromConfig, mongoDatabaseName, type Backend, type StoreFromConfigOptions } from './store-from-config.js';
export { ASSET_CACHE_CONTROL, createWebHandler, limitsBody, loadWebSite, PAGE_CSP, revealByKeyFields, webDistDir, type WebSite } from './web.js';
