// Prints the raw and gzip -9 sizes of the package's wasm and JavaScript (a markdown table).
// Usage: node scripts/sizes.mjs [pkg-dir] [--budget KB]; with --budget it exits 1 when the gzip
// total exceeds KB kilobytes (1 KB = 1024 bytes).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const args = process.argv.slice(2);
const at = args.indexOf("--budget");
const budgetKB = at >= 0 ? Number(args.splice(at, 2)[1]) : undefined;
if (budgetKB !== undefined && !(budgetKB > 0)) {
  console.error("sizes.mjs: --budget needs a positive number of kilobytes");
  process.exit(2);
}
const dir = args[0] ?? "pkg";
const files = [];
const walk = (d) => {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(wasm|js)$/.test(name)) files.push(p);
  }
};
walk(dir);
let raw = 0, gz = 0;
console.log("| file | raw bytes | gzip bytes |\n|---|---:|---:|");
for (const f of files.sort()) {
  const data = readFileSync(f);
  const g = gzipSync(data, { level: 9 }).length;
  raw += data.length; gz += g;
  console.log(`| ${f.slice(dir.length + 1)} | ${data.length} | ${g} |`);
}
console.log(`| **total** | ${raw} | ${gz} |`);
if (budgetKB !== undefined) {
  const total = (gz / 1024).toFixed(1);
  if (gz > budgetKB * 1024) {
    console.error(`package is ${total} KB gzip, over the ${budgetKB} KB budget`);
    process.exit(1);
  }
  console.log(`\npackage is ${total} KB gzip, within the ${budgetKB} KB budget`);
}
