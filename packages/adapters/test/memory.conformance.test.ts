import { describe, it } from 'vitest';
import { runStoreConformance } from '@vanish/core/testing';
import { MemoryStore } from '@vanish/adapters/memory';

// A MemoryStore is its own namespace: the same namespace gets the same instance back.
const byNamespace = new Map<string, MemoryStore>();

runStoreConformance({
  name: 'MemoryStore',
  runner: { describe, it },
  createStore: ({ namespace }) => {
    let store = byNamespace.get(namespace);
    if (!store) {
      store = new MemoryStore({ purgeIntervalMs: 0 });
      byNamespace.set(namespace, store);
    }
    return store;
  },
});
