// Summarises a .cpuprofile: self time by module and the top functions by self time.
// `node scripts/bench/summarize.mjs file.cpuprofile [requests]` or import { summarize }.
import { readFileSync } from 'node:fs';

/** The module a call frame belongs to: an npm package, a vanish package, a node internal, or V8's own. */
function moduleOf({ url, functionName }) {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const pkg = /packages\/([^/]+)\/dist\//.exec(url);
  if (pkg) return `@vanish/${pkg[1]}`;
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (internal) return `node:${internal[1]}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * @param {{nodes: {id:number, callFrame:{functionName:string,url:string,lineNumber:number}}[], samples:number[], timeDeltas:number[], startTime:number, endTime:number}} profile
 * @param {number} [requests] answered requests, for µs per request
 * @returns {string} markdown
 */
export function summarize(profile, requests) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const mods = new Map();
  const fns = new Map();
  for (const [id, t] of self) {
    const cf = byId.get(id).callFrame;
    if (cf.functionName === '(idle)') continue;
    const m = moduleOf(cf);
    mods.set(m, (mods.get(m) ?? 0) + t);
    const f = `${cf.functionName || '(anonymous)'} — ${m}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fns.set(f, (fns.get(f) ?? 0) + t);
  }
  const row = ([name, t]) => `| ${name} | ${((t / busy) * 100).toFixed(1)} % | ${requests ? (t / requests).toFixed(1) : ''} |`;
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(row)
      .join('\n');
  return [
    `Main thread busy ${((busy / total) * 100).toFixed(0)} % of ${(total / 1e6).toFixed(1)} s${requests ? `; ${(busy / requests).toFixed(0)} µs of main-thread CPU per request` : ''}.`,
    '',
    '### self time by module (share of busy time)',
    '',
    '| module | share | µs/request |',
    '|---|---:|---:|',
    top(mods, 20),
    '',
    '### top functions by self time',
    '',
    '| function — module:line | share | µs/request |',
    '|---|---:|---:|',
    top(fns, 25),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(summarize(JSON.parse(readFileSync(process.argv[2], 'utf8')), Number(process.argv[3] ?? 0) || undefined));
}
