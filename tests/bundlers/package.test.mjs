// The packed tarball is a well-formed npm package: publint --strict (exports, files, fields) and
// Are The Types Wrong (every entry point's typings resolve; ESM-only profile, as the package is).
// Run: tests/bundlers/run.sh (after scripts/build).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const tarball = readdirSync(ROOT).find((f) => /^chat-sdk-wasm-.*\.tgz$/.test(f));
const bin = (name) => join(HERE, "node_modules/.bin", name);
const run = (cmd, args) => spawnSync(cmd, args, { cwd: HERE, encoding: "utf8", timeout: 120_000 });

test("the tarball exists (scripts/build runs scripts/pack)", () => {
  assert.ok(tarball, "no chat-sdk-wasm-*.tgz at the repository root");
});

test("publint --strict finds nothing in the installed package", () => {
  const r = run(bin("publint"), ["run", "--strict", "--pack", "false", join(HERE, "node_modules/chat-sdk-wasm")]);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout, /warning|suggestion|error/i, r.stdout);
});

test("attw --profile esm-only: the typings of '.', './react' and './vue' resolve", () => {
  const r = run(bin("attw"), [join(ROOT, tarball), "--profile", "esm-only", "--format", "table-flipped"]);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  for (const entry of ["chat-sdk-wasm", "chat-sdk-wasm/react", "chat-sdk-wasm/vue"]) {
    assert.match(r.stdout, new RegExp(entry.replace("/", "\\/")), `attw did not check ${entry}:\n${r.stdout}`);
  }
});

test("the tarball ships LICENSE, README.md and the framework glue", () => {
  const r = run("tar", ["-tzf", join(ROOT, tarball)]);
  const files = r.stdout.split("\n");
  for (const f of ["LICENSE", "README.md", "index.js", "index.d.ts", "react.js", "react.d.ts", "vue.js", "vue.d.ts",
    "chat_sdk_bg.wasm", "package.json"]) {
    assert.ok(files.includes(`package/${f}`), `package/${f} missing from ${tarball}:\n${r.stdout}`);
  }
});

test("the react and vue typings type-check an app's use with tsc --strict (and refuse wrong use)", () => {
  const r = run(bin("tsc"), ["--noEmit", "-p", join(HERE, "types")]);
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}\n${r.stderr}`);
});

test("docs/api.md names every export, method, option, event and error code of the typings", async () => {
  const { readFileSync } = await import("node:fs");
  const doc = readFileSync(join(ROOT, "docs/api.md"), "utf8");
  const names = new Set();
  for (const file of ["index.d.ts", "react.d.ts", "vue.d.ts"]) {
    const dts = readFileSync(join(ROOT, "pkg-template", file), "utf8").replace(/\/\*\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    for (const [, name] of dts.matchAll(/^\s*(?:export\s+)?(?:declare\s+)?(?:class|interface|function|const)\s+(\w+)/gm)) names.add(name);
    for (const [, name] of dts.matchAll(/^\s+(?:static\s+)?(\w+)\??[(:]/gm)) names.add(name);
  }
  for (const internal of ["UseChatSDKResult", "UseConversationsResult", "UseChatSDKOptions", "ChatOptions",
    "AdvancedMsgListener", "constructor", "input"]) names.delete(internal);
  assert.ok(names.size > 50, `parsed only ${names.size} names`);
  const missing = [...names].filter((n) => !doc.includes(n));
  assert.deepEqual(missing, [], "named in the typings but not in docs/api.md");
});
