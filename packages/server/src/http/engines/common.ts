import { createServer } from 'node:net';
import type { ApiHandler } from '../types.js';

/** Names of the two HTTP engines. */
export type EngineName = 'hyper-express' | 'node';

/** A listening HTTP server bound to the API. */
export interface HttpEngine {
  readonly name: EngineName;
  /** the port actually bound (useful with port 0) */
  readonly port: number;
  /**
   * Stops accepting connections and waits for in-flight requests, at most `timeoutMs`;
   * then drops what is left.
   */
  close(timeoutMs: number): Promise<void>;
}

/** The API as an engine calls it. */
export type Handle = ApiHandler;

/** Whether uWebSockets.js's native binding loads on this Node, and if not, why. */
export interface NativeCheck {
  ok: boolean;
  reason: string;
}

/** Resolves `true` when `promise` settles within `ms`, `false` otherwise; never rejects. */
export function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}

/**
 * The error both engines raise when the listen address is taken, shaped like node's own
 * (`code: 'EADDRINUSE'`), so the command can say so plainly.
 *
 * @param host - the address
 * @param port - the port
 * @returns the error
 */
export function addressInUse(host: string, port: number): Error & { code: string } {
  return Object.assign(new Error(`${host}:${port} is already in use; stop what listens there or choose another PORT.`), {
    code: 'EADDRINUSE',
  });
}

/**
 * Why a listen that gave no reason failed (uWebSockets.js reports only that it did): node:net
 * tries the same address, and its error says whether the port is in use ({@link addressInUse}),
 * the address is not one of this machine's (`EADDRNOTAVAIL`) or the port is not permitted
 * (`EACCES`).
 *
 * @param host - the address
 * @param port - the port
 * @returns the error to raise
 */
export function explainBindFailure(host: string, port: number): Promise<Error> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? addressInUse(host, port) : err));
    probe.listen(port, host, () => probe.close(() => resolve(new Error(`Could not listen on ${host}:${port}.`))));
  });
}
