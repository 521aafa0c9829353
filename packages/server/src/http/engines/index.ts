import { createRequire } from 'node:module';
import type { NativeCheck } from './common.js';

export type { EngineName, Handle, HttpEngine, NativeCheck } from './common.js';
export { startHyperExpress } from './hyper-express.js';
export { startNodeHttp } from './node.js';

/**
 * Checks that uWebSockets.js (hyper-express's engine) loaded its native binding.
 *
 * @remarks On a Node version it ships no binary for, it silently falls back to a
 * JavaScript shim that crashes hyper-express; this detects that before serving.
 * @returns `ok` and a reason for the log
 */
export function checkNativeUws(): NativeCheck {
  try {
    const uws = createRequire(import.meta.url)('uWebSockets.js') as { us_listen_socket_close?: unknown };
    if (String(uws.us_listen_socket_close).includes('[native code]')) {
      return { ok: true, reason: 'uWebSockets.js native binding loaded' };
    }
    return { ok: false, reason: `uWebSockets.js has no native binding for Node ${process.versions.node}` };
  } catch (err) {
    return { ok: false, reason: `uWebSockets.js failed to load on Node ${process.versions.node}: ${(err as Error).message}` };
  }
}
