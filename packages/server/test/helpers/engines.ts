import { checkNativeUws, type EngineName } from '../../src/http/engines/index.js';

const native = checkNativeUws();
if (!native.ok) {
  // Loud, once per test file: the hyper-express cases cannot run on this Node (see TOOLCHAIN notes).
  console.warn(`SKIPPED hyper-express engine cases: ${native.reason}. The node:http cases run.`);
}

/** The HTTP engines that can serve on this Node: both where uWebSockets.js's binding loads, node:http elsewhere. */
export const ENGINES: readonly EngineName[] = native.ok ? ['hyper-express', 'node'] : ['node'];
