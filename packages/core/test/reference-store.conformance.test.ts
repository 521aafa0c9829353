import { describe, it } from 'vitest';
import { runStoreConformance } from '../src/testing/index.js';
import { ReferenceStore } from './helpers/reference-store.js';

// The store core's tests run on must itself meet the contract. One instance per namespace.
const byNamespace = new Map<string, ReferenceStore>();

runStoreConformance({
  name: 'ReferenceStore',
  runner: { describe, it },
  createStore: ({ namespace }) => {
    let store = byNamespace.get(namespace);
    if (!store) {
      store = new ReferenceStore();
      byNamespace.set(namespace, store);
    }
    return store;
  },
});
