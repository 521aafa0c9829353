#!/usr/bin/env node
// Offline supply-chain check (SECURITY.md): what `npm ci` will install is pinned, and the one
// third-party native binary vanish runs is the one that was reviewed.
//
// - every package in package-lock.json carries a sha512 integrity (npm ci refuses a tarball that
//   does not match it) and none is fetched from anywhere but the npm registry (no git, no URL);
// - the uWebSockets.js override in package.json and the lockfile agree on
//   @trufflesuite/uws-js-unofficial@20.30.0-unofficial.0 with the integrity below;
// - where it is installed, its loader and its Node 20 (ABI 115) Linux binaries hash to the values
//   below (a changed binary under an unchanged version fails here).
//
// Usage: node scripts/audit-lockfile.mjs [repository root]; exits 1 and names each problem.
// `npm audit signatures` does the registry-signature part online, where sigstore's TUF
// repository is reachable; this check needs no network.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const UWS = {
  spec: 'npm:@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0',
  name: '@trufflesuite/uws-js-unofficial',
  version: '20.30.0-unofficial.0',
  integrity: 'sha512-r5X0aOQcuT6pLwTRLD+mPnAM/nlKtvIK4Z+My++A8tTOR0qTjNRx8UB8jzRj3D+p9PMAp5LnpCUUGmz7/TppwA==',
  sha256: {
    'src/uws.js': '409392a7d8163c0b346e58b0ce27cbc3c820460d5f68807aa25163abca6d627b',
    'binaries/uws_linux_x64_115.node': 'f158fb441f7e2e37b3ab9a56782fe37f4c0d33b5cd32e96ee5c0120ce7db7ced',
    'binaries/uws_linux_arm64_115.node': 'fa46518766a985c6a79daef039f40cccd8e98e9a288f2ceaf31a0a18901bbfd5',
  },
};
const REGISTRY = 'https://registry.npmjs.org/';

const root = resolve(process.argv[2] ?? '.');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const problems = [];
let checked = 0;

if (lock.lockfileVersion !== 3) problems.push(`lockfileVersion is ${lock.lockfileVersion}, expected 3`);
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path === '' || entry.link) continue; // the root and the workspace links
  if (!path.includes('node_modules/')) continue; // the workspaces themselves
  checked++;
  if (typeof entry.integrity !== 'string' || !/^sha512-[A-Za-z0-9+/]{86}==$/.test(entry.integrity)) {
    problems.push(`${path}: no sha512 integrity`);
  }
  if (entry.resolved !== undefined && !String(entry.resolved).startsWith(REGISTRY)) {
    problems.push(`${path}: resolved from ${entry.resolved}, not the npm registry`);
  }
}

if (manifest.overrides?.['uWebSockets.js'] !== UWS.spec) {
  problems.push(`package.json overrides uWebSockets.js with ${manifest.overrides?.['uWebSockets.js']}, expected ${UWS.spec}`);
}
const uws = lock.packages?.['node_modules/uWebSockets.js'];
if (!uws) problems.push('package-lock.json has no node_modules/uWebSockets.js');
else {
  if (uws.name !== UWS.name || uws.version !== UWS.version) problems.push(`uWebSockets.js is locked to ${uws.name}@${uws.version}`);
  if (uws.integrity !== UWS.integrity) problems.push(`uWebSockets.js integrity changed: ${uws.integrity}`);
}
const installed = join(root, 'node_modules', 'uWebSockets.js');
let hashed = 0;
if (existsSync(installed)) {
  for (const [file, expected] of Object.entries(UWS.sha256)) {
    const at = join(installed, file);
    if (!existsSync(at)) {
      problems.push(`installed uWebSockets.js lacks ${file}`);
      continue;
    }
    const actual = createHash('sha256').update(readFileSync(at)).digest('hex');
    if (actual !== expected) problems.push(`installed uWebSockets.js ${file} has sha256 ${actual}, expected ${expected}`);
    hashed++;
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(`audit:lockfile: ${p}`);
  process.exit(1);
}
console.log(
  `audit:lockfile: ${checked} packages pinned by sha512 from the npm registry; uWebSockets.js = ${UWS.name}@${UWS.version} (integrity pinned${hashed ? `, ${hashed} installed files hashed` : ', not installed'})`,
);
