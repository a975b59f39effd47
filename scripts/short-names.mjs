// Gives the wasm's imports and exports one- or two-letter names, in the wasm and in the glue that
// uses them. wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` and wasm-opt leaves
// such names alone (they are the wasm's interface); the hex digits cannot be compressed, and each
// name is written twice (wasm and glue): about 2 KB of the package's gzip size.
//
// Usage: node scripts/short-names.mjs <pkg-dir> (after wasm-opt, before esbuild). Runs
// `wasm-opt --minify-imports-and-exports-and-modules` on <pkg-dir>/chat_sdk_bg.wasm and rewrites
// chat_sdk.js (the import object and every `wasm.<export>`) and chat_sdk_bg.wasm.d.ts (the
// export types) to match (scripts/build bundles chat_sdk.js and ships no chat_sdk.d.ts); exits 1, leaving the files alone, when
// the glue does not have the shape this expects.
import { execFileSync } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "pkg";
const wasmPath = join(dir, "chat_sdk_bg.wasm");
const gluePath = join(dir, "chat_sdk.js");
const GLUE_MODULE = "./chat_sdk_bg.js";
const fail = (why) => {
  console.error(`short-names.mjs: ${why}`);
  process.exit(1);
};

const features = ["bulk-memory", "nontrapping-float-to-int", "sign-ext", "reference-types",
  "multivalue", "mutable-globals"].map((f) => `--enable-${f}`);
const out = `${wasmPath}.short`;
// The mapping is printed as JSON, but with trailing commas.
const printed = execFileSync("wasm-opt", ["--minify-imports-and-exports-and-modules",
  ...features, wasmPath, "-o", out], { encoding: "utf8" });
const map = JSON.parse(printed.replace(/,(\s*[\]}])/g, "$1"));

const modules = new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(out)))
  .map((i) => i.module));
if (modules.size !== 1) fail(`expected one import module after minifying, got ${[...modules]}`);
const [module] = modules;

let glue = readFileSync(gluePath, "utf8");
const count = (re) => (glue.match(re) ?? []).length;

// Imports: the glue's own ones are keys of `import0`; the others come from snippet modules that
// the glue imports whole (`import * as importN from "<module>"`).
const added = [];
for (const [from, name, short] of map.imports) {
  if (from === GLUE_MODULE) {
    const key = new RegExp(`^(\\s+)${name}:`, "m");
    if (count(new RegExp(`^\\s+${name}:`, "gm")) !== 1) fail(`import ${name} is not one key`);
    glue = glue.replace(key, `$1${short}:`);
  } else {
    const path = from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const ns = glue.match(new RegExp(`import \\* as (\\w+) from ["']${path}["']`));
    if (!ns) fail(`no namespace import of ${from}`);
    added.push(`${short}: ${ns[1]}.${name},`);
  }
}
const head = /const import0 = \{\n(\s+)__proto__: null,\n/;
if (!head.test(glue)) fail("no `const import0 = { __proto__: null,`");
glue = glue.replace(head, (m, indent) => m + added.map((a) => indent + a + "\n").join(""));
const imports = /return \{\n\s+__proto__: null,\n\s+"\.\/chat_sdk_bg\.js": import0,\n(\s+"[^"]+": import\d+,\n)*\s+\};/;
if (!imports.test(glue)) fail("no `return { __proto__: null, \"./chat_sdk_bg.js\": import0, … }`");
glue = glue.replace(imports, `return { ${JSON.stringify(module)}: import0 };`);

// Exports: the glue reaches every one as `wasm.<name>`.
const exports = new Map(map.exports);
glue = glue.replace(/\bwasm\.(\w+)\b/g, (m, name) => {
  if (!exports.has(name)) fail(`the glue uses wasm.${name}, which the wasm does not export`);
  return `wasm.${exports.get(name)}`;
});
for (const name of exports.keys()) {
  if (count(new RegExp(`\\b${name}\\b`, "g")) > count(new RegExp(`wasm\\.${name}\\b`, "g"))) {
    // Named other than through `wasm.`: only the JS wrappers of closures' invoke shims, which
    // carry the export's name as their own (local to the glue, so left as they are).
    if (!/^wasm_bindgen__convert__closures_/.test(name)) fail(`the glue names ${name} directly`);
  }
}

// The types of `init()`'s result and of the wasm module list the exports by name.
const renameTypes = (path, re) => {
  const text = readFileSync(path, "utf8").replace(re, (m, pre, name, post) =>
    exports.has(name) ? pre + exports.get(name) + post : m);
  writeFileSync(path, text);
};
writeFileSync(gluePath, glue);
renameTypes(join(dir, "chat_sdk_bg.wasm.d.ts"), /(export const )(\w+)(:)/g);
renameSync(out, wasmPath);
