// Fails the build when the pages' JavaScript exceeds the budget (gzipped), or when a page has
// inline script or style (the CSP forbids both). Prints what it measured.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 35 * 1024;
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const assets = join(dist, 'assets');

let total = 0;
const lines = [];
for (const name of readdirSync(assets)
  .filter((n) => n.endsWith('.js'))
  .sort()) {
  const bytes = gzipSync(readFileSync(join(assets, name)), { level: 9 }).length;
  total += bytes;
  lines.push(`  ${name}: ${bytes} B gzipped`);
}
const problems = [];
for (const page of ['index.html', 's/index.html']) {
  const html = readFileSync(join(dist, page), 'utf8');
  if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html)) problems.push(`${page} has an inline <script>`);
  if (/<style[\s>]/i.test(html) || /\sstyle=/i.test(html)) problems.push(`${page} has an inline style`);
  if (/(?:src|href)="(?:https?:)?\/\//i.test(html)) problems.push(`${page} loads something from another origin`);
}
console.log(`web JS budget: ${total} B gzipped for both pages (budget ${BUDGET_BYTES} B = 35 KB)\n${lines.join('\n')}`);
if (total > BUDGET_BYTES) problems.push(`JavaScript is ${total} B gzipped, over the ${BUDGET_BYTES} B budget`);
if (problems.length) {
  console.error(`web build check FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
