// Prints the raw and gzip sizes of the package's wasm and JavaScript (a markdown table).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const dir = process.argv[2] ?? "pkg";
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
