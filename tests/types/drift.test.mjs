// Typings drift: what pkg/index.d.ts declares must match what the built package exports (ErrorCode,
// the classes' methods) and what the core calls (listener method names in crates/core/src/event.rs),
// and the README's error table must match the core's. Needs pkg/ (scripts/build).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PKG = join(ROOT, "pkg");
const read = (p) => readFileSync(join(ROOT, p), "utf8");

let pkg;
let dtsText;
let dts; // { classes: {name: {methods, statics}}, interfaces: {name: [methods]}, errorCode: {NAME: n} }
before(async () => {
  pkg = await import(pathToFileURL(join(PKG, "index.js")).href);
  await pkg.default(readFileSync(join(PKG, "chat_sdk_bg.wasm")));
  dtsText = readFileSync(join(PKG, "index.d.ts"), "utf8");
  dts = parseTypings(dtsText);
});

function parseTypings(text) {
  const sf = ts.createSourceFile("index.d.ts", text, ts.ScriptTarget.Latest, true);
  const out = { classes: {}, interfaces: {}, errorCode: null };
  const isStatic = (m) => (ts.getModifiers(m) ?? []).some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
  const isPrivate = (m) => (ts.getModifiers(m) ?? []).some((x) => x.kind === ts.SyntaxKind.PrivateKeyword);
  for (const st of sf.statements) {
    if (ts.isClassDeclaration(st)) {
      const methods = st.members.filter((m) => ts.isMethodDeclaration(m) && !isPrivate(m));
      out.classes[st.name.text] = {
        methods: methods.filter((m) => !isStatic(m)).map((m) => m.name.getText(sf)).sort(),
        statics: methods.filter(isStatic).map((m) => m.name.getText(sf)).sort(),
      };
    } else if (ts.isInterfaceDeclaration(st)) {
      out.interfaces[st.name.text] = st.members.filter((m) => ts.isMethodSignature(m)).map((m) => m.name.getText(sf)).sort();
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        if (d.name.getText(sf) !== "ErrorCode") continue;
        // Readonly<{ NAME: 2500; ... }>
        let t = d.type;
        if (ts.isTypeReferenceNode(t) && t.typeArguments?.length === 1) t = t.typeArguments[0];
        assert.ok(ts.isTypeLiteralNode(t), "ErrorCode is declared as Readonly<{ NAME: number literal }>");
        out.errorCode = Object.fromEntries(t.members.map((m) => [m.name.getText(sf), Number(m.type.literal.text)]));
      }
    }
  }
  return out;
}

// The core's error table: `Name = 2500, "NAME";` rows of the error_codes! macro.
function coreErrorTable() {
  const src = read("crates/core/src/error.rs");
  const rows = [...src.matchAll(/^\s*\w+ = (\d+), "([A-Z_]+)";/gm)];
  assert.ok(rows.length >= 10, "error rows found in error.rs");
  return Object.fromEntries(rows.map((m) => [m[2], Number(m[1])]));
}

// The core's listener names, grouped by the registry they go to (Event::name / Event::channel).
function coreListenerNames() {
  const src = read("crates/core/src/event.rs");
  const body = (fn) => src.slice(src.indexOf(`pub fn ${fn}(`), src.indexOf("\n    }\n", src.indexOf(`pub fn ${fn}(`)));
  const names = Object.fromEntries([...body("name").matchAll(/Event::(\w+)[^=]*=> "(on\w+)"/g)].map((m) => [m[1], m[2]]));
  const byChannel = {};
  let pending = [];
  for (const m of body("channel").matchAll(/Event::(\w+)|=> Channel::(\w+)/g)) {
    if (m[1]) pending.push(m[1]);
    else { (byChannel[m[2]] ??= []).push(...pending.map((v) => names[v])); pending = []; }
  }
  assert.ok(Object.keys(names).length >= 10, "listener names found in event.rs");
  for (const k of Object.keys(byChannel)) byChannel[k].sort();
  return byChannel;
}

const runtimeMethods = (cls) => Object.getOwnPropertyNames(cls.prototype)
  .filter((n) => n !== "constructor" && !n.startsWith("__") && typeof Object.getOwnPropertyDescriptor(cls.prototype, n).value === "function")
  .sort();
const runtimeStatics = (cls) => Object.getOwnPropertyNames(cls)
  .filter((n) => !["length", "name", "prototype"].includes(n) && !n.startsWith("__") && typeof cls[n] === "function")
  .sort();

test("ErrorCode: the package's object, index.d.ts and the core's table agree (names and numbers)", () => {
  const core = coreErrorTable();
  assert.deepEqual({ ...pkg.ErrorCode }, core, "package ErrorCode vs crates/core/src/error.rs");
  assert.deepEqual(dts.errorCode, core, "index.d.ts ErrorCode vs crates/core/src/error.rs");
  assert.ok(Object.isFrozen(pkg.ErrorCode), "ErrorCode is frozen (declared Readonly)");
});

test("README's error-code table lists exactly the core's codes", () => {
  const readme = read("README.md");
  const section = readme.slice(readme.indexOf("## Error codes"), readme.indexOf("\n## ", readme.indexOf("## Error codes") + 3));
  const rows = Object.fromEntries([...section.matchAll(/^\| (\d+) \| ([A-Z_]+) \|/gm)].map((m) => [m[2], Number(m[1])]));
  assert.deepEqual(rows, coreErrorTable());
});

test("every class declared in index.d.ts exists in the package with exactly the declared methods", () => {
  const declared = Object.keys(dts.classes).sort();
  assert.deepEqual(declared, ["ChatError", "ChatSDK", "ConversationManager", "MessageManager"]);
  for (const name of declared) {
    const cls = pkg[name];
    assert.equal(typeof cls, "function", `${name} is exported by the package`);
    assert.deepEqual(runtimeMethods(cls), dts.classes[name].methods, `${name} instance methods`);
    assert.deepEqual(runtimeStatics(cls), dts.classes[name].statics, `${name} static methods`);
  }
  // and the package exports nothing the typings do not declare (besides init/default).
  const functions = [...dtsText.matchAll(/^export function (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(functions, ["loadAllConversations"]);
  for (const name of functions) assert.equal(typeof pkg[name], "function", `${name} is exported by the package`);
  const exported = Object.keys(pkg).filter((k) => k !== "default").sort();
  assert.deepEqual(exported, [...declared, ...functions, "ErrorCode"].sort());
});

test("listener interfaces in index.d.ts declare exactly the methods the core calls, in the right listener", () => {
  const core = coreListenerNames();
  assert.deepEqual(dts.interfaces.ConversationListener, core.Conversation, "ConversationListener");
  assert.deepEqual(dts.interfaces.AdvancedMsgListener, core.Message, "AdvancedMsgListener");
  assert.deepEqual(dts.interfaces.SDKListener, core.Sdk, "SDKListener");
});

test("the drift checks notice drift (a declared method and an error code removed from the typings)", () => {
  const text = readFileSync(join(PKG, "index.d.ts"), "utf8");
  const broken = parseTypings(text.replace("  getLoginUser(): string | null;\n", "").replace("  NO_PERMISSION: 10007;\n", ""));
  assert.notDeepEqual(broken.classes.ChatSDK.methods, runtimeMethods(pkg.ChatSDK));
  assert.notDeepEqual(broken.errorCode, coreErrorTable());
});
