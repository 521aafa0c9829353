export {
  makeTestRecord,
  runStoreConformance,
  type ConformanceCase,
  type ConformanceRunner,
  type StoreConformanceOptions,
} from './store-conformance.js';
