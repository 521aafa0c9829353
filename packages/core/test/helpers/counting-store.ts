import type { SecretRecord, SecretStore } from '../../src/index.js';

type Method = Exclude<keyof SecretStore, never>;

/**
 * Wraps a real store and counts every call, so tests can prove "no store I/O".
 * `override` replaces one method's behaviour (to simulate a failing backend).
 */
export class CountingStore implements SecretStore {
  readonly calls: Record<Method, number> = {
    create: 0,
    reserve: 0,
    claim: 0,
    burnIfExhausted: 0,
    delete: 0,
    purgeExpired: 0,
    ping: 0,
    close: 0,
  };
  override: Partial<{ [M in Method]: SecretStore[M] }> = {};

  constructor(readonly inner: SecretStore) {}

  get total(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  #call<M extends Method>(m: M, args: Parameters<SecretStore[M]>): ReturnType<SecretStore[M]> {
    this.calls[m]++;
    const fn = (this.override[m] ?? this.inner[m].bind(this.inner)) as (...a: Parameters<SecretStore[M]>) => ReturnType<SecretStore[M]>;
    return fn(...args);
  }

  create(record: SecretRecord) {
    return this.#call('create', [record]);
  }
  reserve(id: Buffer, now: number) {
    return this.#call('reserve', [id, now]);
  }
  claim(id: Buffer, iv: Buffer, now: number) {
    return this.#call('claim', [id, iv, now]);
  }
  burnIfExhausted(id: Buffer) {
    return this.#call('burnIfExhausted', [id]);
  }
  delete(id: Buffer) {
    return this.#call('delete', [id]);
  }
  purgeExpired(now: number) {
    return this.#call('purgeExpired', [now]);
  }
  ping() {
    return this.#call('ping', []);
  }
  close() {
    return this.#call('close', []);
  }
}
